"""The one error path (bot/discord_glue/errors.py) and the old bot's behaviour brought back,
on a real DeadlockBot driven through discord.py's dispatch (tests/bot_harness.py)."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord_glue.texts import Common
from bot.features.balancer.cog import BalancerCog
from bot.features.balancer.texts import Balancer
from bot.features.coaching.cog import CoachingCog
from bot.features.rank_voice.texts import RankVoice
from bot.features.tempvoice.cog import TempVoiceCog
from bot.features.tempvoice.texts import TempVoice
from tests.bot_harness import ADMIN, MEMBER, PLAYERS, Harness

HUGE = "99999999999999999999999"  # beyond any 64-bit integer


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_another_bots_command_is_silence_at_debug(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await harness.say(MEMBER, "!rank")
    assert harness.calls == [] and errors_logged(caplog) == []
    assert any("rank" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


@pytest.mark.parametrize("text", ["!dlvs gibtsnicht", "!coaching gibtsnicht"])
async def test_an_unknown_subcommand_logs_no_error(
    harness: Harness, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    await harness.say(ADMIN, text)
    assert errors_logged(caplog) == [] and Common.ERROR not in harness.texts()


async def test_bad_arguments_get_german_usage_and_skip_works(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.say(ADMIN, "!balance end abc")
    assert harness.texts() == [Common.BAD_ARGUMENT.format(usage="!balance end <id> [skip]")]
    harness.calls.clear()
    await harness.say(ADMIN, "!balance end 7 skip")  # the help text's form is understood
    assert harness.texts() == [Balancer.NO_MATCH.format(id="007")]
    assert errors_logged(caplog) == []


async def test_numbers_beyond_64_bits_are_no_match_and_no_member(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.say(ADMIN, f"!balance end {HUGE}")
    assert harness.texts() == [Balancer.NO_MATCH.format(id=HUGE)]
    harness.calls.clear()
    await harness.say(ADMIN, f"!balance manual <@{PLAYERS[0]}> <@{PLAYERS[1]}> <@{PLAYERS[2]}> 99999999999999999999")
    assert harness.texts() == [Balancer.NOT_MEMBERS.format(ids="99999999999999999999")]
    assert errors_logged(caplog) == [] and harness.changes() == []


async def test_the_ban_modal_answers_a_number_beyond_64_bits(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.add_lane(ADMIN)
    await harness.click(ADMIN, "tv_ban")
    await harness.submit(ADMIN, harness.modal(), HUGE)
    assert harness.texts() == [TempVoice.USER_NOT_FOUND]
    assert errors_logged(caplog) == [] and harness.changes() == []


async def test_rrang_info_about_someone_else_or_says_they_are_no_member(harness: Harness) -> None:
    await harness.say(MEMBER, f"!rrang info <@{PLAYERS[0]}>")
    about, rule = harness.texts()[0].split("\n", 1)
    assert about.startswith(f"User {PLAYERS[0]}: ") and rule == RankVoice.BALANCING_RULE
    harness.calls.clear()
    await harness.say(MEMBER, "!rrang info <@100000000000424242>")
    assert harness.texts() == [Common.NOT_A_MEMBER.format(value="<@100000000000424242>")]
    harness.calls.clear()
    await harness.say(MEMBER, "!rrang info")
    assert harness.texts()[0].startswith(f"User {MEMBER}: ")


async def test_a_failing_panel_button_is_answered_and_logged_once(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = harness.bot.get_cog("TempVoice")
    assert isinstance(cog, TempVoiceCog)

    async def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(cog.service.panel, "set_region", broken)
    await harness.click(MEMBER, "tv_region_de")
    assert harness.texts() == [Common.ERROR]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]) == 1


async def test_a_failing_coaching_step_is_answered(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = harness.bot.get_cog("Coaching")
    assert isinstance(cog, CoachingCog)

    async def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(cog.service, "answer", broken)
    await harness.click(MEMBER, "dl:rank:1", select=["oracle"])  # a dynamic item: discord.py would only log it
    assert harness.texts() == [Common.ERROR]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]) == 1


async def test_a_failing_command_is_answered_once(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog = harness.bot.get_cog("Balancer")
    assert isinstance(cog, BalancerCog)

    async def broken(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(cog.service, "running", broken)
    await harness.say(MEMBER, "!balance matches")
    await harness.slash(MEMBER, ["balance", "matches"])
    assert harness.texts() == [Common.ERROR, Common.ERROR]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]) == 2


async def test_application_commands_take_the_one_path(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    @app_commands.command(name="kaputt", description="x")
    async def broken(interaction: discord.Interaction) -> None:
        raise RuntimeError("bug")

    @app_commands.command(name="geheim", description="x")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("geheim")

    harness.bot.tree.add_command(broken)
    harness.bot.tree.add_command(secret)
    await harness.slash(MEMBER, ["kaputt"])
    await harness.slash(MEMBER, ["geheim"])
    assert harness.texts() == [Common.ERROR, Common.NEEDS_MANAGE_GUILD]
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]) == 1

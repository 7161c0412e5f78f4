"""Wiring of rank voice and the balancer into discord.py: commands, slash commands, the selection view."""

from __future__ import annotations

import dataclasses
import random
from typing import Any, cast

import discord
import pytest

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.features.balancer.cog import BalancerCog
from bot.features.balancer.panel_items import selection_view
from bot.features.balancer.panels import Selection
from bot.features.balancer.service import MatchService
from bot.features.balancer.settings import balancer_config
from bot.features.rank_voice.settings import rank_voice_config
from bot.shared.common import HANDLED_ELSEWHERE, Reply


@dataclasses.dataclass
class FakeMember:
    id: int
    display_name: str


@dataclasses.dataclass
class FakeResponse:
    sent: list[str] = dataclasses.field(default_factory=list)

    async def send_message(self, text: str, **_: Any) -> None:
        self.sent.append(text)


@dataclasses.dataclass
class FakeInteraction:
    user: FakeMember
    response: FakeResponse = dataclasses.field(default_factory=FakeResponse)


def test_selection_view_fits_23_players() -> None:
    """The old bot crashed from 21 players on (rows overflowed); who may click: test_balancer_panels.py."""
    view = selection_view(Selection(1, 1, tuple(range(100, 130)), frozenset()), str)
    assert len(view.children) == 25
    assert all((item.row or 0) <= 4 for item in view.children)


def test_feature_config_from_environment() -> None:
    assert rank_voice_config({}) is None and balancer_config({}) is None
    rv = rank_voice_config({"RANKVOICE_GRIND_CATEGORY_IDS": "5", "TEMPVOICE_STAGING_CHANNEL_IDS": "9"})
    assert rv is not None and rv.grind_category_ids == {5} and 9 in rv.excluded_channel_ids  # staging never managed
    bal = balancer_config({"BALANCER_MATCH_CATEGORY_IDS": "7,8", "BALANCER_HOST_ROLE_IDS": "3"})
    assert bal is not None and bal.match_category_ids == (7, 8) and bal.host_role_ids == {3}
    with pytest.raises(ValueError):
        balancer_config({"BALANCER_MATCH_CATEGORY_IDS": "7", "BALANCER_STALE_HOURS": "0"})


async def test_bot_registers_prefix_and_slash_commands(db_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANKVOICE_RANKED_CATEGORY_IDS", "1")
    monkeypatch.setenv("BALANCER_MATCH_CATEGORY_IDS", "2")
    bot = DeadlockBot(SqliteDatabase(db_path))
    await bot.setup_hook()
    try:
        balance = bot.get_command("balance")
        assert balance is not None and {"bal", "teams"} <= set(balance.aliases)
        assert bot.get_command("bal") is balance and bot.get_command("teams") is balance
        subcommands = {c.name for c in getattr(balance, "commands", [])}
        assert {"auto", "start", "manual", "end", "cleanup", "matches", "status"} <= subcommands
        rrang = bot.get_command("rrang")
        assert {c.name for c in getattr(rrang, "commands", [])} >= {
            "status",
            "anker",
            "toggle",
            "vcstatus",
            "info",
            "aktualisieren",
            "rollen",
            "kanaele",
        }
        slash = {c.name for c in bot.tree.get_commands()}
        assert {"balance", "rrang"} <= slash  # hybrid: also slash commands
    finally:
        await bot.close()


async def test_a_match_another_process_started_is_not_announced_twice() -> None:
    cog = BalancerCog(cast(Any, None), cast(MatchService, None), random.Random(3))
    sent: list[str] = []

    async def send(text: str = "", **_: Any) -> None:
        sent.append(text)

    guild = cast(discord.Guild, None)
    await cog.announce(guild, send, HANDLED_ELSEWHERE)  # the other process announces it
    await cog.announce(guild, send, Reply(False, "Zu wenige Spieler"))
    assert sent == ["Zu wenige Spieler"]


async def test_a_coaching_submission_another_process_handles_gets_no_reply() -> None:
    from bot.features.coaching.cog import _reply

    interaction = FakeInteraction(FakeMember(1, "U"))
    interaction.response.is_done = lambda: False  # type: ignore[attr-defined]
    await _reply(cast(discord.Interaction, interaction), HANDLED_ELSEWHERE)
    await _reply(cast(discord.Interaction, interaction), Reply(True, "Los geht's"))
    assert interaction.response.sent == ["Los geht's"]

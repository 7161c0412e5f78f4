"""The balancer's buttons and embeds: result buttons, the correction's confirmation, the split's embed, paging."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, cast

import discord
import pytest

from bot.app import DeadlockBot
from bot.db import Database, SqliteDatabase
from bot.features.balancer import texts
from bot.features.balancer.embeds import history_embed, split_embed, stats_embed, top_embed
from bot.features.balancer.history import HistoryService
from bot.features.balancer.ratings import seed
from bot.features.balancer.results import Outcome, ResultService
from bot.features.balancer.rules import Player, ValueSource, balance
from bot.features.balancer.service import MatchReport
from bot.features.balancer.views import (
    ConfirmCorrectionView,
    PagerView,
    ResultButton,
    answer_result,
    result_view,
)
from bot.shared.ranks import Rank
from tests.helpers import make_deps
from tests.test_balancer_service import GUILD, add_players, build

R = texts.Results


class FakeGuild:
    def get_member(self, member_id: int) -> None:
        return None


GUILD_OBJ = cast(discord.Guild, FakeGuild())


def test_result_buttons_carry_the_match_in_their_custom_id() -> None:
    view = result_view(42)
    ids = [cast(Any, item).item.custom_id for item in view.children]
    assert ids == ["bal:result:42:amber", "bal:result:42:sapphire", "bal:result:42:aborted"]
    template = ResultButton.__discord_ui_compiled_template__
    found = template.fullmatch(ids[1])
    assert isinstance(found, re.Match) and found["match_id"] == "42" and found["outcome"] == "sapphire"
    assert view.timeout is None  # they keep working as long as the message exists


async def test_a_second_result_asks_the_host_to_confirm_the_correction(db: Database) -> None:
    w = build(db)
    players = add_players(w, 4, w.lobby)
    results = ResultService(make_deps(db, w.world, w.clock), w.service.is_host)
    report = await w.service.start(GUILD, w.host, players)
    assert isinstance(report, MatchReport)
    text, view = await answer_result(results, GUILD, w.host, report.match_id, Outcome.AMBER)
    assert view is None and "4 Spielern" in text
    text, view = await answer_result(results, GUILD, w.host, report.match_id, Outcome.SAPPHIRE)
    assert isinstance(view, ConfirmCorrectionView) and "korrigieren" in text
    assert await view.confirm() == R.CORRECTED.format(id=f"{report.match_id:03d}", outcome=R.OUTCOME["sapphire"])
    text, view = await answer_result(results, GUILD, players[0], report.match_id, Outcome.AMBER)
    assert view is None and text == R.NO_PERMISSION

    history = HistoryService(db, rated_games=1)
    lines, page = await history.player_history(GUILD, players[0])
    embed = history_embed(GUILD_OBJ, "x", lines, page)
    assert "Sapphire hat gewonnen" in (embed.fields[0].name or "") and "Wertung" in (embed.fields[0].value or "")
    rows, info = await history.top(GUILD)
    assert len(rows) == 4 and "1." in (top_embed(GUILD_OBJ, rows, info, 1).description or "")
    stats = stats_embed(GUILD_OBJ, await history.stats(GUILD, players[0]), 1)
    assert [f.name for f in stats.fields] == ["Matches", "Siege", "Wertung", "Trend", "Balanciert nach"]


def test_the_preview_shows_each_players_value_and_the_win_chance() -> None:
    players = [
        Player(
            i,
            5.0 + i / 10,
            source=ValueSource.RATING if i % 2 else ValueSource.RANK,
            skill=seed(Rank(5)),
            rank_label="Archon 2",
        )
        for i in range(1, 7)
    ]
    split = balance(players, random.Random(1))
    embed = split_embed(GUILD_OBJ, split)
    text = " ".join(f.value or "" for f in embed.fields)
    assert "Wertung 5.10 (Archon 2)" in text and "Archon 2 (5.20)" in text and "Siegchance" in text
    for team in (split.team_a, split.team_b):
        values = [p.rating for p in team]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        assert f"Summe {sum(values):.2f} · Ø {mean:.2f} · Varianz {var:.2f}" in text


async def test_pager_turns_within_its_pages() -> None:
    async def fetch(page: int) -> discord.Embed:
        return discord.Embed(title=str(page))

    pager = PagerView(1, 0, 3, fetch)
    assert pager.back.disabled and not pager.forward.disabled
    assert (await pager.turn(1)).title == "1" and (await pager.turn(5)).title == "2"
    assert pager.forward.disabled and not pager.back.disabled


async def test_bot_registers_the_result_and_history_commands(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALANCER_MATCH_CATEGORY_IDS", "2")
    bot = DeadlockBot(SqliteDatabase(db_path))
    await bot.setup_hook()
    try:
        balance_group = bot.get_command("balance")
        subcommands = {c.name for c in getattr(balance_group, "commands", [])}
        assert {"result", "history", "top", "stats"} <= subcommands
        slash = next(c for c in bot.tree.get_commands() if c.name == "balance")
        assert {"result", "history", "top", "stats"} <= {c.name for c in getattr(slash, "commands", [])}
    finally:
        await bot.close()


class FakeResponse:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def send_message(self, text: str, *, view: Any = None, ephemeral: bool = False) -> None:
        assert ephemeral
        self.sent.append((text, view))


class FakeClient:
    def __init__(self, results: ResultService) -> None:
        self.cog = type("Cog", (), {"results": results})()

    def get_cog(self, name: str) -> Any:
        return self.cog if name == "Balancer" else None


class FakeUser:
    def __init__(self, user_id: int) -> None:
        self.id = user_id


class FakeInteraction:
    def __init__(self, client: FakeClient, user_id: int) -> None:
        self.client, self.user, self.guild_id = client, FakeUser(user_id), GUILD
        self.response = FakeResponse()


async def test_clicking_a_result_button_records_the_result(db: Database) -> None:
    """What a click on the match message does after a restart: the button is rebuilt from its
    custom_id and records the result through the balancer cog's ResultService."""
    w = build(db)
    players = add_players(w, 4, w.lobby)
    results = ResultService(make_deps(db, w.world, w.clock), w.service.is_host)
    report = await w.service.start(GUILD, w.host, players)
    assert isinstance(report, MatchReport)
    client = FakeClient(results)
    found = ResultButton.__discord_ui_compiled_template__.fullmatch(f"bal:result:{report.match_id}:sapphire")
    assert found is not None
    click = cast(discord.Interaction, FakeInteraction(client, w.host))
    button = await ResultButton.from_custom_id(click, cast(Any, None), found)
    await button.callback(click)
    text, view = cast(FakeInteraction, click).response.sent[0]
    assert "Sapphire hat gewonnen" in text and view is None
    again = cast(discord.Interaction, FakeInteraction(client, w.host))
    await ResultButton(report.match_id, Outcome.AMBER).callback(again)
    text, view = cast(FakeInteraction, again).response.sent[0]
    assert "korrigieren" in text and isinstance(view, ConfirmCorrectionView)
    stranger = cast(discord.Interaction, FakeInteraction(client, players[0]))
    await ResultButton(report.match_id, Outcome.AMBER).callback(stranger)
    assert cast(FakeInteraction, stranger).response.sent == [(R.NO_PERMISSION, None)]

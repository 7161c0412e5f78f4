"""Live voice status: classification table, watch list contract, one bounded pass for 1,000 members."""

from __future__ import annotations

import json
import logging
import logging.handlers
from pathlib import Path
from typing import cast

import pytest
from discord.ext import commands

from bot.db import Database
from bot.db.metrics import METRICS
from bot.features.voice_status.cog import VoiceStatusCog
from bot.features.voice_status.rules import (
    Decision,
    Observation,
    Presence,
    best_per_member,
    classify,
    decide,
    may_rename,
)
from bot.features.voice_status.service import VoiceStatusConfig, VoiceStatusService
from bot.features.voice_status.settings import voice_status_config
from bot.shared.clock import ManualClock
from bot.shared.rename import RenameScheduler
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps
from tests.other_programs import upsert_presence, upsert_steam_link
from tests.raw_sql import fetch_all
from tests.voice_status_env import ReadyBot


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


NOW = 1_800_000_000
GUILD = 9


def presence(user: int = 1, *, strict: int | None = 0, deadlock: int | None = 1, stage: str | None = None,
             minutes: int | None = None, text: str | None = None, party: str | None = None,
             server: str | None = None, age: int | None = 10, steam: str = "s") -> Presence:  # fmt: skip
    return Presence(user, steam, strict, deadlock, stage, minutes, text, party, server,
                    None if age is None else NOW - age)  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (presence(strict=1, minutes=12, server="srv1"), ("match", 12, "srv1")),
        (presence(stage="match", minutes=3), ("match", 3, "solo:s")),
        (presence(text="Deadlock: Victor (30. Min.)", deadlock=1, stage=None), ("match", 30, "solo:s")),
        (presence(text="Im Match 14 Min", deadlock=None), ("match", 14, "solo:s")),
        (presence(stage="lobby", party="p1"), ("lobby", None, "p1")),
        (presence(deadlock=1), ("lobby", None, "solo:s")),
        (presence(text="Hauptmenü", deadlock=0), ("lobby", None, "solo:s")),
        (presence(deadlock=0), None),  # online but not playing
        (presence(strict=1, minutes=40, age=181), None),  # stale after 180 s
        (presence(strict=1, age=None), None),  # never seen
    ],
)
def test_classification(row: Presence, expected: tuple[str, int | None, str] | None) -> None:
    found = classify(row, NOW)
    assert (None if found is None else (found.state, found.minutes, found.cohort)) == expected


def test_several_accounts_and_cohorts() -> None:
    rows = [
        presence(1, stage="lobby", steam="a1", age=5),
        presence(1, strict=1, minutes=7, server="x", steam="a2", age=50),  # a match beats a fresher lobby
        presence(2, strict=1, minutes=20, server="y", steam="b"),
        presence(3, strict=1, minutes=9, server="x", steam="c"),
        presence(4, stage="lobby", steam="d"),
    ]
    best = best_per_member(rows, NOW)
    assert best[1].state == "match" and best[1].cohort == "x"
    decision = decide(5, best.values())
    # matches beat lobbies; the larger cohort (x: 2 players) beats the longer one (y: minute 20)
    assert decision == Decision("match", " - im Match Min 12 (2/5)", 12, 2, 5)
    assert decide(3, [Observation("lobby", None, "p", NOW)]).suffix == " - in der Lobby"
    assert decide(3, []) == Decision("none", None)
    assert decide(9, [Observation("match", 5, "s", NOW)] * 8).suffix == " - im Match Min 8 (6/6)"


def test_rename_policy() -> None:
    lobby = Decision("lobby", " - in der Lobby")
    early, mid, late = (Decision("match", f" - im Match Min {m} (2/2)", m, 2, 2) for m in (5, 30, 46))
    assert may_rename(None, None, None, lobby, NOW)
    assert not may_rename("lobby", lobby.suffix, NOW - 1000, lobby, NOW)  # never the same name
    assert not may_rename("lobby", lobby.suffix, NOW - 100, early, NOW)  # 6 minutes
    assert may_rename("lobby", lobby.suffix, NOW - 360, early, NOW)
    assert not may_rename("match", early.suffix, NOW - 400, mid, NOW)  # 10 minutes from minute 25
    assert may_rename("match", early.suffix, NOW - 600, mid, NOW)
    assert not may_rename("match", mid.suffix, NOW - 10_000, late, NOW)  # frozen from minute 45
    assert may_rename("match", late.suffix, NOW - 10, lobby, NOW)  # match -> lobby may bypass


def build(db: Database) -> tuple[FakeDiscord, ManualClock, VoiceStatusService, int, list[int]]:
    clock = ManualClock(NOW)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(GUILD)
    category = world.add_category(GUILD, "Lanes")
    channels = [world.add_voice(GUILD, f"Lane {i}", category) for i in range(1, 4)]
    renamer = RenameScheduler(db, world, world, clock)
    service = VoiceStatusService(make_deps(db, world, clock, renamer=renamer), VoiceStatusConfig((category,)))
    return world, clock, service, category, channels


async def link(db: Database, user: int, steam: str, **state: int | str | None) -> None:
    async with db.transaction() as conn:
        await upsert_steam_link(conn, user_id=user, steam_id=steam, name=None, verified=1,
                                                     primary_account=1, updated_at="t")  # fmt: skip
        if state:
            await upsert_presence(
                conn, steam_id=steam, in_deadlock_now=1, in_match_now_strict=int(state.get("strict") or 0),
                deadlock_stage=None, deadlock_minutes=state.get("minutes"), deadlock_localized=None,
                deadlock_party_hint=None, last_server_id=str(state.get("server") or "") or None, last_seen_ts=NOW,
                deadlock_updated_at=NOW,
            )  # fmt: skip


async def watch(db: Database) -> list[tuple[str, int | None, int]]:
    async with db.read() as conn:
        rows = await fetch_all(
            conn, "SELECT steam_id, channel_id, updated_at FROM deadlock_voice_watch ORDER BY steam_id"
        )
    return [(str(s or ""), c, int(u)) for s, c, u in rows]


async def test_passes_keep_the_watch_list_and_names(db: Database) -> None:
    world, clock, service, _, (c1, c2, _c3) = build(db)
    await link(db, 1, "s1", strict=1, minutes=10, server="srv")
    await link(db, 2, "s2", strict=1, minutes=12, server="srv")
    await link(db, 3, "s3")  # linked, no presence yet
    for user, channel in ((1, c1), (2, c1), (3, c2)):
        world.user_moves(GUILD, world.add_member(GUILD, user), channel)

    report = await service.run_pass()
    assert (report.channels, report.members, report.renames) == (3, 3, 1)
    assert await watch(db) == [("s1", c1, NOW), ("s2", c1, NOW), ("s3", c2, NOW)]  # unix seconds
    await service.renamer.run_due()
    assert world.channels[c1].name == "Lane 1 - im Match Min 15 (2/2)"  # the base name is kept
    assert world.channels[c2].name == "Lane 2"

    clock.advance(60)
    world.user_moves(GUILD, 2, None)  # member 2 leaves voice
    await service.run_pass()
    assert await watch(db) == [("s1", c1, NOW + 60), ("s3", c2, NOW + 60)]
    snapshot = await service.snapshot(c1)
    assert snapshot is not None and snapshot.suffix == " - im Match Min 15 (2/2)"  # within the cooldown
    assert snapshot.detail is not None and '"players": 1' in snapshot.detail  # but the wish is recorded

    for user in (1, 3):
        world.user_moves(GUILD, user, None)
    clock.advance(60)
    await service.run_pass()
    assert await watch(db) == []  # nobody in monitored voice: the list empties too


async def test_no_monitored_channel_still_prunes(db: Database) -> None:
    world, _, service, _, channels = build(db)
    async with db.write() as conn:
        await conn.execute("INSERT INTO deadlock_voice_watch VALUES ('old', 1, 1, 5)")
    for channel in channels:
        del world.channels[channel]
    report = await service.run_pass()
    assert report.channels == 0 and await watch(db) == []


async def test_thousand_members_in_one_bounded_pass(db: Database) -> None:
    clock = ManualClock(NOW)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(GUILD)
    category = world.add_category(GUILD, "Lanes")
    channels = [world.add_voice(GUILD, f"Lane {i}", category) for i in range(1, 41)]
    service = VoiceStatusService(make_deps(db, world, clock), VoiceStatusConfig((category,)))
    async with db.transaction() as conn:
        for user in range(1, 1001):
            await upsert_steam_link(conn, user_id=user, steam_id=f"7656{user:013d}", name=None,
                                                         verified=1, primary_account=1, updated_at="t")  # fmt: skip
    for user in range(1, 1001):
        world.user_moves(GUILD, world.add_member(GUILD, user), channels[user % len(channels)])
    METRICS.reset()
    report = await service.run_pass()
    statements = sum(s.calls for s in METRICS.snapshot())
    print(f"\nvoice status pass: {report.members} members in {report.channels} channels, {statements} queries")
    assert report.members == 1000 and report.watched == 1000 and len(await watch(db)) == 1000
    assert statements <= 8  # fixed: clear, insert batch, presence, refresh, prune, statuses, save batch


async def test_trace_is_off_by_default_and_rotates_to_a_file(db: Database, tmp_path: Path) -> None:
    world, _, service, _, (c1, _c2, _c3) = build(db)
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    cog = VoiceStatusCog(cast(commands.Bot, ReadyBot()), service, trace_file=tmp_path / "trace.log")
    await service.run_pass()
    assert not (tmp_path / "trace.log").exists()
    cog.set_trace(True)
    await service.run_pass()
    cog.set_trace(False)
    lines = (tmp_path / "trace.log").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["decision"]["state"] == "none"
    handlers = logging.getLogger("deadlock_bot.voice_status.trace").handlers
    assert not [h for h in handlers if isinstance(h, logging.handlers.RotatingFileHandler)]


def test_voice_status_config() -> None:
    assert voice_status_config({}) is None
    config = voice_status_config({"VOICE_STATUS_CATEGORY_IDS": "1,2", "VOICE_STATUS_INTERVAL_SECONDS": "30"})
    assert config is not None and config.category_ids == (1, 2) and config.interval_seconds == 30

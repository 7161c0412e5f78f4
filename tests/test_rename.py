"""The shared rename scheduler: latest name wins, within Discord's budget, never waiting in a handler."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.db import Database
from bot.discord_glue.ports import NotFound, RateLimited
from bot.shared.clock import ManualClock
from bot.shared.rename import MISSING_GRACE, RenameScheduler, compose
from tests.fakes.discord_world import FakeDiscord


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


GUILD = 1


def world_with_channel(name: str = "Lane 1") -> tuple[FakeDiscord, ManualClock, int]:
    clock = ManualClock(0)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(GUILD)
    return world, clock, world.add_voice(GUILD, name)


async def test_three_features_updating_a_channel_100_times_in_a_minute(db: Database) -> None:
    world, clock, channel = world_with_channel()
    renamer = RenameScheduler(db, world, world, clock)
    statuses = itertools.cycle([" - in der Lobby", " - im Match Min 3 (2/6)", ""])
    ranks = itertools.cycle([" • ab Emissary", " • ab Archon", ""])
    for i in range(100):  # three features, 100 updates each, over 60 seconds
        await renamer.set_part(channel, "base", f"Lane {1 + i % 3}")
        await renamer.set_part(channel, "minrank", next(ranks))
        await renamer.set_part(channel, "status", next(statuses))
        await renamer.run_due()
        clock.advance(1) if i % 5 == 4 else None
    assert clock.now() == 20  # a handful of seconds of "feature traffic"
    for _ in range(60):  # the rest of the hour: the scheduler keeps applying the latest wish
        clock.advance(60)
        await renamer.run_due()
    times = world.renames[channel]
    assert all(sum(1 for t in times if start <= t < start + 600) <= 2 for start in range(0, 3600))
    wanted = compose("Lane 1", {"minrank": " • ab Emissary", "status": " - in der Lobby"})
    assert renamer.wanted_name(channel) == wanted
    assert world.channels[channel].name == wanted
    assert not renamer.is_pending(channel)
    assert len(times) <= 3  # two at once, then one when the budget frees up


async def test_never_renames_to_the_current_name_and_keeps_the_base(db: Database) -> None:
    world, clock, channel = world_with_channel("Rang-Sprachkanal")
    renamer = RenameScheduler(db, world, world, clock)
    await renamer.set_part(channel, "status", " - in der Lobby")  # the base comes from the channel itself
    await renamer.run_due()
    assert world.channels[channel].name == "Rang-Sprachkanal - in der Lobby"
    await renamer.set_part(channel, "status", " - in der Lobby")
    await renamer.run_due()
    await renamer.set_part(channel, "status", None)
    await renamer.set_part(channel, "status", " - in der Lobby")  # back to what it already is
    await renamer.run_due()
    assert world.count("edit_channel") == 1


async def test_rate_limited_and_deleted_channels(db: Database) -> None:
    world, clock, channel = world_with_channel()
    renamer = RenameScheduler(db, world, world, clock)
    world.inject("edit_channel", RateLimited(120))
    await renamer.set_part(channel, "base", "Duo Call")
    await renamer.run_due()
    assert renamer.is_pending(channel) and renamer.next_due() == 120
    clock.advance(120)
    await renamer.run_due()
    assert world.channels[channel].name == "Duo Call"
    world.inject("edit_channel", NotFound("gone"))
    await renamer.set_part(channel, "base", "Trio Call")
    await renamer.run_due()
    assert not renamer.is_pending(channel)  # NotFound: the channel is forgotten, nothing retried
    assert world.channels[channel].name == "Duo Call"
    del world.channels[channel]
    await renamer.set_part(channel, "base", "Lane 9")
    await renamer.run_due()  # missing from the cache: maybe refilled after a fresh IDENTIFY, asked again later
    assert renamer.is_pending(channel) and renamer.next_due() == clock.now() + MISSING_GRACE
    clock.advance(MISSING_GRACE)
    await renamer.run_due()  # still missing: deleted
    assert not renamer.is_pending(channel) and renamer.next_due() is None


def test_compose_fits_discord_limit() -> None:
    assert compose("x" * 120, {"status": " - im Match Min 44 (6/6)"}).endswith(" - im Match Min 44 (6/6)")
    assert len(compose("x" * 120, {"status": " - im Match Min 44 (6/6)"})) == 100
    assert compose("Lane 1", {}) == "Lane 1"


async def test_background_loop_applies_without_waiting_in_the_caller(db: Database) -> None:
    world, clock, channel = world_with_channel()
    renamer = RenameScheduler(db, world, world, clock)
    renamer.start()
    try:
        await renamer.set_part(channel, "base", "Duo Call")  # returns at once; the loop renames
        for _ in range(100):
            if world.channels[channel].name == "Duo Call":
                break
            await asyncio.sleep(0.01)
        assert world.channels[channel].name == "Duo Call"
    finally:
        await renamer.stop()
    await renamer.stop()


async def test_a_restart_keeps_the_parts_and_the_budget(db: Database) -> None:
    """A new scheduler on the same database: the bot's own suffixes are known (replaced, not
    piled up) and the renames of the last 10 minutes still count (no 429 from Discord)."""
    world, clock, channel = world_with_channel("Treffpunkt")
    first = RenameScheduler(db, world, world, clock)
    await first.set_part(channel, "status", " - im Match Min 15 (3/3)")
    await first.run_due()
    clock.advance(60)
    await first.set_part(channel, "status", " - in der Lobby")
    await first.run_due()
    assert world.channels[channel].name == "Treffpunkt - in der Lobby" and len(world.renames[channel]) == 2

    clock.advance(60)
    restarted = RenameScheduler(db, world, world, clock)  # nothing kept in memory
    await restarted.set_part(channel, "status", " - im Match Min 1 (3/3)")
    assert await restarted.run_due() == 0  # the budget is spent: no call that Discord would answer with 429
    assert world.count("edit_channel") == 2 and restarted.next_due() == 600
    clock.advance(480)
    assert await restarted.run_due() == 1
    assert world.channels[channel].name == "Treffpunkt - im Match Min 1 (3/3)"  # not "... - in der Lobby - im Match"


async def test_a_429_blocks_across_a_restart(db: Database) -> None:
    world, clock, channel = world_with_channel()
    renamer = RenameScheduler(db, world, world, clock)
    world.inject("edit_channel", RateLimited(587))
    await renamer.set_part(channel, "base", "Duo Call")
    await renamer.run_due()
    restarted = RenameScheduler(db, world, world, clock)
    assert await restarted.run_due() == 0 and restarted.is_pending(channel)  # the wish came back from the database
    assert world.count("edit_channel") == 1 and restarted.next_due() == 587
    clock.advance(587)
    assert await restarted.run_due() == 1 and world.channels[channel].name == "Duo Call"


async def test_channels_whose_state_ended_while_down_get_their_composed_name(db: Database) -> None:
    world, clock, channel = world_with_channel("Rang-Sprachkanal")
    renamer = RenameScheduler(db, world, world, clock)
    await renamer.set_part(channel, "rank", " • Archon +/-1")
    await renamer.run_due()
    assert world.channels[channel].name == "Rang-Sprachkanal • Archon +/-1"
    restarted = RenameScheduler(db, world, world, clock)
    await restarted.set_part(channel, "rank", None)  # the feature's state ended while the bot was down
    await restarted.run_due()
    assert world.channels[channel].name == "Rang-Sprachkanal"
    await restarted.set_part(channel, "rank", " • Oracle +/-1")
    clock.advance(600)
    await restarted.run_due()
    assert world.channels[channel].name == "Rang-Sprachkanal • Oracle +/-1"

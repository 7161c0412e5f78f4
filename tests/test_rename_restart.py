"""Channel names across restarts: new services on the same database and the same Discord,
nothing carried in process memory. A name part is replaced after a restart, never piled up,
because a channel's base name is stored (a lane's with its row, another channel's when first
adopted) and read back, never learned from the name Discord shows."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import ChannelInfo, RateLimited
from bot.features.tempvoice.rules import minrank_suffix
from bot.features.voice_status.texts import VoiceStatus as VS
from bot.shared.clock import ManualClock
from bot.shared.rename import MISSING_GRACE, RenameScheduler, strip_managed_suffixes
from tests import raw_sql
from tests.fakes.discord_world import FakeDiscord
from tests.tempvoice_env import GUILD, Env, build_env
from tests.test_rank_voice import build as build_rank_voice

ASCENDANT, PHANTOM, ORACLE = 10, 9, 8


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


async def stored_base(db: Database, channel_id: int) -> str | None:
    async with db.read() as conn:
        return await queries.core.get_base_name(conn, channel_id=channel_id)


async def ranked_lane(env: Env) -> tuple[int, int]:
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[ASCENDANT],))
    await env.move(owner, env.ranked_staging)
    lane = env.lane_of(owner)
    assert lane is not None
    return owner, lane


def test_strip_managed_suffixes() -> None:
    assert strip_managed_suffixes("Lane 1 • ab Ascendant • ab Phantom") == "Lane 1"
    assert strip_managed_suffixes("Ranked Voice 2 • Ascendant +/-1 • Arcanist +/-1") == "Ranked Voice 2"
    assert strip_managed_suffixes("Treffpunkt - im Match Min 15 (3/3) - in der Lobby") == "Treffpunkt"
    assert strip_managed_suffixes("Lane 1 • ab Oracle - in der Lobby") == "Lane 1"
    assert strip_managed_suffixes("Bar • Kneipe") == "Bar • Kneipe"  # not a rank: the member's own name
    assert strip_managed_suffixes(" - in der Lobby") == " - in der Lobby"  # never strips a name to nothing


async def test_a_lane_s_base_name_is_its_row_s_from_creation(db: Database) -> None:
    """Saved once, with the lane row in its creating transaction (no name part of its own)."""
    env = build_env(db)
    _, lane = await ranked_lane(env)
    assert await stored_base(db, lane) == "Lane 1"
    async with db.read() as conn:
        assert [p for p in await queries.core.list_name_parts(conn) if p.channel_id == lane] == []
    env.world.channels[lane].name = "Lane 1 • ab Ascendant • ab Oracle"  # what Discord shows is no source
    restarted = env.restart(env.db)
    assert await restarted.renamer.base_of(lane) == "Lane 1"


async def test_a_wished_base_overrides_the_lane_row_s(db: Database) -> None:
    env = build_env(db)
    _, lane = await ranked_lane(env)
    await env.renamer.set_part(lane, "base", "Bar")
    assert await stored_base(db, lane) == "Bar"
    assert await env.restart(env.db).renamer.base_of(lane) == "Bar"


async def test_min_rank_after_a_restart_replaces_the_part(db: Database) -> None:
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    await env.service.panel.set_min_rank(GUILD, owner, lane, ASCENDANT)
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(ASCENDANT)

    restarted = env.restart(env.db)
    env.clock.advance(600)
    await restarted.service.panel.set_min_rank(GUILD, owner, lane, PHANTOM)
    await restarted.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)
    restarted2 = restarted.restart(env.db)
    await restarted2.service.panel.set_min_rank(GUILD, owner, lane, 0)
    await restarted2.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1"


async def test_a_lane_whose_row_carries_piled_up_suffixes_is_cleaned(db: Database) -> None:
    """A lane of the old bot: its row's base and its shown name both piled up."""
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    async with db.transaction() as conn:
        await raw_sql.execute(
            conn, "UPDATE tempvoice_lanes SET base_name = {} WHERE channel_id = {}", "Lane 1 • ab Ascendant", lane
        )
    env.world.channels[lane].name = "Lane 1 • ab Ascendant • ab Oracle"
    restarted = env.restart(env.db)
    await restarted.service.panel.set_min_rank(GUILD, owner, lane, PHANTOM)
    await restarted.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)
    assert await stored_base(db, lane) == "Lane 1"


async def test_rank_voice_after_a_restart(db: Database) -> None:
    env = build_rank_voice(db)
    archon = env.member(7)
    await env.move(archon, env.ranked)
    await env.renamer.run_due()
    assert env.world.channels[env.ranked].name == "Rang-Sprachkanal • Archon +/-1"

    restarted = build_rank_voice(db, env.world, env.clock)
    env.clock.advance(600)
    await restarted.move(archon, None)
    oracle = restarted.member(ORACLE)
    await restarted.move(oracle, restarted.ranked)
    await restarted.renamer.run_due()
    assert env.world.channels[env.ranked].name == "Rang-Sprachkanal • Oracle +/-1"
    assert env.world.count("edit_channel") == 2  # the emptying and the new anchor: one name, one rename


async def test_voice_status_after_a_restart(db: Database) -> None:
    clock = ManualClock(0)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(GUILD)
    channel = world.add_voice(GUILD, "Treffpunkt")
    first = RenameScheduler(db, world, world, clock)
    await first.set_part(channel, "status", VS.IN_MATCH.format(minutes=15, players=3, slots=3))
    await first.run_due()
    assert world.channels[channel].name == "Treffpunkt - im Match Min 15 (3/3)"
    restarted = RenameScheduler(db, world, world, clock)
    clock.advance(600)
    await restarted.set_part(channel, "status", VS.IN_LOBBY)
    await restarted.run_due()
    assert world.channels[channel].name == "Treffpunkt - in der Lobby"


async def test_restart_while_a_rename_waits_for_the_budget(db: Database) -> None:
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    for rank in (ASCENDANT, ORACLE, PHANTOM):  # the third waits: two renames per 10 minutes
        await env.service.panel.set_min_rank(GUILD, owner, lane, rank)
        await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(ORACLE)
    assert env.renamer.is_pending(lane)

    restarted = env.restart(env.db)
    assert await restarted.renamer.run_due() == 0  # the budget came back from the database
    env.clock.advance(600)
    assert await restarted.renamer.run_due() == 1
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)
    assert env.world.count("edit_channel") == 3


async def test_restart_while_discord_refuses_with_429(db: Database) -> None:
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    await env.service.panel.set_min_rank(GUILD, owner, lane, ASCENDANT)
    await env.renamer.run_due()
    env.world.inject("edit_channel", RateLimited(587))
    await env.service.panel.set_min_rank(GUILD, owner, lane, ORACLE)
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(ASCENDANT)

    restarted = env.restart(env.db)
    await restarted.service.panel.set_min_rank(GUILD, owner, lane, PHANTOM)
    assert await restarted.renamer.run_due() == 0 and restarted.renamer.next_due() == env.clock.now() + 587
    env.clock.advance(587)
    assert await restarted.renamer.run_due() == 1
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)


class ColdCache:
    """The bot's cache before READY: no guild, no channel."""

    def __init__(self, world: FakeDiscord) -> None:
        self.world = world
        self.warm = False

    def channel(self, channel_id: int) -> ChannelInfo | None:
        return self.world.channel(channel_id) if self.warm else None


async def test_renames_wait_until_the_bot_is_ready(db: Database) -> None:
    """Before READY every channel is missing from the cache: a scheduler that renamed then
    would take the lanes for deleted and forget their base names."""
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    await env.service.panel.set_min_rank(GUILD, owner, lane, ASCENDANT)
    await env.renamer.run_due()

    cache, ready, waited = ColdCache(env.world), asyncio.Event(), asyncio.Event()

    async def wait_ready() -> None:
        waited.set()
        await ready.wait()

    restarted = RenameScheduler(env.db, env.world, cache, env.clock, ready=wait_ready)  # type: ignore[arg-type]
    await restarted.load()
    await restarted.set_part(lane, "minrank", minrank_suffix(PHANTOM))  # handled before READY
    restarted.start()
    try:
        await asyncio.wait_for(waited.wait(), 10)
        assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(ASCENDANT)
        assert await stored_base(db, lane) == "Lane 1"  # nothing forgotten
        cache.warm = True
        env.clock.advance(600)
        ready.set()
        for _ in range(1000):
            if env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM):
                break
            await asyncio.sleep(0.01)
        assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)
    finally:
        await restarted.stop()


async def test_a_channel_missing_from_the_cache_for_a_moment_keeps_its_name(db: Database) -> None:
    """A fresh IDENTIFY empties the cache until GUILD_CREATE: a pending rename waits for the
    channel instead of forgetting its parts; a channel still missing after the grace is gone."""
    env = build_env(db)
    _, lane = await ranked_lane(env)
    cache = ColdCache(env.world)
    renamer = RenameScheduler(env.db, env.world, cache, env.clock)  # type: ignore[arg-type]
    await renamer.set_part(lane, "minrank", minrank_suffix(PHANTOM))
    assert await renamer.run_due() == 0 and renamer.is_pending(lane)
    assert await stored_base(db, lane) == "Lane 1"
    cache.warm = True  # GUILD_CREATE arrived
    env.clock.advance(MISSING_GRACE)
    assert await renamer.run_due() == 1
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)


async def test_a_polluted_base_is_repaired_at_start(db: Database) -> None:
    """A base learned from a shown name before bases were stored ("Lane 1 • ab Ascendant")."""
    env = build_env(db)
    owner, lane = await ranked_lane(env)
    async with db.transaction() as conn:
        await queries.core.upsert_name_part(conn, channel_id=lane, part="base", value="Lane 1 • ab Ascendant")
    restarted = env.restart(env.db)
    await restarted.service.panel.set_min_rank(GUILD, owner, lane, PHANTOM)
    await restarted.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" + minrank_suffix(PHANTOM)
    assert await stored_base(db, lane) == "Lane 1"

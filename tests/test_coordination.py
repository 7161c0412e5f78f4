"""Several bot processes on one database: leases and event claims, on both engines.

"Two processes" are two Database objects with connections of their own on the same store:
two SQLite connections sets on one file, or two asyncpg pools on one PostgreSQL schema.
They see the same events (the gateway delivers them to both) and must act on each once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database, SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version
from bot.discord_glue.ports import VoiceMove
from bot.features.balancer.service import MatchReport, MatchService
from bot.features.coaching.service import CoachingService
from bot.features.tempvoice.service import LaneService
from bot.features.voice_status.service import VoiceStatusConfig, VoiceStatusService, lease_name
from bot.shared.clock import ManualClock
from bot.shared.common import HANDLED_ELSEWHERE
from bot.shared.coordination import EventClaims, LeaseKeeper
from bot.shared.rename import RenameScheduler
from tests import test_balancer_service as balancer_env
from tests import test_coaching as coaching_env
from tests import test_rank_voice as rank_env
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps
from tests.pg_support import URL, fresh_pg_database, needs_postgres
from tests.raw_sql import fetch_one
from tests.tempvoice_env import GUILD as TV_GUILD
from tests.tempvoice_env import build_env

NOW = 1_800_000_000


async def _postgres_pair() -> AsyncIterator[tuple[Database, Database]]:
    from bot.db.postgres.engine import PgDatabase

    async for pg in fresh_pg_database():
        assert isinstance(pg, PgDatabase)
        other = PgDatabase(URL, schema=pg.schema)  # a pool of its own
        async with other:
            yield pg, other


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
async def two_processes(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    if request.param == "sqlite":
        first = SqliteDatabase(db_path, max_schema_version=latest_version())
        second = SqliteDatabase(db_path, max_schema_version=latest_version())
        from bot.db.sqlite.migrations import upgrade

        async with first, second:
            await upgrade(first)
            yield first, second
        return
    async for pair in _postgres_pair():
        yield pair


@pytest.fixture
async def two_postgres_processes() -> AsyncIterator[tuple[Database, Database]]:
    """Several bot processes share a PostgreSQL database (one process per SQLite file)."""
    async for pair in _postgres_pair():
        yield pair


async def test_a_lease_has_one_holder_and_runs_out(
    two_processes: tuple[Database, Database], caplog: pytest.LogCaptureFixture
) -> None:
    db_a, db_b = two_processes
    clock = ManualClock(NOW)
    a = LeaseKeeper(db_a, ttl_seconds=180, clock=clock, holder="host-a:1")
    b = LeaseKeeper(db_b, ttl_seconds=180, clock=clock, holder="host-b:2")

    # both processes try at once, many times: exactly one holds it
    results = await asyncio.gather(*(keeper.hold("poller") for _ in range(20) for keeper in (a, b)))
    holders = {keeper.holder for keeper, got in zip([a, b] * 20, results, strict=True) if got}
    assert len(holders) == 1
    holder, other = (a, b) if holders == {a.holder} else (b, a)

    clock.advance(120)
    assert await holder.hold("poller") and not await other.hold("poller")  # renewed, still refused
    clock.advance(179)
    assert not await other.hold("poller")  # the renewal moved the expiry
    clock.advance(2)  # the holder crashed: its lease ran out
    with caplog.at_level(logging.WARNING):
        assert await other.hold("poller")
        assert not await holder.hold("poller")
    assert "taken over by another process" in caplog.text
    async with db_a.read() as conn:
        lease = await fetch_one(conn, "SELECT holder, expires_at FROM leases WHERE name = {}", "poller")
    assert lease == (other.holder, clock.now() + 180)

    await other.release_all()  # a clean shutdown: the other process takes over at once
    assert await holder.hold("poller")


async def test_each_event_is_claimed_once(two_processes: tuple[Database, Database]) -> None:
    db_a, db_b = two_processes
    clock = ManualClock(NOW)
    a, b = EventClaims(db_a, clock=clock, claimer="a"), EventClaims(db_b, clock=clock, claimer="b")
    events = range(10**17, 10**17 + 50)  # snowflakes
    results = await asyncio.gather(*(c.first(e, "test") for e in events for c in (a, b)))
    assert [results[2 * i] + results[2 * i + 1] for i in range(50)] == [1] * 50
    # claims are pruned after a day, at most once an hour
    clock.advance(EventClaims.KEEP_SECONDS + 3600)
    assert await a.first(1, "test")
    async with db_b.read() as conn, conn.execute("SELECT COUNT(*) FROM event_claims") as cur:
        assert (await cur.fetchone())[0] == 1


async def test_two_processes_start_one_match_per_command(two_processes: tuple[Database, Database]) -> None:
    db_a, db_b = two_processes
    w = balancer_env.build(db_a)  # one Discord
    twin = MatchService(make_deps(db_b, w.world, w.clock, ranks=w.service.ranks), w.service.config)
    balancer_env.add_players(w, 6, w.lobby)
    w.world.user_moves(balancer_env.GUILD, w.host, w.lobby)

    command = 1_300_000_000_000_000_001  # the message both processes received
    first, second = await asyncio.gather(
        w.service.start(balancer_env.GUILD, w.host, event_id=command),
        twin.start(balancer_env.GUILD, w.host, event_id=command),
    )
    reports = [r for r in (first, second) if isinstance(r, MatchReport)]
    assert len(reports) == 1 and HANDLED_ELSEWHERE in (first, second)
    async with db_b.read() as conn:
        running = await queries.balancer.list_running_matches(conn, guild_id=balancer_env.GUILD)
    assert [m.match_id for m in running] == [reports[0].match_id]
    created = [c for c in w.world.calls if c[0] == "create_voice_channel"]
    assert len(created) == 2  # the two team channels, once

    # different commands on the two processes at once: every match id unique
    more = await asyncio.gather(
        *(
            (w.service if i % 2 else twin).start(balancer_env.GUILD, w.host, [*range(1, 7)], event_id=command + 1 + i)
            for i in range(10)
        )
    )
    ids = [r.match_id for r in more if isinstance(r, MatchReport)]
    assert len(ids) == 10 and len(set(ids) | {reports[0].match_id}) == 11


async def test_two_processes_open_one_coaching_session(two_processes: tuple[Database, Database]) -> None:
    db_a, db_b = two_processes
    service, ui, notifier, clock = coaching_env.build(db_a)
    twin = CoachingService(make_deps(db_b, FakeDiscord(clock), clock), ui, notifier)
    user = 4242
    # an earlier session of the user: a start replaces it, once
    old_reply, old_session = await service.start(coaching_env.GUILD, coaching_env.CHANNEL, user, "U", "111")
    assert old_reply.ok and old_session is not None

    submission = 1_300_000_000_000_000_777
    results = await asyncio.gather(
        service.start(coaching_env.GUILD, coaching_env.CHANNEL, user, "U", "222", event_id=submission),
        twin.start(coaching_env.GUILD, coaching_env.CHANNEL, user, "U", "222", event_id=submission),
    )
    started = [session for reply, session in results if session is not None]
    assert len(started) == 1 and HANDLED_ELSEWHERE in [reply for reply, _ in results]
    async with db_b.read() as conn:
        active = await queries.coaching.get_active_session(conn, user_id=user)
        old = await queries.coaching.get_session(conn, session_id=old_session)
    assert active is not None and active.session_id == started[0] and active.match_id == "222"
    assert old is not None and not old.is_active and old.close_reason == "replaced"
    assert len(ui.threads) == 2  # the old session's thread and the new one: no third


async def test_one_process_passes_a_guild_and_the_other_takes_over(two_processes: tuple[Database, Database]) -> None:
    db_a, db_b = two_processes
    clock = ManualClock(NOW)
    world = FakeDiscord(clock, latency=(0, 0))
    guild = 11
    world.add_guild(guild)
    category = world.add_category(guild, "Lanes")
    channel = world.add_voice(guild, "Lane 1", category)
    world.user_moves(guild, world.add_member(guild, 1), channel)
    config = VoiceStatusConfig((category,), interval_seconds=60)
    stacks = []
    for db, name in ((db_a, "a"), (db_b, "b")):
        renamer = RenameScheduler(db, world, world, clock)
        keeper = LeaseKeeper(db, ttl_seconds=180, clock=clock, holder=name)
        stacks.append((VoiceStatusService(make_deps(db, world, clock, renamer=renamer), config, leases=keeper), keeper))

    reports = await asyncio.gather(*(service.run_pass() for service, _ in stacks))
    assert sorted(r.channels for r in reports) == [0, 1]  # one process passed the guild
    holder = next(keeper for (_, keeper), r in zip(stacks, reports, strict=True) if r.channels)
    other_service, other_keeper = next(s for s in stacks if s[1] is not holder)
    assert holder.held == {lease_name(guild)} and other_keeper.held == set()

    clock.advance(60)
    assert (await other_service.run_pass()).channels == 0  # still held by the first
    await holder.release_all()  # the first shuts down cleanly
    world.user_moves(guild, world.add_member(guild, 2), channel)
    assert (await other_service.run_pass()).channels == 1
    async with db_a.read() as conn:
        status = await queries.voice_status.get_channel_status(conn, channel_id=channel)
        lease = await fetch_one(conn, "SELECT holder FROM leases WHERE name = {}", lease_name(guild))
        members = await queries.voice_status.list_voice_members(conn, guild_id=guild)
    assert status is not None and status.guild_id == guild
    assert [m.user_id for m in members] == [1, 2]  # the new holder's pass wrote the join
    assert lease == (other_keeper.holder,)


@needs_postgres
async def test_two_processes_run_lanes_from_join_to_empty(two_postgres_processes: tuple[Database, Database]) -> None:
    """Both processes see every join, move and leave: each Discord action happens once (one
    channel per owner, no number picked twice, succession once, each empty lane deleted once)
    and nothing is left behind."""
    db_a, db_b = two_postgres_processes
    env = build_env(db_a)
    other = LaneService(make_deps(db_b, env.world, env.clock), env.config)

    async def both(move: VoiceMove) -> None:
        await asyncio.gather(env.service.on_voice_move(move), other.on_voice_move(move))

    async def deleted(channel_id: int) -> None:
        await asyncio.gather(env.service.on_channel_deleted(channel_id), other.on_channel_deleted(channel_id))

    env.world.listener = both
    env.world.channel_delete_listener = deleted
    owners = [env.world.add_member(TV_GUILD) for _ in range(20)]
    guests = [env.world.add_member(TV_GUILD) for _ in range(20)]
    await asyncio.gather(*(both(env.world.user_moves(TV_GUILD, o, env.staging)) for o in owners))
    await env.world.settle()
    lane_of = {o: env.lane_of(o) or 0 for o in owners}
    assert len(set(lane_of.values())) == 20
    await asyncio.gather(
        *(both(env.world.user_moves(TV_GUILD, g, lane_of[o])) for o, g in zip(owners, guests, strict=True))
    )
    await env.world.settle()

    await asyncio.gather(*(both(env.world.user_moves(TV_GUILD, o, None)) for o in owners))  # owners leave
    await env.world.settle()
    async with db_b.read() as conn:
        lanes = {
            lane.channel_id: lane.owner_id
            for lane in await queries.tempvoice.list_lanes_by_guild(conn, guild_id=TV_GUILD)
        }
    assert lanes == {lane_of[o]: g for o, g in zip(owners, guests, strict=True)}  # each guest inherited their lane
    assert env.world.count("create_voice_channel") == 20  # no lane number picked twice
    assert env.world.count("edit_panel") == 20 and env.world.count("delete_channel") == 0  # one succession each

    await asyncio.gather(*(both(env.world.user_moves(TV_GUILD, g, None)) for g in guests))  # the lanes empty
    await env.world.settle()
    async with db_a.read() as conn:
        assert await queries.tempvoice.list_lanes_by_guild(conn, guild_id=TV_GUILD) == []
    assert not [c for c in env.world.channels.values() if c.created_by_bot]
    assert env.world.count("delete_channel") == 20 and env.world.echo_errors == []


@needs_postgres
async def test_exclusive_serializes_processes_and_a_cancelled_holder_lets_go(
    two_postgres_processes: tuple[Database, Database],
) -> None:
    db_a, db_b = two_postgres_processes
    events: list[str] = []
    entered = asyncio.Event()

    async def hold(db: Database, name: str, seconds: float) -> None:
        async with db.exclusive("tempvoice_lane:1"):
            events.append(f"{name} in")
            entered.set()
            await asyncio.sleep(seconds)
            events.append(f"{name} out")

    first = asyncio.create_task(hold(db_a, "a", 0.05))
    await entered.wait()
    await asyncio.gather(first, hold(db_b, "b", 0))
    assert events == ["a in", "a out", "b in", "b out"]  # b waited for a, in another process

    entered.clear()
    stuck = asyncio.create_task(hold(db_a, "stuck", 60))
    await entered.wait()
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    await asyncio.wait_for(hold(db_b, "after", 0), timeout=5)  # the lock went with the cancelled task
    async with db_a.exclusive("tempvoice_lane:2"), db_b.exclusive("tempvoice_lane:3"):
        pass  # other keys never wait


@needs_postgres
async def test_two_processes_anchor_a_rank_channel_once(two_postgres_processes: tuple[Database, Database]) -> None:
    db_a, db_b = two_postgres_processes
    single = rank_env.build(db_a)  # what one process does, for comparison
    first = single.member(7)
    await single.move(first, single.ranked)
    edits_alone = single.world.count("set_overwrite")
    await single.move(first, None)
    restore_alone = single.world.count("set_overwrite") - edits_alone
    assert edits_alone > 0 and restore_alone > 0

    env = rank_env.build(db_a)
    twin = rank_env.build(db_b, env.world, env.clock)  # the second process, same Discord
    member = env.member(7)

    async def both(channel: int | None) -> None:
        move = env.world.user_moves(rank_env.GUILD, member, channel)
        await asyncio.gather(env.service.on_voice_move(move), twin.service.on_voice_move(move))

    calls_before = env.world.count("set_overwrite")
    await both(env.ranked)
    assert env.world.count("set_overwrite") - calls_before == edits_alone  # anchored once
    assert env.connect(env.ranked, 8) is True and env.everyone(env.ranked).bit("connect") is False
    calls_before = env.world.count("set_overwrite")
    await both(None)
    assert env.world.count("set_overwrite") - calls_before == restore_alone  # given back once
    async with db_b.read() as conn:
        assert await queries.rank_voice.get_anchor(conn, channel_id=env.ranked) is None

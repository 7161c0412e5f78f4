"""What a voice-status pass writes: only what changed since the last pass (a quiet pass holds
the writer for one statement), the rows of guilds nobody passes cleared, stale watch entries
pruned when their member leaves or at the latest every FULL_PRUNE_EVERY passes. Every test
runs on SQLite and on PostgreSQL; a restart is a new service on the same database."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.db.metrics import METRICS
from bot.db.queries import queries
from bot.features.voice_status.service import FULL_PRUNE_EVERY, VoiceStatusConfig, VoiceStatusService
from bot.shared.coordination import LeaseKeeper
from tests.helpers import make_deps
from tests.raw_sql import execute
from tests.test_voice_status import GUILD, NOW, build, link, watch

WRITES = {
    "add_voice_members", "remove_voice_members", "clear_guild_voice_members",
    "refresh_watch", "prune_watch", "save_channel_statuses",
}  # fmt: skip


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


def writes_since_last_look() -> list[str]:
    names = [s.name.removeprefix("voice_status.") for s in METRICS.snapshot() if s.calls]
    METRICS.reset()
    return sorted(n for n in names if n in WRITES)


async def scratch(db: Database, guild: int = GUILD) -> list[tuple[int, int]]:
    async with db.read() as conn:
        return [(m.user_id, m.channel_id) for m in await queries.voice_status.list_voice_members(conn, guild_id=guild)]


async def test_a_quiet_pass_writes_only_the_watch_refresh(db: Database) -> None:
    world, clock, service, _, (c1, _c2, _c3) = build(db)
    await link(db, 1, "s1", minutes=None)
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    await service.run_pass()
    writes_since_last_look()
    clock.advance(60)
    await service.run_pass()
    assert writes_since_last_look() == ["refresh_watch"]
    assert await watch(db) == [("s1", c1, NOW + 60)]  # refreshed: the Node service's contract
    restarted = VoiceStatusService(make_deps(db, world, clock), service.config)
    clock.advance(60)
    await restarted.run_pass()  # the first pass after a start prunes once, writes no unchanged row
    assert writes_since_last_look() == ["prune_watch", "refresh_watch"]


async def test_joins_moves_and_leaves_are_written_as_changes(db: Database) -> None:
    world, clock, service, _, (c1, c2, _c3) = build(db)
    for user in (1, 2, 3):
        await link(db, user, f"s{user}")
        world.add_member(GUILD, user)
    world.user_moves(GUILD, 1, c1)
    world.user_moves(GUILD, 2, c1)
    await service.run_pass()
    assert await scratch(db) == [(1, c1), (2, c1)]
    world.user_moves(GUILD, 1, None)  # left
    world.user_moves(GUILD, 2, c2)  # moved
    world.user_moves(GUILD, 3, c1)  # joined
    clock.advance(60)
    writes_since_last_look()
    await service.run_pass()
    assert await scratch(db) == [(2, c2), (3, c1)]
    assert await watch(db) == [("s2", c2, NOW + 60), ("s3", c1, NOW + 60)]  # s1 pruned in this pass
    assert {"add_voice_members", "remove_voice_members", "prune_watch"} <= set(writes_since_last_look())


async def test_a_decision_is_saved_when_it_changes(db: Database) -> None:
    world, clock, service, _, (c1, _c2, _c3) = build(db)
    await link(db, 1, "s1", strict=1, minutes=10, server="srv")
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    await service.run_pass()
    first = await service.snapshot(c1)
    clock.advance(60)
    await service.run_pass()  # the same decision: the row says so already
    assert await service.snapshot(c1) == first
    world.user_moves(GUILD, 1, None)
    clock.advance(60)
    await service.run_pass()
    now = await service.snapshot(c1)
    assert first is not None and now is not None and now.decided_at == NOW + 120 != first.decided_at


async def test_a_removed_link_leaves_the_watch_list_within_the_full_prune(db: Database) -> None:
    world, clock, service, _, (c1, _c2, _c3) = build(db)
    await link(db, 1, "s1")
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    await service.run_pass()  # the first pass prunes; the next full prune is FULL_PRUNE_EVERY on
    async with db.write() as conn:
        await execute(conn, "DELETE FROM steam_links WHERE steam_id = {}", "s1")  # the link service's change
    for _ in range(FULL_PRUNE_EVERY - 1):
        clock.advance(60)
        await service.run_pass()
        assert [steam for steam, _, _ in await watch(db)] == ["s1"]  # no leave: not pruned yet
    clock.advance(60)
    await service.run_pass()
    assert await watch(db) == []


async def test_a_guild_nobody_passes_any_more_is_cleared(db: Database) -> None:
    """Process A passes guild 1 and stops; process B passes only guild 2 and clears guild 1's
    rows once A's lease is gone, not before (the watch entries go with them)."""
    world, clock, a, _, (c1, _c2, _c3) = build(db)
    other = GUILD + 1
    world.add_guild(other)
    b_category = world.add_category(other, "Andere")
    world.add_voice(other, "Lane 1", b_category)
    await link(db, 1, "s1")
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    a.leases = LeaseKeeper(db, ttl_seconds=180, clock=clock, holder="a")
    b = VoiceStatusService(
        make_deps(db, world, clock), VoiceStatusConfig((b_category,)),
        leases=LeaseKeeper(db, ttl_seconds=180, clock=clock, holder="b"),
    )  # fmt: skip
    await a.run_pass()
    await b.run_pass()
    assert await scratch(db) == [(1, c1)]  # A's lease is alive: B leaves its rows alone
    assert [steam for steam, _, _ in await watch(db)] == ["s1"]
    await a.leases.release_all()  # A shuts down
    clock.advance(60)
    report = await b.run_pass()
    assert report.channels == 1
    assert await scratch(db) == [] and await watch(db) == []


async def test_without_leases_a_guild_no_longer_monitored_is_cleared(db: Database) -> None:
    world, clock, service, _, (c1, _c2, _c3) = build(db)
    await link(db, 1, "s1")
    world.user_moves(GUILD, world.add_member(GUILD, 1), c1)
    await service.run_pass()
    moved_on = VoiceStatusService(make_deps(db, world, clock), VoiceStatusConfig((999,)))  # other categories
    clock.advance(60)
    await moved_on.run_pass()
    assert await scratch(db) == [] and await watch(db) == []

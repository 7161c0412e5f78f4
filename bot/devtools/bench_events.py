"""`deadlock-bot bench`: statements per Discord event and the voice-status pass's writer time.

The services run unchanged against the fake Discord of the test suite (tests/fakes), so this
part needs a source checkout; installed from a wheel it says so and is skipped. Statements
are counted by SQLite's trace hook on every connection of the database; transaction control
(BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is counted apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bot.db import SqliteDatabase
from bot.db.connections import WriteConn
from bot.db.sqlite.migrations import upgrade
from bot.resources import SOURCE_ROOT

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
VOICE_MEMBERS = 50


def fakes_available() -> bool:
    """A source checkout of this project (not an installed wheel) with the test suite's fakes."""
    return (SOURCE_ROOT / "pyproject.toml").is_file() and (
        SOURCE_ROOT / "tests" / "fakes" / "discord_world.py"
    ).is_file()


def _import_tests() -> None:
    if str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT))


@dataclasses.dataclass
class Count:
    statements: int = 0
    control: int = 0

    def __call__(self, sql: str) -> None:  # runs in a connection's thread
        if sql.lstrip().upper().startswith(CONTROL):
            self.control += 1
        else:
            self.statements += 1

    def take(self) -> tuple[int, int, int]:
        from bot.db.metrics import METRICS

        out = (sum(s.calls for s in METRICS.snapshot()), self.statements, self.control)
        self.statements = self.control = 0
        METRICS.reset()
        return out


class TimedDatabase(SqliteDatabase):
    """Records how long each transaction and each single write held the writer (from asking for
    it to giving it back, so the wait for it counts too: figures are upper bounds)."""

    held: list[float]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        start = time.perf_counter()
        async with super().transaction() as conn:
            yield conn
        self.held.append(time.perf_counter() - start)

    @contextlib.asynccontextmanager
    async def _single_write(self) -> AsyncIterator[WriteConn]:
        start = time.perf_counter()
        async with super()._single_write() as conn:
            yield conn
        self.held.append(time.perf_counter() - start)


async def _database(path: Path) -> TimedDatabase:
    db = TimedDatabase(path)
    db.held = []
    await db.open()
    await upgrade(db, backup=False)
    return db


async def statements_per_event(path: Path) -> dict[str, tuple[int, int, int]]:
    """event -> (named queries run, statements executed, transaction-control statements).
    An executemany is one query and one statement execution per row."""
    _import_tests()
    from tests.tempvoice_env import GUILD, build_env
    from tests.tempvoice_owner_env import with_owner_actions

    db = await _database(path)
    count = Count()
    out: dict[str, tuple[int, int, int]] = {}
    try:
        env = build_env(db)
        owner, second, guest = (env.world.add_member(GUILD, uid) for uid in (900, 500, 700))
        await env.renamer.load()  # as the bot does at start
        await db.trace_statements(count)
        count.take()
        await env.move(owner, env.staging)
        out["staging join"] = count.take()
        lane = env.lane_of(owner) or 0
        await env.move(second, lane)
        out["join a lane"] = count.take()
        await env.move(guest, lane)
        count.take()
        await env.move(guest, None)
        out["leave"] = count.take()
        await env.move(owner, None)
        out["succession"] = count.take()
        await env.move(second, None)
        out["last leave (lane deleted)"] = count.take()
        owned = with_owner_actions(build_env(db)).env  # the bot as it runs: with the owner actions
        await owned.renamer.load()
        owner, second = (owned.world.add_member(GUILD, uid) for uid in (901, 501))
        count.take()
        await owned.move(owner, owned.staging)
        out["staging join, owner actions"] = count.take()
        await owned.move(second, owned.lane_of(owner) or 0)
        count.take()
        await owned.move(owner, None)
        out["succession, owner actions"] = count.take()
        out["match start"] = await _match_start(db, count)
        out["voice-status pass"] = await _voice_pass(db, count)
    finally:
        await db.close()
    return out


async def _match_start(db: SqliteDatabase, count: Count) -> tuple[int, int, int]:
    from bot.features.balancer.service import BalancerConfig, MatchService
    from bot.shared.clock import ManualClock
    from bot.shared.ranks import RANK_NAMES
    from tests.fakes.discord_world import FakeDiscord
    from tests.helpers import make_deps

    guild = 77
    clock = ManualClock(1_700_000_000)
    world = FakeDiscord(clock, seed=1)
    world.add_guild(guild)
    category = world.add_category(guild, "Matches")
    lobby = world.add_voice(guild, "Lobby")
    host_role = world.add_role(guild, "Host")
    ranks = [world.add_role(guild, name) for v, name in enumerate(RANK_NAMES) if v]
    service = MatchService(
        make_deps(db, world, clock), BalancerConfig((category,), frozenset({host_role})), rng=random.Random(1)
    )
    host = world.add_member(guild, roles=(host_role,))
    world.user_moves(guild, host, lobby)
    for i in range(9):
        world.user_moves(guild, world.add_member(guild, roles=(ranks[i % len(ranks)],)), lobby)
    count.take()
    await service.start(guild, host)
    await world.settle()
    return count.take()


def _voice_world(db: SqliteDatabase) -> tuple[Any, Callable[[], Any]]:
    from bot.features.voice_status.service import VoiceStatusConfig, VoiceStatusService
    from bot.shared.clock import ManualClock
    from tests.fakes.discord_world import FakeDiscord
    from tests.helpers import make_deps

    guild = 99
    clock = ManualClock(1_700_000_000)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(guild)
    category = world.add_category(guild, "Lanes")
    channels = [world.add_voice(guild, f"Lane {i}", category) for i in range(1, 6)]
    service = VoiceStatusService(make_deps(db, world, clock), VoiceStatusConfig((category,)))
    for k in range(VOICE_MEMBERS):
        user = 1 + k * 19  # every one of them has a link in the 1k and in the 100k case
        world.user_moves(guild, world.add_member(guild, user), channels[k % len(channels)])
    return world, service.run_pass


async def _voice_pass(db: SqliteDatabase, count: Count) -> tuple[int, int, int]:
    _world, run_pass = _voice_world(db)
    await run_pass()  # the first pass fills the watch list; count a steady one
    count.take()
    await run_pass()
    return count.take()


async def voice_pass_writer_time(folder: Path, links: int, passes: int) -> tuple[float, float, float, float]:
    """With `links` steam_links rows: (min, median, max) seconds a steady pass (nobody joined or
    left) held the writer, and the mean time per pass of the queries that join steam_links."""
    _import_tests()
    from bot.db.metrics import METRICS

    db = await _database(folder / f"voice-{links}.sqlite3")
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO steam_links (user_id, steam_id) VALUES (?, ?)",
                [(u, f"7656{u:013d}") for u in range(1, links + 1)],
            )
        async with db.write() as conn:  # as in the running bot, whose links arrive a few at a time
            await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _world, run_pass = _voice_world(db)
        for _ in range(3):  # the first pass fills the watch list; then warm caches
            await run_pass()
        METRICS.reset()
        per_pass = []
        for _ in range(passes):
            db.held.clear()
            await run_pass()
            per_pass.append(sum(db.held))
        joined = ("voice_status.list_presence", "voice_status.refresh_watch", "voice_status.prune_watch")
        sql = sum(s.total_seconds for s in METRICS.snapshot() if s.name in joined) / passes
        return min(per_pass), statistics.median(per_pass), max(per_pass), sql
    finally:
        await db.close()

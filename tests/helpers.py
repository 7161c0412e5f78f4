"""Helpers shared by tests (conftest.py holds fixtures only)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.db import Database, SqliteDatabase
from bot.db.sqlite.migrations import latest_version
from bot.shared.clock import Clock
from bot.shared.common import UserError
from bot.shared.deps import Deps
from bot.shared.overwrites import OverwriteComposer
from bot.shared.rank_resolver import RankResolver
from bot.shared.ranks import RankRoles
from bot.shared.rename import RenameScheduler
from bot.shared.timers import TimerService
from tests.fakes.discord_world import FakeDiscord


def make_deps(
    db: Database,
    world: FakeDiscord,
    clock: Clock,
    *,
    renamer: RenameScheduler | None = None,
    overwrites: OverwriteComposer | None = None,
    timers: TimerService | None = None,
    ranks: RankResolver | None = None,
) -> Deps:
    """A service's dependencies on the fake Discord; pass the pieces a test shares between services."""
    return Deps(
        db=db,
        actions=world,
        view=world,
        clock=clock,
        renamer=renamer or RenameScheduler(db, world, world, clock),
        overwrites=overwrites or OverwriteComposer(db, world, world),
        timers=timers or TimerService(db, clock),
        ranks=ranks or RankResolver(db, world, RankRoles()),
    )


async def refused(action: Awaitable[object]) -> str:
    """The German text of the refusal (`UserError`) the action must end in."""
    try:
        await action
    except UserError as e:
        return e.text
    raise AssertionError("the action was not refused")


def reopened(db: Database) -> Database:
    """A new Database on the same store (as after a restart of the bot): the same SQLite file
    or the same PostgreSQL schema. Open it with `async with`."""
    if isinstance(db, SqliteDatabase):
        return SqliteDatabase(db.path, max_schema_version=latest_version())
    from bot.db.postgres.engine import PgDatabase

    assert isinstance(db, PgDatabase)
    return PgDatabase(db.url, schema=db.schema)


def open_handles(path: Path) -> int:
    """How many file descriptors of this process point at the file."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue
    return count


async def until(condition: Callable[[], object], what: str, seconds: float = 10.0) -> None:
    """Wait until `condition()` is true (polled), or fail naming `what`."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - a counter or a row, no event to wait on
            await asyncio.sleep(0.005)

    try:
        await asyncio.wait_for(poll(), seconds)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None

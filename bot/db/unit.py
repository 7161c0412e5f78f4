"""The unit of work, once for both engines: which unit a task has open, the failed-statement
rule, savepoint names, and an end that a cancellation cannot cut short.

* ONE ContextVar holds the units open in this context, innermost first (`Unit.outer` links
  them): a unit belongs to one database and one task. A task started inside a unit inherits
  the chain, so it can tell that a connection is held for it (`holds_connection`) although the
  unit is not its own (`open_here` gives None: it must not run statements on that connection).
* The failed-statement rule: every engine connection counts the statements that raised
  (`EngineConnection.failed_statements`). A unit whose count moved while its block ran, and
  whose block still ended normally (the error was caught), must not commit: PostgreSQL would
  turn the COMMIT into a silent ROLLBACK; both engines raise `TransactionAbortedError` and
  roll back. A nested unit is a savepoint: rolling it back also takes its failures back.
* `finish_uncancellable`: COMMIT, ROLLBACK and the savepoint steps run to their end even if
  the caller is cancelled meanwhile; the cancellation is raised after them, so the next step
  on the connection (the outer unit's end, the connection's release) never overlaps them.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import enum
import itertools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.db.errors import TransactionAbortedError

if TYPE_CHECKING:
    from bot.db.connections import EngineConnection


class UnitKind(enum.Enum):
    TRANSACTION = "transaction"  # all or nothing
    READ = "read"  # read only, each statement sees the latest commit
    SNAPSHOT = "snapshot"  # read only, every statement sees the same commit
    LOCK = "lock"  # a held shared lock: its inner units commit with it, each on its own savepoint

    @property
    def writes(self) -> bool:
        return self is UnitKind.TRANSACTION or self is UnitKind.LOCK


@dataclasses.dataclass(frozen=True, slots=True)
class Unit:
    """An outer unit of work open on `conn` for `db` in `task`."""

    db: object
    task: asyncio.Task[Any] | None
    conn: EngineConnection
    kind: UnitKind
    outer: Unit | None  # the unit that was current when this one opened (any database)


_current: contextvars.ContextVar[Unit | None] = contextvars.ContextVar("deadlock_db_unit", default=None)
_savepoint_numbers = itertools.count(1)


def _innermost(db: object) -> Unit | None:
    unit = _current.get()
    while unit is not None and unit.db is not db:
        unit = unit.outer
    return unit


def open_here(db: object) -> Unit | None:
    """The unit of `db` this task has open (one opened by the task that started it is not)."""
    unit = _innermost(db)
    if unit is not None and unit.task is asyncio.current_task():
        return unit
    return None


def holds_connection(db: object) -> bool:
    """Whether this task, or a task it was started from, holds a connection of `db`."""
    return _innermost(db) is not None


def enter(db: object, conn: EngineConnection, kind: UnitKind) -> contextvars.Token[Unit | None]:
    """Make a new outer unit current; `leave` with the token when it ends."""
    return _current.set(Unit(db, asyncio.current_task(), conn, kind, _current.get()))


def leave(token: contextvars.Token[Unit | None]) -> None:
    _current.reset(token)


def savepoint_name() -> str:
    return f"deadlock_sp_{next(_savepoint_numbers)}"


def refuse_if_failed(conn: EngineConnection, failed_before: int) -> None:
    """The failed-statement rule: a statement of the block failed (its error was caught)."""
    if conn.failed_statements != failed_before:
        raise TransactionAbortedError


async def finish_uncancellable(work: Callable[[], Awaitable[Any]]) -> None:
    """Run `work` to its end although the calling task may be cancelled meanwhile; then
    re-raise that cancellation (`work`'s own error first, if it failed)."""
    task = asyncio.ensure_future(work())
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    task.result()
    if cancelled:
        raise asyncio.CancelledError

"""The central database's API, whichever engine is behind it.

Services, cogs and engine-neutral tools (export/import, forget-user, leases) are written
against `Database`. Two engines implement it:

* `SqliteDatabase` (bot/db/sqlite/engine.py): the default, one file, one writer connection
  and shared read-only readers, each an aiosqlite connection in its own thread, one hop per
  query (bot/db/sqlite/connection.py);
* `PgDatabase` (bot/db/postgres/engine.py): a PostgreSQL server through one asyncpg pool,
  the process's connection budget.

Both give the same guarantees: `transaction()` is all or nothing and nests as savepoints,
a statement that fails inside a transaction dooms it (`TransactionAbortedError` if the error
was caught and the block went on), `read()` connections cannot write, `open()`/`close()` are
idempotent and a closed database raises `DatabaseClosedError`. `open_database()` picks the
engine from the target (a file path or a postgresql:// URL). A transaction cancelled at any
await point is rolled back before the writer is handed on (`finish_uncancellable`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Self

from bot.db.connections import ReadConn, WriteConn
from bot.db.metrics import METRICS, QueryMetrics


class Database(abc.ABC):
    """The one owner of every connection to the bot's database (see the module docstring)."""

    #: per-query call counts and timings (process-wide), logged at close
    metrics: QueryMetrics = METRICS

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the data lives, for messages: the file's path, or the server URL without its password."""

    @property
    @abc.abstractmethod
    def is_open(self) -> bool: ...

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect. Idempotent; a closed database stays closed."""

    @abc.abstractmethod
    async def close(self, drain_seconds: float = 30.0) -> None:
        """Let running work finish (up to `drain_seconds`), then close every connection once. Idempotent."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[WriteConn]:
        """A unit of work: everything inside commits together or not at all. Nested in the
        same task it is a savepoint that rolls back on its own."""

    @abc.abstractmethod
    def write(self) -> contextlib.AbstractAsyncContextManager[WriteConn]:
        """A connection for single autocommit writes (inside a transaction of the same task: that one)."""

    @abc.abstractmethod
    def read(self) -> contextlib.AbstractAsyncContextManager[ReadConn]:
        """A read-only connection; each statement sees the latest commit."""

    @abc.abstractmethod
    def snapshot(self) -> contextlib.AbstractAsyncContextManager[ReadConn]:
        """A read-only connection on which every read sees the same commit."""

    @abc.abstractmethod
    async def user_version(self) -> int:
        """The schema version (0: not created by this bot yet)."""

    def exclusive(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """A lock named `key` across every process using this database, held for the block.

        Here (SQLite: one bot process per file) the process's own locks already suffice, so
        it holds nothing; PostgreSQL, which several processes share, takes an advisory lock.
        Hold one at a time per task: two held together could deadlock across processes."""
        return _NOTHING_TO_HOLD


class _NoLock(contextlib.AbstractAsyncContextManager[None]):
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NOTHING_TO_HOLD = _NoLock()


async def finish_uncancellable(work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` to its end although the calling task may be cancelled meanwhile; then
    re-raise that cancellation. Used for the clean-up that frees the writer lock."""
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

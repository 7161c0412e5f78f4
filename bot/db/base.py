"""The central database's API, whichever engine is behind it.

Services, cogs and engine-neutral tools (export/import, forget-user, leases) are written
against `Database`. Two engines implement it:

* `SqliteDatabase` (bot/db/sqlite/engine.py): the default, one file, one writer connection
  and shared read-only readers, each an aiosqlite connection in its own thread, one hop per
  query (bot/db/sqlite/connection.py);
* `PgDatabase` (bot/db/postgres/engine.py): a PostgreSQL server through one asyncpg pool,
  the process's connection budget.

Both give the same guarantees, because `Database` implements the unit of work once
(`transaction()`, `write()`, `read()`, `snapshot()`, on bot/db/unit.py) and an engine only
supplies its primitives: a connection for a new unit (`_connection`), BEGIN (`_begin`),
COMMIT (`_commit`, its failure raised to the caller) and ROLLBACK (`_rollback`, never
raising); savepoints are the same SQL on both. So: `transaction()` is all or nothing and
nests as savepoints, a statement that fails inside a transaction dooms it
(`TransactionAbortedError` if the error was caught and the block went on), `read()`
connections cannot write, `open()`/`close()` are idempotent and a closed database raises
`DatabaseClosedError`. `open_database()` picks the engine from the target (a file path or a
postgresql:// URL). A unit cancelled at any await point is rolled back before its connection
is handed on (`finish_uncancellable`).
"""

from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Self

from bot.db import unit
from bot.db.connections import EngineConnection, ReadConn, WriteConn
from bot.db.metrics import METRICS, QueryMetrics
from bot.db.unit import UnitKind, finish_uncancellable

__all__ = ["Database", "finish_uncancellable"]
log = logging.getLogger(__name__)


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

    # -- the unit of work (the same on every engine) --------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        """A unit of work: everything inside commits together or not at all. Nested in the
        same task (in a transaction or a held lock) it is a savepoint that rolls back on its own."""
        here = unit.open_here(self)
        if here is not None and here.kind.writes:
            async with self._nested(here.conn, refuse=True):
                yield WriteConn(here.conn)
            return
        async with self._unit(UnitKind.TRANSACTION) as conn:
            yield WriteConn(conn)

    def write(self) -> contextlib.AbstractAsyncContextManager[WriteConn]:
        """A connection for single writes: inside a transaction of the same task, that one;
        otherwise the engine's own (`_single_write`: a transaction of its own by default)."""
        here = unit.open_here(self)
        if here is not None and here.kind is UnitKind.TRANSACTION:
            return _Joined(WriteConn(here.conn))
        return self._single_write()

    def read(self) -> contextlib.AbstractAsyncContextManager[ReadConn]:
        """A read-only connection; each statement sees the latest commit (also inside a
        transaction or a snapshot). Inside a held lock or a read unit of the same task: a
        savepoint on that connection (a lock holder reads what it wrote so far; a failed read
        there dooms nothing)."""
        here = unit.open_here(self)
        if here is not None and (here.kind is UnitKind.LOCK or here.kind is UnitKind.READ):
            return self._nested_read(here.conn)
        return self._plain_read()

    def snapshot(self) -> contextlib.AbstractAsyncContextManager[ReadConn]:
        """A read-only connection of its own on which every read sees the same commit."""
        return self._read_unit(UnitKind.SNAPSHOT)

    @contextlib.asynccontextmanager
    async def _read_unit(self, kind: UnitKind) -> AsyncIterator[ReadConn]:
        async with self._unit(kind) as conn:
            yield ReadConn(conn)

    @contextlib.asynccontextmanager
    async def _nested_read(self, conn: EngineConnection) -> AsyncIterator[ReadConn]:
        async with self._nested(conn, refuse=False):
            yield ReadConn(conn)

    @contextlib.asynccontextmanager
    async def _unit(self, kind: UnitKind) -> AsyncIterator[EngineConnection]:
        """An outer unit on a connection of its own: BEGIN, the block, then COMMIT (a
        transaction that ended normally, or a held lock) or ROLLBACK, run to its end before the
        connection is handed on, also when the caller was cancelled meanwhile."""
        async with self._connection(kind) as conn:
            token = unit.enter(self, conn, kind)
            failed_before = conn.failed_statements
            ok = False
            try:
                await self._begin(conn, kind)
                yield conn
                if kind is UnitKind.TRANSACTION:
                    unit.refuse_if_failed(conn, failed_before)
                ok = True
            finally:
                unit.leave(token)
                await finish_uncancellable(lambda: self._end(conn, kind, ok=ok))

    async def _end(self, conn: EngineConnection, kind: UnitKind, *, ok: bool) -> None:
        if not ((ok and kind.writes) or kind is UnitKind.LOCK):
            await self._rollback(conn)
            return
        try:
            await self._commit(conn)
        except Exception as e:
            await self._rollback(conn)
            if ok:
                raise  # the caller must learn that nothing was written
            # a held lock whose block failed: its own error goes on
            log.warning("committing the units of a failed lock block on %s failed: %s", self.location, e)

    @contextlib.asynccontextmanager
    async def _nested(self, conn: EngineConnection, *, refuse: bool) -> AsyncIterator[None]:
        """A savepoint on `conn`. Its block failing (or, with `refuse`, a statement failing in it
        whose error was caught) rolls back to it, and its failures go with it."""
        name = unit.savepoint_name()
        failed_before = conn.failed_statements
        await finish_uncancellable(lambda: conn.control(f"SAVEPOINT {name}"))
        ok = False
        try:
            yield
            if refuse:
                unit.refuse_if_failed(conn, failed_before)
            ok = conn.failed_statements == failed_before
        finally:
            await finish_uncancellable(lambda: self._end_savepoint(conn, name, ok=ok, failed_before=failed_before))

    async def _end_savepoint(self, conn: EngineConnection, name: str, *, ok: bool, failed_before: int) -> None:
        if ok:
            await conn.control(f"RELEASE SAVEPOINT {name}")
            return
        try:
            await conn.control(f"ROLLBACK TO SAVEPOINT {name}")
            await conn.control(f"RELEASE SAVEPOINT {name}")
        except Exception as e:  # its failure counts: the outer unit cannot commit, it rolls back
            log.error("rolling back to a savepoint on %s failed: %s", self.location, e)
            return
        conn.failed_statements = failed_before  # undone with the savepoint

    # -- what an engine supplies -----------------------------------------------------------

    @abc.abstractmethod
    def _connection(self, kind: UnitKind) -> contextlib.AbstractAsyncContextManager[EngineConnection]:
        """A connection for a new outer unit of `kind`, held for the block (waiting for it if
        need be) and handed on after it; the unit has ended by then."""

    @abc.abstractmethod
    async def _begin(self, conn: EngineConnection, kind: UnitKind) -> None:
        """Start the unit's transaction."""

    async def _commit(self, conn: EngineConnection) -> None:
        """Commit; raise if that failed or the transaction could not commit."""
        await conn.control("COMMIT")

    @abc.abstractmethod
    async def _rollback(self, conn: EngineConnection) -> None:
        """End the transaction without its changes (a no-op when none is open); never raises."""

    def _single_write(self) -> contextlib.AbstractAsyncContextManager[WriteConn]:
        """`write()` outside a transaction: a transaction of its own unless the engine has a cheaper way."""
        return self.transaction()

    def _plain_read(self) -> contextlib.AbstractAsyncContextManager[ReadConn]:
        """`read()` outside a unit: a read unit unless the engine has a cheaper way."""
        return self._read_unit(UnitKind.READ)

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


class _Joined(contextlib.AbstractAsyncContextManager[WriteConn]):
    """The connection of the transaction already open: nothing to begin or end."""

    __slots__ = ("_conn",)

    def __init__(self, conn: WriteConn) -> None:
        self._conn = conn

    async def __aenter__(self) -> WriteConn:
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        return None

"""The central database on SQLite (the default engine; the API is bot.db.base.Database):
the one owner of every connection to the bot's SQLite file.

* One writer connection in autocommit mode. Every write happens while holding the
  writer lock: `transaction()` for a unit of work (BEGIN IMMEDIATE .. COMMIT, ROLLBACK on
  any exception), `write()` for a single autocommit statement. So a write can never land
  inside another task's transaction, and two transactions never interleave.
* Nested `transaction()` in the same task becomes a SAVEPOINT: an inner failure rolls back
  only the inner part.
* A small pool of read-only connections (`PRAGMA query_only`) for `read()`. WAL lets them
  read while a write transaction is open.
* PRAGMAs are set once per connection when it opens, never again.
* `open()` / `close()` are idempotent; `close()` waits for running work, checkpoints the
  WAL and closes every connection exactly once. Afterwards every call raises
  `DatabaseClosedError`. A cog that unloads or crashes cannot close it: only the bot's
  lifecycle owns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.db.base import Database
from bot.db.connections import EngineConnection, ReadConn, WriteConn
from bot.db.errors import (
    DatabaseClosedError,
    DatabaseError,
    DatabaseLocationError,
    NotADatabaseError,
    SchemaTooNewError,
    TransactionAbortedError,
)
from bot.db.sqlite.driver import Connection

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 15_000


@dataclasses.dataclass
class _TxState:
    """The transaction a task is in (kept in a ContextVar for nesting)."""

    owner: asyncio.Task[Any] | None
    conn: Connection
    depth: int = 0


_current_tx: contextvars.ContextVar[_TxState | None] = contextvars.ContextVar("deadlock_db_tx", default=None)


async def _exec(conn: EngineConnection, sql: str) -> None:
    """Run one control statement and close its cursor at once."""
    cursor = await conn.execute(sql)
    await cursor.close()


def _is_not_a_database(e: BaseException) -> bool:
    msg = str(e).lower()
    return isinstance(e, sqlite3.DatabaseError) and (
        "file is not a database" in msg or "malformed" in msg or "file is encrypted" in msg
    )


class SqliteDatabase(Database):
    """Owns the SQLite file's connections; see the module docstring for the rules."""

    def __init__(
        self,
        path: Path | str,
        *,
        readers: int = 1,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        max_schema_version: int | None = None,
    ) -> None:
        if readers < 1:
            raise ValueError("readers must be at least 1")
        self.path = Path(path)
        self.readers = readers
        self.busy_timeout_ms = busy_timeout_ms
        #: Refuse (before changing a byte of the file) a database written by a newer bot.
        self.max_schema_version = max_schema_version
        self._writer: Connection | None = None
        self._all_readers: list[Connection] = []
        # Readers are shared: every read is one job in a reader's thread, and jobs queued by
        # many tasks ride on the same thread wake-up (batched hops). Multi-statement reads that
        # need one snapshot take a reader out of the rotation (`snapshot()`).
        self._rotation: list[Connection] = []
        self._next_reader = 0
        self._reads_in_flight = 0
        self._reads_done = asyncio.Event()
        self._snapshot_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()
        self._state = "new"  # new -> open -> closing -> closed
        self._savepoints = 0

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._state == "open"

    @property
    def location(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        """Open the writer and the readers. Idempotent; a closed database stays closed."""
        async with self._open_lock:
            if self._state == "open":
                return
            if self._state in ("closing", "closed"):
                raise DatabaseClosedError(f"database {self.path} was closed; create a new one to reopen it")
            self._make_parent()
            try:
                self._writer = await self._connect(read_only=False)
                self._all_readers = [await self._connect(read_only=True) for _ in range(self.readers)]
            except BaseException:
                await self._close_connections()
                raise
            self._rotation = list(self._all_readers)
            self._state = "open"
            log.info("database %s open (WAL, %d readers)", self.path, self.readers)

    def _make_parent(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DatabaseLocationError(
                f"cannot create the folder {self.path.parent} for the database: {e.strerror}"
            ) from e
        if self.path.exists() and not self.path.is_file():
            raise DatabaseLocationError(f"{self.path} exists but is not a file")

    async def _connect(self, *, read_only: bool) -> Connection:
        try:
            conn = await Connection.open(self.path, busy_seconds=self.busy_timeout_ms / 1000)
        except sqlite3.OperationalError as e:
            raise DatabaseLocationError(f"cannot open the database file {self.path}: {e}") from e
        try:
            # The first read fails on a file that is not an SQLite database, before anything is written.
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if not read_only and self.max_schema_version is not None and version > self.max_schema_version:
                await conn.close()
                raise SchemaTooNewError(
                    f"{self.path} has schema version {version}, but this bot knows versions up to "
                    f"{self.max_schema_version}: it was written by a newer deadlock-bot. Upgrade the bot; "
                    "the file was not changed."
                )
            await _exec(conn, f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if read_only:
                await _exec(conn, "PRAGMA query_only = ON")
            else:
                await _exec(conn, "PRAGMA journal_mode = WAL")
                await _exec(conn, "PRAGMA synchronous = NORMAL")
                await _exec(conn, "PRAGMA journal_size_limit = 104857600")
            await _exec(conn, "PRAGMA foreign_keys = ON")
            await _exec(conn, "PRAGMA temp_store = MEMORY")
        except sqlite3.Error as e:
            await conn.close()
            if _is_not_a_database(e):
                raise NotADatabaseError(f"{self.path} is not an SQLite database (or it is corrupt): {e}") from e
            raise DatabaseLocationError(f"cannot use the database file {self.path}: {e}") from e
        return conn

    async def close(self, drain_seconds: float = 30.0) -> None:
        """Wait for running work, checkpoint the WAL, close every connection once. Idempotent."""
        async with self._open_lock:
            if self._state in ("new", "closed"):
                self._state = "closed"
                return
            self._state = "closing"
            try:
                await asyncio.wait_for(self._drain(), drain_seconds)
            except TimeoutError:
                log.warning("database close: work still running after %.0fs; closing anyway", drain_seconds)
            # Readers first: a reader's unfinished statement would hold the snapshot the
            # checkpoint has to wait for.
            readers, self._all_readers = self._all_readers, []
            await self._close_all(readers)
            if self._writer is not None:
                await self._checkpoint(self._writer)
            await self._close_connections()
            self._state = "closed"
            log.info("database %s closed; query metrics:\n%s", self.path, self.metrics.summary())

    async def _checkpoint(self, conn: Connection) -> None:
        """Fold the WAL into the file. Another program's reader may block it: wait briefly, then leave it."""
        try:
            await _exec(conn, "PRAGMA busy_timeout = 2000")
            async with conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                row = await cur.fetchone()
            if row is not None and row[0]:
                log.warning("WAL checkpoint at close incomplete: another program is reading the database")
        except sqlite3.Error as e:
            log.warning("WAL checkpoint at close failed: %s", e)

    async def _drain(self) -> None:
        """Take the writer lock and wait for every read: nothing runs afterwards."""
        await self._write_lock.acquire()
        await self._snapshot_lock.acquire()
        while self._reads_in_flight:
            self._reads_done.clear()
            await self._reads_done.wait()

    async def _close_connections(self) -> None:
        conns: list[Connection] = [*self._all_readers]
        if self._writer is not None:
            conns.append(self._writer)
        self._writer = None
        self._all_readers = []
        await self._close_all(conns)

    @staticmethod
    async def _close_all(conns: list[Connection]) -> None:
        for conn in conns:
            try:
                await conn.close()
            except Exception as e:  # closing must reach every connection
                log.warning("closing a database connection failed: %s", e)

    def _check_open(self) -> None:
        if self._state != "open":
            state = "closed" if self._state in ("closing", "closed") else "not opened yet"
            raise DatabaseClosedError(f"database {self.path} is {state}")

    # -- writes ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        """A unit of work: everything inside commits together or not at all.

        Nested in the same task, it is a SAVEPOINT that rolls back on its own.
        """
        state = _current_tx.get()
        if state is not None and state.owner is asyncio.current_task():
            async with self._savepoint(state):
                yield WriteConn(state.conn)
            return
        self._check_open()
        async with self._write_lock:
            self._check_open()
            assert self._writer is not None
            conn = self._writer
            conn.begin_with_next("BEGIN IMMEDIATE")  # travels with the first statement
            token = _current_tx.set(_TxState(asyncio.current_task(), conn))
            failed_before = conn.failed_statements
            try:
                yield WriteConn(conn)
            except BaseException:
                await self._rollback(conn)
                raise
            else:
                if conn.failed_statements != failed_before:  # an error was caught inside
                    await self._rollback(conn)
                    raise TransactionAbortedError
                try:
                    await _exec(conn, "COMMIT")
                except BaseException:
                    await self._rollback(conn)
                    raise
            finally:
                _current_tx.reset(token)

    @contextlib.asynccontextmanager
    async def _savepoint(self, state: _TxState) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"sp_{self._savepoints}"
        await _exec(state.conn, f"SAVEPOINT {name}")
        state.depth += 1
        failed_before = state.conn.failed_statements
        try:
            yield
            if state.conn.failed_statements != failed_before:  # an error was caught inside
                raise TransactionAbortedError
        except BaseException:
            await _exec(state.conn, f"ROLLBACK TO SAVEPOINT {name}")
            await _exec(state.conn, f"RELEASE SAVEPOINT {name}")
            state.conn.failed_statements = failed_before  # undone with the savepoint
            raise
        else:
            await _exec(state.conn, f"RELEASE SAVEPOINT {name}")
        finally:
            state.depth -= 1

    async def _rollback(self, conn: Connection) -> None:
        conn.discard_begin()
        if not conn.in_transaction:
            return
        try:
            await _exec(conn, "ROLLBACK")
        except sqlite3.Error as e:
            log.error("ROLLBACK failed: %s", e)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[WriteConn]:
        """The writer for single autocommit statements, with the writer lock held.

        Inside a transaction of the same task it is that transaction's connection.
        """
        state = _current_tx.get()
        if state is not None and state.owner is asyncio.current_task():
            yield WriteConn(state.conn)
            return
        self._check_open()
        async with self._write_lock:
            self._check_open()
            assert self._writer is not None
            try:
                yield WriteConn(self._writer)
            finally:
                # A statement must not leave a transaction open behind the lock (e.g. a raw BEGIN).
                await self._rollback(self._writer)

    # -- reads -------------------------------------------------------------------------

    def read(self) -> _Read:
        """A read-only connection (`query_only`; a write on it fails), shared with other readers:
        each statement sees the latest commit. For several reads from one snapshot use `snapshot()`.

        (A small class rather than @asynccontextmanager: this is the hot path of every read.)
        """
        return _Read(self)

    def _enter_read(self) -> ReadConn:
        self._check_open()
        conn = self._rotation[self._next_reader % len(self._rotation)]
        self._next_reader += 1
        self._reads_in_flight += 1
        return ReadConn(conn)

    def _exit_read(self) -> None:
        self._reads_in_flight -= 1
        if not self._reads_in_flight:
            self._reads_done.set()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[ReadConn]:
        """A reader of its own inside a read transaction: every read sees the same commit."""
        self._check_open()
        async with self._snapshot_lock:
            self._check_open()
            conn = self._rotation[-1]
            if len(self._rotation) > 1:
                self._rotation.remove(conn)  # shared reads use the others meanwhile
            self._reads_in_flight += 1
            try:
                await _exec(conn, "BEGIN")
                yield ReadConn(conn)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    await _exec(conn, "ROLLBACK")
                if conn not in self._rotation:
                    self._rotation.append(conn)
                self._reads_in_flight -= 1
                if not self._reads_in_flight:
                    self._reads_done.set()

    # -- helpers for maintenance code --------------------------------------------------

    async def user_version(self) -> int:
        async with self.read() as conn, conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def pragma(self, name: str) -> list[tuple[Any, ...]]:
        """Run a read-only PRAGMA (`integrity_check`, `foreign_key_check`, ...)."""
        if not name.replace("_", "").replace("(", "").replace(")", "").isalnum():
            raise ValueError(f"not a pragma name: {name!r}")
        async with self.read() as conn, conn.execute(f"PRAGMA {name}") as cur:
            return [tuple(r) for r in await cur.fetchall()]


class _Read:
    __slots__ = ("_db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def __aenter__(self) -> ReadConn:
        return self._db._enter_read()

    async def __aexit__(self, *exc: object) -> None:
        self._db._exit_read()


__all__ = ["DatabaseError", "SqliteDatabase"]

"""The central database on SQLite (the default engine; the API is bot.db.base.Database):
the one owner of every connection to the bot's SQLite file. Each connection is an aiosqlite
connection in its own thread (bot.db.sqlite.connection); every query is one hop to it.

The unit of work (nesting as savepoints, the failed-statement rule, cancellation) is
bot.db.base.Database's; this engine supplies its primitives:

* One writer connection in autocommit mode. Every write happens while holding the
  writer lock: a unit of work is BEGIN IMMEDIATE .. COMMIT on it, `write()` a single
  autocommit statement. So a write can never land inside another task's transaction, and
  two transactions never interleave.
* A ROLLBACK is queued behind every statement sent before it (aiosqlite's thread runs them
  in order): after a cancellation at any await point it is awaited to its end, and only
  then is the writer lock released.
* A small pool of read-only connections (`PRAGMA query_only`) for `read()`. WAL lets them
  read while a write transaction is open. `snapshot()` has a connection of its own.
* PRAGMAs are set once per connection when it opens, never again; `PRAGMA optimize` runs at
  open (mask 0x10002) and at close, as SQLite recommends for long-lived connections.
* `read_only=True` opens the file with `mode=ro`: no writer, no WAL switch, no PRAGMA that
  writes; a missing file is an error instead of a new empty one.
* `open()` / `close()` are idempotent; `close()` waits for running work, checkpoints the
  WAL and closes every connection exactly once. Afterwards every call raises
  `DatabaseClosedError`. A cog that unloads or crashes cannot close it: only the bot's
  lifecycle owns it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
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
)
from bot.db.sqlite.connection import SqliteConnection, as_sqlite, is_not_a_database
from bot.db.unit import UnitKind, finish_uncancellable

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 15_000


class SqliteDatabase(Database):
    """Owns the SQLite file's connections; see the module docstring for the rules."""

    def __init__(
        self,
        path: Path | str,
        *,
        readers: int = 1,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        max_schema_version: int | None = None,
        read_only: bool = False,
    ) -> None:
        if readers < 1:
            raise ValueError("readers must be at least 1")
        self.path = Path(path)
        self.readers = readers
        self.busy_timeout_ms = busy_timeout_ms
        #: Refuse (before changing a byte of the file) a database written by a newer bot.
        self.max_schema_version = max_schema_version
        self.read_only = read_only
        self._writer: SqliteConnection | None = None
        self._readers: list[SqliteConnection] = []
        self._snapshot_conn: SqliteConnection | None = None  # opened at the first snapshot()
        self._next_reader = 0
        self._reads_in_flight = 0
        self._reads_done = asyncio.Event()
        self._snapshot_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()
        self._state = "new"  # new -> open -> closing -> closed
        self._trace: Callable[[str], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._state == "open"

    @property
    def location(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        """Open the writer and the readers. Idempotent; a closed database stays closed.
        A failed open closes what it opened: no thread and no file stays behind."""
        async with self._open_lock:
            if self._state == "open":
                return
            if self._state in ("closing", "closed"):
                raise DatabaseClosedError(f"database {self.path} was closed; create a new one to reopen it")
            self._check_location()
            try:
                if not self.read_only:
                    self._writer = await self._connect(role="writer")
                for _ in range(self.readers):
                    self._readers.append(await self._connect(role="reader"))
            except BaseException:
                await self._close_connections()
                raise
            self._state = "open"
            mode = "read-only" if self.read_only else "WAL"
            log.info("database %s open (%s, %d readers)", self.path, mode, self.readers)

    def _check_location(self) -> None:
        if self.read_only:
            if not self.path.is_file():
                raise DatabaseLocationError(f"no database file at {self.path}")
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DatabaseLocationError(
                f"cannot create the folder {self.path.parent} for the database: {e.strerror}"
            ) from e
        if self.path.exists() and not self.path.is_file():
            raise DatabaseLocationError(f"{self.path} exists but is not a file")

    async def _connect(self, *, role: str) -> SqliteConnection:
        """Open one connection: role "writer", "reader" or "snapshot" (the last two query_only)."""
        try:
            conn = await SqliteConnection.open(
                self.path, busy_seconds=self.busy_timeout_ms / 1000, read_only=self.read_only
            )
        except sqlite3.Error as e:
            raise DatabaseLocationError(f"cannot open the database file {self.path}: {e}") from e
        try:
            await self._configure(conn, role)
        except BaseException as e:
            await conn.close()
            if isinstance(e, sqlite3.Error):
                if is_not_a_database(e):
                    raise NotADatabaseError(f"{self.path} is not an SQLite database (or it is corrupt): {e}") from e
                raise DatabaseLocationError(f"cannot use the database file {self.path}: {e}") from e
            raise
        return conn

    async def _configure(self, conn: SqliteConnection, role: str) -> None:
        # The first read fails on a file that is not an SQLite database, before anything is written.
        version = int(await conn.value("PRAGMA user_version") or 0)
        if role == "writer" and self.max_schema_version is not None and version > self.max_schema_version:
            raise SchemaTooNewError(
                f"{self.path} has schema version {version}, but this bot knows versions up to "
                f"{self.max_schema_version}: it was written by a newer deadlock-bot. Upgrade the bot; "
                "the file was not changed."
            )
        writer = ["PRAGMA journal_mode = WAL", "PRAGMA journal_size_limit = 104857600"]
        for sql in [
            f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}",
            *(writer if role == "writer" else ["PRAGMA query_only = ON"]),
            "PRAGMA synchronous = NORMAL",  # per connection: every one the same
            "PRAGMA foreign_keys = ON",
            "PRAGMA temp_store = MEMORY",
        ]:
            await conn.run_statement(sql)
        if role == "writer":
            await conn.fetch_all("PRAGMA optimize = 0x10002")  # statistics for the planner

    async def close(self, drain_seconds: float = 30.0) -> None:
        """Wait for running work, optimize, checkpoint the WAL, close every connection once. Idempotent."""
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
            readers = [*self._readers, *([self._snapshot_conn] if self._snapshot_conn else [])]
            self._readers, self._snapshot_conn = [], None
            await self._close_all(readers)
            if self._writer is not None:
                await self._optimize_and_checkpoint(self._writer)
            await self._close_connections()
            self._state = "closed"
            log.info("database %s closed; query metrics:\n%s", self.path, self.metrics.summary())

    async def _optimize_and_checkpoint(self, conn: SqliteConnection) -> None:
        """Refresh the planner's statistics, then fold the WAL into the file. Another program's
        reader may block the checkpoint: wait briefly, then leave it."""
        try:
            await conn.fetch_all("PRAGMA optimize")
            await conn.run_statement("PRAGMA busy_timeout = 2000")
            rows = await conn.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")
            if rows and rows[0][0]:
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
        conns = [*self._readers, *(c for c in (self._snapshot_conn, self._writer) if c is not None)]
        self._writer, self._snapshot_conn, self._readers = None, None, []
        await self._close_all(conns)

    @staticmethod
    async def _close_all(conns: list[SqliteConnection]) -> None:
        for conn in conns:
            try:
                await conn.close()
            except Exception as e:  # closing must reach every connection
                log.warning("closing a database connection failed: %s", e)

    def _check_open(self) -> None:
        if self._state != "open":
            state = "closed" if self._state in ("closing", "closed") else "not opened yet"
            raise DatabaseClosedError(f"database {self.path} is {state}")

    def _the_writer(self) -> SqliteConnection:
        self._check_open()
        if self._writer is None:
            raise DatabaseError(f"database {self.path} was opened read-only")
        return self._writer

    # -- the engine's primitives (the unit of work itself: bot.db.base.Database) ---------------

    @contextlib.asynccontextmanager
    async def _connection(self, kind: UnitKind) -> AsyncIterator[EngineConnection]:
        """A snapshot's connection of its own (one snapshot at a time), else the writer under
        the writer lock: so a write never lands inside another task's transaction."""
        if kind is UnitKind.SNAPSHOT:
            self._check_open()
            async with self._snapshot_lock:
                self._check_open()
                if self._snapshot_conn is None:
                    self._snapshot_conn = await self._connect(role="snapshot")
                    if self._trace is not None:
                        await self._snapshot_conn.aio.set_trace_callback(self._trace)
                self._reads_in_flight += 1
                try:
                    yield self._snapshot_conn
                finally:
                    self._exit_read()
            return
        self._the_writer()
        async with self._write_lock:
            yield self._the_writer()

    async def _begin(self, conn: EngineConnection, kind: UnitKind) -> None:
        # a snapshot is taken at its first read; a writer takes the write lock of the file now
        await conn.control("BEGIN" if kind is UnitKind.SNAPSHOT else "BEGIN IMMEDIATE")

    async def _rollback(self, conn: EngineConnection) -> None:
        await as_sqlite(conn).rollback_quietly()  # FIFO: after whatever is still queued

    @contextlib.asynccontextmanager
    async def _single_write(self) -> AsyncIterator[WriteConn]:
        """The writer in autocommit mode for single statements, with the writer lock held."""
        self._the_writer()
        async with self._write_lock:
            conn = self._the_writer()
            try:
                yield WriteConn(conn)
            except BaseException:  # a statement may still be queued: roll back behind it
                await finish_uncancellable(conn.rollback_quietly)
                raise
            # Every statement has finished, so in_transaction is exact here. A statement must
            # not leave a transaction open behind the lock (e.g. a raw BEGIN).
            if conn.in_transaction:
                await finish_uncancellable(conn.rollback_quietly)

    def _plain_read(self) -> _Read:
        """A read-only connection (`query_only`; a write on it fails), shared with other readers:
        each statement sees the latest commit. For several reads from one snapshot use `snapshot()`.

        (A small class rather than @asynccontextmanager: this is the hot path of every read.)
        """
        return _Read(self)

    def _enter_read(self) -> ReadConn:
        self._check_open()
        conn = self._readers[self._next_reader % len(self._readers)]
        self._next_reader += 1
        self._reads_in_flight += 1
        return ReadConn(conn)

    def _exit_read(self) -> None:
        self._reads_in_flight -= 1
        if not self._reads_in_flight:
            self._reads_done.set()

    # -- helpers for maintenance code --------------------------------------------------

    async def trace_statements(self, callback: Callable[[str], None] | None) -> None:
        """Hand every statement any connection runs (BEGIN/COMMIT included) to `callback`, in
        that connection's thread; None stops it. The bench counts statements per event with it."""
        self._trace = callback
        for conn in [*self._readers, *(c for c in (self._snapshot_conn, self._writer) if c is not None)]:
            await conn.aio.set_trace_callback(callback)  # type: ignore[arg-type]  # None is sqlite3's "off"

    async def user_version(self) -> int:
        async with self.read() as conn:
            return int(await as_sqlite(conn).value("PRAGMA user_version") or 0)

    async def pragma(self, name: str) -> list[tuple[Any, ...]]:
        """Run a read-only PRAGMA (`integrity_check`, `foreign_key_check`, ...)."""
        if not name.replace("_", "").replace("(", "").replace(")", "").isalnum():
            raise ValueError(f"not a pragma name: {name!r}")
        async with self.read() as conn:
            return [tuple(r) for r in await as_sqlite(conn).fetch_all(f"PRAGMA {name}")]


class _Read:
    __slots__ = ("_db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def __aenter__(self) -> ReadConn:
        return self._db._enter_read()

    async def __aexit__(self, *exc: object) -> None:
        self._db._exit_read()


__all__ = ["DatabaseError", "SqliteDatabase"]

"""One SQLite connection on aiosqlite: every statement is ONE hop to the connection's thread.

aiosqlite runs a connection's calls in its own thread, one after another in the order they
were queued (FIFO). This wrapper only uses its public API, and only calls that finish a whole
statement in one hop: `execute_fetchall` (rows), `execute` (then `rowcount` / `lastrowid`,
read on the loop without another hop), `executemany`, `executescript`, `rollback`.

It adds what the central database needs on top:
* sqlite3's `IntegrityError` becomes the engine-neutral `bot.db.errors.IntegrityError`;
* `failed_statements` counts statements that raised (a transaction compares it: a caught
  error must not let the rest commit);
* parameters must be plain SQL values (int, float, str, bytes, None): no Python adapter
  runs in the thread, so whatever fails there is an sqlite3 error of its own caller;
* `rollback_quietly()`: ROLLBACK queued behind everything sent before it; a failure is logged
  (the unit of work runs it to its end also when its task is cancelled).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import aiosqlite

from bot.db.connections import EngineConnection, Result, Rows
from bot.db.errors import IntegrityError
from bot.db.metrics import METRICS

log = logging.getLogger(__name__)
T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any]
_PLAIN = frozenset({int, float, str, bytes, type(None), bool})


class Shape(enum.Enum):
    """What a query hands back of its rows."""

    ROWS = "all rows"
    ROW = "the first row or None"
    VALUE = "the first row's first value or None"


class Change(enum.Enum):
    """What a statement without rows hands back."""

    ROWCOUNT = "rows changed"
    LASTROWID = "the last inserted rowid"


def check_params(params: Params) -> None:
    """Refuse (on the loop) a value sqlite3 would have to adapt with Python code in the thread."""
    values = params.values() if type(params) is dict or isinstance(params, Mapping) else params
    for value in values:
        if type(value) not in _PLAIN:
            raise TypeError(f"not a plain SQL value: {type(value).__name__} (int, float, str, bytes or None)")


def read_only_uri(path: Path | str) -> str:
    """`file:...?mode=ro`: SQLite opens the file read-only and never creates or grows it.

    A WAL-mode file without a `-wal` file beside it is open nowhere (a WAL connection keeps
    that file while it is open) and has nothing outside the main file: it is opened
    `immutable`, because a plain read-only reader of a WAL file would create `-wal` and `-shm`
    and, unable to write, leave them behind."""
    uri = "file:" + urllib.parse.quote(str(Path(path).absolute())) + "?mode=ro"
    return uri + "&immutable=1" if _idle_wal_file(Path(path)) else uri


def _idle_wal_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            header = f.read(20)
    except OSError:
        return False
    wal_mode = len(header) == 20 and header.startswith(b"SQLite format 3\x00") and header[18] == 2
    return wal_mode and not path.with_name(path.name + "-wal").exists()


class SqliteConnection(EngineConnection):
    """One aiosqlite connection (its own thread) with the data layer's error accounting."""

    def __init__(self, aio: aiosqlite.Connection, path: str, thread: threading.Thread) -> None:
        self.aio = aio
        self.path = path
        self._thread = thread
        #: statements that raised; a transaction compares it before and after its block
        self.failed_statements = 0

    @classmethod
    async def open(cls, path: Path | str, *, busy_seconds: float = 5.0, read_only: bool = False) -> SqliteConnection:
        """Connect in a new thread. On failure aiosqlite stops that thread and no file stays open."""
        target = read_only_uri(path) if read_only else str(path)
        threads: list[threading.Thread] = []

        def connector() -> sqlite3.Connection:  # runs in aiosqlite's thread: remember which one
            threads.append(threading.current_thread())
            return sqlite3.connect(target, timeout=busy_seconds, isolation_level=None, uri=read_only)

        aio = aiosqlite.Connection(connector, iter_chunk_size=64)
        try:
            await aio  # starts the thread; a failed connect stops it again
        except BaseException:
            if threads:
                await _ended(threads[0])
            raise
        return cls(aio, str(path), threads[0])

    def _fail(self, e: Exception) -> NoReturn:
        """Count the failed statement and raise its error (a constraint's as the neutral class)."""
        self.failed_statements += 1
        if isinstance(e, sqlite3.IntegrityError) and not isinstance(e, IntegrityError):
            raise IntegrityError(*e.args) from e
        raise e

    # -- one hop each ------------------------------------------------------------------
    # `metric`: the named query's metrics name; its time (submit to result) and failures are
    # recorded here, in the one coroutine that runs it (the accessors' hot path).

    async def query(self, sql: str, params: Params, shape: Shape, metric: str | None = None) -> Any:
        """Rows (all, the first, or the first row's first value) in one hop: execute_fetchall."""
        check_params(params)
        start = time.perf_counter()
        try:
            rows = await self.aio.execute_fetchall(sql, params)
        except Exception as e:
            _record(metric, start, failed=True)
            self._fail(e)
        _record(metric, start)
        if shape is Shape.ROWS:
            return rows
        first = next(iter(rows), None)
        if shape is Shape.ROW or first is None:
            return first
        return first[0]

    async def change(self, sql: str, params: Params, result: Change, metric: str | None = None) -> int | None:
        """A statement without rows in one hop (execute); its rowcount or lastrowid, read from
        the cursor on the loop (sqlite3 has already reset the finished statement)."""
        check_params(params)
        start = time.perf_counter()
        try:
            cursor = await self.aio.execute(sql, params)
        except Exception as e:
            _record(metric, start, failed=True)
            self._fail(e)
        _record(metric, start)
        return cursor.rowcount if result is Change.ROWCOUNT else cursor.lastrowid

    async def run_many(self, sql: str, rows: Iterable[Params], metric: str | None = None) -> None:
        """One statement over many parameter sets in one hop (executemany)."""
        batch = list(rows)
        for params in batch:
            check_params(params)
        start = time.perf_counter()
        try:
            await self.aio.executemany(sql, batch)
        except Exception as e:
            _record(metric, start, failed=True)
            self._fail(e)
        _record(metric, start)

    def fetch_all(self, sql: str, params: Params = ()) -> Awaitable[list[Any]]:
        return self.query(sql, params, Shape.ROWS)

    def value(self, sql: str, params: Params = ()) -> Awaitable[Any]:
        """The first column of the first row (None without rows)."""
        return self.query(sql, params, Shape.VALUE)

    async def run_statement(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """Execute a statement (one hop); its cursor carries `rowcount` / `lastrowid` / rows."""
        check_params(params)
        try:
            return await self.aio.execute(sql, params)
        except Exception as e:
            self._fail(e)

    # -- EngineConnection ----------------------------------------------------------------

    async def control(self, sql: str) -> str:
        await self.run_statement(sql)
        return ""  # sqlite3 reports no command status

    def execute(self, sql: str, parameters: Params = ()) -> Result:
        return Result(self._execute(sql, parameters))

    async def _execute(self, sql: str, parameters: Params) -> Rows:
        cursor = await self.run_statement(sql, parameters)
        rows: list[Any] = []
        if cursor.description is not None:  # a statement with rows: fetch them (a second hop)
            try:
                rows = list(await cursor.fetchall())
            except Exception as e:
                self._fail(e)
        return Rows(rows, cursor.rowcount, cursor.lastrowid, cursor.description)

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        await self.run_many(sql, seq)

    async def executescript(self, script: str) -> None:
        try:
            await self.aio.executescript(script)
        except Exception as e:
            self._fail(e)

    async def backup(self, target: sqlite3.Connection) -> None:
        await self.aio.backup(target)

    @property
    def in_transaction(self) -> bool:
        """Exact only while none of this connection's statements is in flight."""
        return self.aio.in_transaction

    async def rollback_quietly(self) -> None:
        """Undo the open transaction in the connection's thread, after everything queued
        before it (aiosqlite's rollback() is a no-op when none is open); a failure is logged."""
        try:
            await self.aio.rollback()
        except (sqlite3.Error, ValueError) as e:  # ValueError: aiosqlite's connection is closed
            log.error("rollback on %s failed: %s", self.path, e)

    async def close(self) -> None:
        """Close after everything queued; returns once the thread has ended. Idempotent."""
        await self.aio.close()
        await _ended(self._thread)

    # -- catalog (engine-neutral tools) --------------------------------------------------

    def placeholder(self, index: int) -> str:
        return "?"

    async def table_names(self) -> set[str]:
        rows = await self.fetch_all("SELECT name FROM sqlite_schema WHERE type = 'table'")
        return {str(r[0]) for r in rows}

    async def identity_high_water(self, table: str, column: str) -> int:
        # sqlite_sequence exists as soon as a table with AUTOINCREMENT does; no row: no id yet
        rows = await self.fetch_all("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        return int(rows[0][0]) if rows else 0

    async def set_identity_high_water(self, table: str, column: str, value: int) -> None:
        # inserting explicit ids already raised sqlite_sequence to the highest id; only raise it
        if value > await self.identity_high_water(table, column):
            await self.run_statement("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            await self.run_statement("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))


async def _ended(thread: threading.Thread) -> None:
    """Wait (without blocking the loop, 2 s at most) until a stopped connection's thread has
    returned: it delivered its last result a moment ago and only has to leave its loop."""
    for _ in range(4000):
        if not thread.is_alive():
            return
        await asyncio.sleep(0.0005)


def as_sqlite(conn: EngineConnection) -> SqliteConnection:
    """The SQLite connection behind a ReadConn/WriteConn, for SQLite-only maintenance."""
    if not isinstance(conn, SqliteConnection):
        raise TypeError("this operation needs the SQLite engine")
    return conn


def _record(metric: str | None, start: float, *, failed: bool = False) -> None:
    """A named query's time since `start` and whether it failed (unnamed statements are not counted)."""
    if metric is not None:
        METRICS.record(metric, time.perf_counter() - start, failed=failed)


def is_not_a_database(e: BaseException) -> bool:
    """The error of opening something that is not a (readable) SQLite database."""
    msg = str(e).lower()
    return isinstance(e, sqlite3.DatabaseError) and (
        "file is not a database" in msg or "malformed" in msg or "file is encrypted" in msg
    )

"""An asyncio driver for sqlite3 that batches its thread hops.

Each connection lives in its own thread (sqlite3 calls never run on the event loop).
aiosqlite makes one round trip to that thread per call (execute, fetch, close: three per
query). Here a whole query runs in one job, and the thread drains every queued job per
wake-up and hands all results back with one `call_soon_threadsafe`: under concurrency the
cost of a hop is shared by every query queued behind it.

The API mirrors the parts of aiosqlite the data layer uses (`execute` as awaitable and async
context manager, `executemany`, `executescript`, `backup`, `in_transaction`, `close`), and
adds `run(fn)`, which the generated accessors use to run a whole aiosql (sync) call at once.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

from bot.db.connections import EngineConnection
from bot.db.errors import IntegrityError
from bot.db.metrics import METRICS

T = TypeVar("T")
DELIVERY_SLICE = 16
_ids = itertools.count(1)


# (work or None to close and stop, its future, metrics name or None, perf_counter at submit)
Job = tuple[Callable[[sqlite3.Connection], Any] | None, "asyncio.Future[Any]", str | None, float]
# (future, succeeded, result or exception, metrics name or None, seconds from submit to done)
Done = tuple["asyncio.Future[Any]", bool, Any, str | None, float]


class Rows:
    """What a statement returned, fetched completely inside the driver thread."""

    __slots__ = ("_index", "_rows", "description", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows: list[Any] = cursor.fetchall() if cursor.description is not None else []
        self._index = 0
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.description = cursor.description
        cursor.close()

    async def fetchone(self) -> Any:
        if self._index >= len(self._rows):
            return None
        self._index += 1
        return self._rows[self._index - 1]

    async def fetchall(self) -> list[Any]:
        rest, self._index = self._rows[self._index :], len(self._rows)
        return rest

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Rows:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Result(Generic[T]):
    """Awaitable and usable as `async with`, like aiosqlite's `execute()` result."""

    def __init__(self, future: asyncio.Future[T]) -> None:
        self._future = future

    def __await__(self) -> Generator[Any, None, T]:
        return self._future.__await__()

    async def __aenter__(self) -> T:
        return await self._future

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class Connection(EngineConnection):
    """One sqlite3 connection and the thread it lives in."""

    def __init__(self, path: Path | str, *, busy_seconds: float = 5.0) -> None:
        self.path = str(path)
        self.busy_seconds = busy_seconds
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._work, name=f"deadlock-db-{next(_ids)}", daemon=True)
        self._closed = False
        self._prefix: str | None = None
        self.jobs = 0  # queries and statements submitted
        self.wakeups = 0  # thread wake-ups (hops back to the loop): jobs / wakeups = the batching
        #: statements that raised; the Database compares it around a transaction (a caught
        #: error must not let the rest commit). Written by the thread before it delivers.
        self.failed_statements = 0

    @classmethod
    async def open(cls, path: Path | str, *, busy_seconds: float = 5.0) -> Connection:
        conn = cls(path, busy_seconds=busy_seconds)
        conn._loop = asyncio.get_running_loop()
        conn._thread.start()
        await conn.run(conn._connect)
        return conn

    def _connect(self, _: sqlite3.Connection | None) -> None:
        self._conn = sqlite3.connect(
            self.path, timeout=self.busy_seconds, isolation_level=None, check_same_thread=False
        )

    # -- the thread ----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            first = self._jobs.get()
            batch = [first]
            while True:  # drain: everything queued meanwhile rides on this wake-up
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            self.wakeups += 1
            results: list[Done] = []
            stop = False
            for fn, future, metric, submitted in batch:
                if fn is None:
                    stop = True
                    if self._conn is not None:
                        self._conn.close()
                        self._conn = None
                    results.append((future, True, None, None, 0.0))
                    continue
                try:
                    value = fn(self._conn)  # type: ignore[arg-type]
                    results.append((future, True, value, metric, time.perf_counter() - submitted))
                except sqlite3.IntegrityError as e:  # the engine-neutral class (still a sqlite3 one)
                    self.failed_statements += 1
                    err = IntegrityError(*e.args)
                    err.__cause__ = e
                    results.append((future, False, err, metric, time.perf_counter() - submitted))
                except BaseException as e:  # handed to the awaiting task
                    self.failed_statements += 1
                    results.append((future, False, e, metric, time.perf_counter() - submitted))
            if self._loop is not None and not self._loop.is_closed():
                # in slices: the loop runs timers and I/O between them, so waking a hundred
                # waiting tasks at once cannot stall it
                for i in range(0, len(results), DELIVERY_SLICE):
                    self._loop.call_soon_threadsafe(_deliver, results[i : i + DELIVERY_SLICE])
            if stop:
                return

    # -- the event loop side ----------------------------------------------------------

    def begin_with_next(self, sql: str) -> None:
        """Run `sql` (e.g. BEGIN IMMEDIATE) in the same job as the next statement: one hop less.
        Its error, if any, is the next statement's error (which then does not run)."""
        self._prefix = sql

    def discard_begin(self) -> None:
        """Forget a pending `begin_with_next` (the unit of work ended before any statement)."""
        self._prefix = None

    def submit(self, fn: Callable[[sqlite3.Connection], T], metric: str | None = None) -> asyncio.Future[T]:
        """Queue `fn(sqlite3_connection)` for the connection's thread; await the returned future.
        With `metric`, the time from here until the thread finished it is recorded under that
        name (on the loop, when the result is delivered: no extra work on the awaiting side)."""
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if self._prefix is not None:
            prefix, self._prefix, inner = self._prefix, None, fn

            def fn(c: sqlite3.Connection) -> T:
                c.execute(prefix)
                return inner(c)

        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, future, metric, time.perf_counter() if metric is not None else 0.0))
        self.jobs += 1
        return future

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(sqlite3_connection)` in the connection's thread; one hop, batched with others."""
        return await self.submit(fn)

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> _Result[Rows]:
        return _Result(self.submit(lambda c: Rows(c.execute(sql, parameters))))

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any] | dict[str, Any]]) -> Rows:
        rows = list(seq)
        return await self.submit(lambda c: Rows(c.executemany(sql, rows)))

    async def executescript(self, script: str) -> None:
        await self.submit(lambda c: c.executescript(script))

    async def backup(self, target: sqlite3.Connection) -> None:
        await self.submit(lambda c: c.backup(target))

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.in_transaction

    # -- catalog (engine-neutral tools) ----------------------------------------------------

    def placeholder(self, index: int) -> str:
        return "?"

    async def table_names(self) -> set[str]:
        rows = await self.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        return {str(r[0]) for r in await rows.fetchall()}

    async def identity_high_water(self, table: str, column: str) -> int:
        # sqlite_sequence exists as soon as a table with AUTOINCREMENT does; no row: no id yet
        rows = await self.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        row = await rows.fetchone()
        return int(row[0]) if row else 0

    async def set_identity_high_water(self, table: str, column: str, value: int) -> None:
        # inserting explicit ids already raised sqlite_sequence to the highest id; only raise it
        current = await self.identity_high_water(table, column)
        if value > current:
            await self.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
            await self.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))

    async def close(self) -> None:
        """Close the connection and end its thread (idempotent)."""
        if self._closed:
            return
        loop = self._loop or asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._closed = True
        self._jobs.put((None, done, None, 0.0))
        await done
        self._thread.join(timeout=1.0)  # it has delivered its last batch and is returning: no wait


def _deliver(results: list[Done]) -> None:
    for future, ok, value, metric, seconds in results:
        if metric is not None:
            METRICS.record(metric, seconds, failed=not ok)
        if future.done():  # the awaiting task was cancelled; the work itself did happen
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def as_sqlite(conn: EngineConnection) -> Connection:
    """The SQLite connection behind a ReadConn/WriteConn, for SQLite-only maintenance."""
    if not isinstance(conn, Connection):
        raise TypeError("this operation needs the SQLite engine")
    return conn

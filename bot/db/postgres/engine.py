"""The central database on PostgreSQL: the same API, queries and migrations as on SQLite.

Selected by `DATABASE_URL=postgresql://...` (or `--db postgresql://...`). One asyncpg pool
per process, sized by the connection budget (bot/db/postgres/settings.py): writers, readers
and shared locks all draw from it, and a unit of work waits for a free connection instead of
failing. Every unit is one transaction on one connection (reads `READ ONLY`, snapshots
`REPEATABLE READ`), so nothing depends on session state and PgBouncer in transaction
pooling mode can stand in between.

Inside a unit, the same task's further units run on its connection: `transaction()`,
`read()` and a `write()` inside a lock become savepoints, so a task never waits for a
second connection while holding one. `exclusive(key)` is `pg_advisory_xact_lock` inside a
unit of its own (or inside the unit already open): the lock holder's queries run on the
lock's connection and commit when the lock is released.

Cancellation: a unit's end (COMMIT, or ROLLBACK after an error or a cancellation, at any
await point) runs to its end (`finish_uncancellable`), and the connection goes back to the
pool only after it; the cancellation is raised after that. The
schema version lives in `deadlock_schema_version`; migrations take an advisory lock so two
processes never migrate at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import itertools
import logging
import urllib.parse
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import asyncpg

from bot.db.base import Database, finish_uncancellable
from bot.db.connections import ReadConn, WriteConn
from bot.db.errors import (
    DatabaseClosedError,
    DatabaseLocationError,
    MigrationError,
    TransactionAbortedError,
)
from bot.db.metrics import METRICS
from bot.db.postgres.connection import PG_QUERIES, PgConnection, PgQueries, PgRows
from bot.db.postgres.settings import PgSettings
from bot.db.sqlite.maintenance import quote_ident
from bot.db.urls import is_postgres_url, redact_url
from bot.resources import MIGRATIONS_DIR

__all__ = [
    "PG_QUERIES",
    "PgConnection",
    "PgDatabase",
    "PgQueries",
    "PgRows",
    "is_postgres_url",
    "redact_url",
    "upgrade_postgres",
]

log = logging.getLogger(__name__)
VERSION_TABLE = "deadlock_schema_version"
_MIGRATION_LOCK = 0x0DEAD10C  # pg_advisory_xact_lock key: one migrating process at a time
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


class UnitKind(enum.Enum):
    TRANSACTION = "transaction"  # all or nothing
    READ = "read"  # READ ONLY (a snapshot: REPEATABLE READ as well)
    LOCK = "lock"  # a held shared lock: its inner units commit with it, each on its own savepoint


@dataclasses.dataclass(frozen=True)
class _OpenUnit:
    task: asyncio.Task[Any] | None
    conn: PgConnection
    kind: UnitKind


_savepoints = itertools.count(1)


def _refuse_if_failed(conn: PgConnection, failed_before: int) -> None:
    if conn.failed_statements != failed_before:
        raise TransactionAbortedError


async def _keep_session(raw: asyncpg.Connection) -> None:
    """The pool's reset on release: every unit ended its transaction already, and nothing
    else lives in the session (no session locks, no SET), so there is nothing to undo."""
    if raw.is_in_transaction():  # pragma: no cover - a unit always ends its transaction
        await raw.execute("ROLLBACK")


def split_search_path(url: str) -> tuple[str, str | None]:
    """The URL without a `search_path` query parameter, and that parameter's value."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    found = [v for k, v in query if k == "search_path"]
    if not found:
        return url, None
    rest = urllib.parse.urlencode([(k, v) for k, v in query if k != "search_path"])
    return urllib.parse.urlunsplit(parts._replace(query=rest)), found[-1]


class PgDatabase(Database):
    """The central database on a PostgreSQL server (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        max_connections: int | None = None,
        pgbouncer: bool | None = None,
        settings: PgSettings | None = None,
    ) -> None:
        settings = settings or PgSettings.from_env()
        self.settings = PgSettings(
            max_connections=settings.max_connections if max_connections is None else max_connections,
            pgbouncer=settings.pgbouncer if pgbouncer is None else pgbouncer,
        )
        self.url, url_schema = split_search_path(url)
        #: a schema of its own (tests, several bots on one database): the search_path
        self.schema = schema or url_schema
        self._pool: asyncpg.Pool | None = None
        self._pg_state = "new"
        # open() and close() one at a time: a second close() (the bot's and the runner's) waits
        # for the first to finish instead of returning while the pool is still closing
        self._state_lock = asyncio.Lock()
        # A unit may wait for a second connection while it holds its first (a read inside a
        # transaction, a task started inside a unit): first connections take a slot, second
        # ones do not, so one connection is always left for them and the budget never deadlocks.
        self._first_slots = asyncio.Semaphore(self.settings.max_connections - 1)
        self._in_use = 0
        # the unit open in this task (or the task that started it), per database
        self._current: contextvars.ContextVar[_OpenUnit | None] = contextvars.ContextVar(
            f"deadlock_pg_unit_{id(self)}", default=None
        )
        #: the most connections this process had checked out at once
        self.peak_in_use = 0

    @property
    def max_connections(self) -> int:
        return self.settings.max_connections

    @property
    def connections_in_use(self) -> int:
        return self._in_use

    @property
    def is_open(self) -> bool:
        return self._pg_state == "open"

    @property
    def location(self) -> str:
        return redact_url(self.url)

    async def open(self) -> None:
        async with self._state_lock:
            await self._open()

    async def _open(self) -> None:
        if self._pg_state == "open":
            return
        if self._pg_state == "closed":
            raise DatabaseClosedError(f"database {self.location} was closed")
        # through PgBouncer the schema is set per transaction; directly, once per connection
        settings = {"search_path": self.schema} if self.schema and not self.settings.pgbouncer else {}
        extra: dict[str, Any] = {"statement_cache_size": 0} if self.settings.pgbouncer else {}
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.settings.max_connections,
                server_settings=settings,
                reset=_keep_session,
                **extra,
            )
        except (OSError, asyncpg.PostgresError) as e:
            raise DatabaseLocationError(f"cannot connect to PostgreSQL at {self.location}: {e}") from e
        self._pg_state = "open"

    async def close(self, drain_seconds: float = 30.0) -> None:
        async with self._state_lock:
            if self._pg_state == "closed":
                return
            self._pg_state = "closed"
            pool, self._pool = self._pool, None
            if pool is not None:
                try:  # waits for every checked-out connection to come back (their units end first)
                    await asyncio.wait_for(pool.close(), drain_seconds)
                except TimeoutError:
                    log.warning("PostgreSQL connections did not close within %.0fs", drain_seconds)
                    pool.terminate()
            log.info("database %s closed; query metrics:\n%s", self.location, METRICS.summary())

    def _live_pool(self) -> asyncpg.Pool:
        if self._pg_state != "open" or self._pool is None:
            raise DatabaseClosedError(
                f"database {self.location} is {'closed' if self._pg_state == 'closed' else 'not open'}"
            )
        return self._pool

    # -- units of work ---------------------------------------------------------------------

    def _open_here(self) -> _OpenUnit | None:
        """The unit this task has open (a task started inside it is another task: not its unit)."""
        current = self._current.get()
        if current is not None and current.task is asyncio.current_task():
            return current
        return None

    async def _begin(self, raw: asyncpg.Connection, mode: str) -> None:
        sql = f"BEGIN{mode}"
        if self.schema and self.settings.pgbouncer:
            sql += f"; SET LOCAL search_path TO {quote_ident(self.schema)}"
        await raw.execute(sql)

    async def _end(self, pool: asyncpg.Pool, raw: asyncpg.Connection, sql: str) -> None:
        try:
            try:
                await raw.execute(sql)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as e:
                log.warning("ending a PostgreSQL transaction (%s) failed: %s; dropping the connection", sql, e)
                raw.terminate()
        finally:
            self._in_use -= 1  # before the release: a waiter may get this connection at once
            await pool.release(raw)

    @contextlib.asynccontextmanager
    async def _unit(self, kind: UnitKind, mode: str = "") -> AsyncIterator[PgConnection]:
        pool = self._live_pool()
        second = self._current.get() is not None  # this task (or the one that started it) holds a connection
        async with contextlib.nullcontext() if second else self._first_slots:
            raw = await pool.acquire()  # waits while the budget is used up
            self._in_use += 1
            self.peak_in_use = max(self.peak_in_use, self._in_use)
            conn = PgConnection(raw)
            token = self._current.set(_OpenUnit(asyncio.current_task(), conn, kind))
            ending = "ROLLBACK"
            try:
                await self._begin(raw, mode)
                yield conn
                if kind is UnitKind.TRANSACTION:  # COMMIT of an aborted transaction rolls back: refuse
                    _refuse_if_failed(conn, 0)
                ending = "COMMIT"
            finally:
                self._current.reset(token)
                if kind is UnitKind.LOCK:
                    ending = "COMMIT"  # its inner units stand (each rolled back its own failure)
                # to its end (after the savepoint steps queued before it) even when cancelled meanwhile
                await finish_uncancellable(lambda: _shielded(conn, self._end(pool, raw, ending)))

    @contextlib.asynccontextmanager
    async def _savepoint(self, conn: PgConnection, *, refuse: bool) -> AsyncIterator[None]:
        name = f"deadlock_sp_{next(_savepoints)}"
        failed_before = conn.failed_statements
        await _shielded(conn, conn.raw.execute(f"SAVEPOINT {name}"))
        ok = False
        try:
            yield
            if refuse:
                _refuse_if_failed(conn, failed_before)
            ok = True
        finally:
            if ok:
                await _shielded(conn, conn.raw.execute(f"RELEASE SAVEPOINT {name}"))
            else:
                conn.failed_statements = failed_before  # undone with the savepoint
                await _shielded(conn, conn.raw.execute(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        current = self._open_here()
        if current is not None and current.kind is not UnitKind.READ:
            async with self._savepoint(current.conn, refuse=True):
                yield WriteConn(current.conn)
            return
        async with self._unit(UnitKind.TRANSACTION) as conn:
            yield WriteConn(conn)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[WriteConn]:
        current = self._open_here()
        if current is not None and current.kind is UnitKind.TRANSACTION:
            yield WriteConn(current.conn)  # part of that transaction
            return
        async with self.transaction() as conn:  # on its own (or on its own savepoint inside a lock)
            yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[ReadConn]:
        current = self._open_here()
        if current is not None and current.kind is not UnitKind.TRANSACTION:
            # a lock holder reads what it wrote so far (committed when the lock goes); a
            # failed read dooms nothing
            async with self._savepoint(current.conn, refuse=False):
                yield ReadConn(current.conn)
            return
        # the latest commit, also inside a transaction: a second connection
        async with self._unit(UnitKind.READ, " READ ONLY") as conn:
            yield ReadConn(conn)

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[ReadConn]:
        async with self._unit(UnitKind.READ, " ISOLATION LEVEL REPEATABLE READ READ ONLY") as conn:
            yield ReadConn(conn)

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str) -> AsyncIterator[None]:
        """An advisory lock on the hash of `key` until the unit holding it ends: the unit this
        task has open, else one of its own whose connection the block's queries then use.
        PostgreSQL drops it with the transaction, also when the process dies."""
        current = self._open_here()
        if current is not None and current.kind is not UnitKind.READ:
            await current.conn.raw.execute(_LOCK_SQL, key)
            yield
            return
        async with self._unit(UnitKind.LOCK) as conn:
            await conn.raw.execute(_LOCK_SQL, key)
            yield

    async def user_version(self) -> int:
        async with self.read() as conn:
            assert isinstance(conn, PgConnection)
            exists = await conn.raw.fetchval("SELECT to_regclass($1) IS NOT NULL", VERSION_TABLE)
            if not exists:
                return 0
            return int(await conn.raw.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))


async def _shielded(conn: PgConnection, step: Coroutine[Any, Any, Any]) -> None:
    """Run `step` to its end even if the caller is cancelled meanwhile, after the steps
    already queued on the same connection (a cancelled caller's outer unit ends after it)."""
    previous = conn.pending

    async def in_order() -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        await step

    task = asyncio.ensure_future(in_order())
    conn.pending = task
    await asyncio.shield(task)


async def upgrade_postgres(db: PgDatabase, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the PostgreSQL migrations that are missing, each in one transaction; returns their names."""
    files = sorted((migrations_dir / "postgres").glob("*.sql"))
    applied = []
    async with db.transaction() as conn:
        raw = conn.raw if isinstance(conn, PgConnection) else None
        assert raw is not None
        await raw.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await raw.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
        current = int(await raw.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))
        for path in files:
            version = int(path.name.split("_", 1)[0])
            if version <= current:
                continue
            try:
                async with db.transaction():  # a savepoint: one migration is all or nothing
                    await raw.execute(path.read_text(encoding="utf-8"))
                    await raw.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES ($1)", version)
            except asyncpg.PostgresError as e:
                raise MigrationError(f"PostgreSQL migration {path.name} failed and was rolled back: {e}") from e
            applied.append(path.name)
    return applied

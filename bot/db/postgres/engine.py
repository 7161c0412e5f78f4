"""The central database on PostgreSQL: the same API, queries and migrations as on SQLite.

Selected by `DATABASE_URL=postgresql://...` (or `--db postgresql://...`). Two asyncpg pools:
readers (every session `default_transaction_read_only`, so a write on a read connection
fails as on SQLite) and writers. The generated accessors run aiosql's asyncpg functions on
these connections (the same .sql files; aiosql turns `:name` into `$1`). Transactions are
asyncpg transactions (nested ones become savepoints); the schema version lives in
`deadlock_schema_version`, and migrations take an advisory lock so two processes never
migrate at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosql
import asyncpg

from bot.db.base import Database
from bot.db.connections import EngineConnection, ReadConn, WriteConn
from bot.db.errors import (
    DatabaseClosedError,
    DatabaseLocationError,
    IntegrityError,
    MigrationError,
    TransactionAbortedError,
)
from bot.db.metrics import METRICS
from bot.db.sqlite.maintenance import quote_ident
from bot.db.urls import is_postgres_url, redact_url
from bot.resources import MIGRATIONS_DIR, SQL_DIR

log = logging.getLogger(__name__)
VERSION_TABLE = "deadlock_schema_version"
_MIGRATION_LOCK = 0x0DEAD10C  # pg_advisory_xact_lock key: one migrating process at a time


class PgQueries:
    """aiosql's asyncpg functions per namespace, loaded once from the same sql/ folders."""

    def __init__(self, sql_dir: Path = SQL_DIR) -> None:
        self.sql_dir = sql_dir
        self._loaded: dict[str, Any] = {}

    def get(self, namespace: str, name: str) -> Any:
        q = self._loaded.get(namespace)
        if q is None:
            q = self._loaded[namespace] = aiosql.from_path(self.sql_dir / namespace, "asyncpg")
        return getattr(q, name)


PG_QUERIES = PgQueries()


class PgRows:
    __slots__ = ("_index", "_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self._index, self.rowcount = rows, 0, rowcount

    async def fetchone(self) -> Any:
        if self._index >= len(self._rows):
            return None
        self._index += 1
        return tuple(self._rows[self._index - 1])

    async def fetchall(self) -> list[Any]:
        rest, self._index = self._rows[self._index :], len(self._rows)
        return [tuple(r) for r in rest]

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> PgRows:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _rowcount(status: str) -> int:
    """asyncpg's command status ('UPDATE 3', 'INSERT 0 1') as a row count."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@contextlib.contextmanager
def _mapped(conn: PgConnection) -> Generator[None, None, None]:
    try:
        yield
    except asyncpg.PostgresError as e:
        conn.failed_statements += 1  # inside a transaction, PostgreSQL has now aborted it
        if isinstance(e, asyncpg.IntegrityConstraintViolationError):
            raise IntegrityError(str(e)) from e
        raise


class _PgResult:
    def __init__(self, coro: Any) -> None:
        self._coro = coro

    def __await__(self) -> Generator[Any, None, PgRows]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> PgRows:
        return await self._coro  # type: ignore[no-any-return]

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection(EngineConnection):
    """One pooled asyncpg connection with the data layer's API."""

    def __init__(self, raw: asyncpg.Connection, queries: PgQueries = PG_QUERIES) -> None:
        self.raw = raw
        self.queries = queries
        self.failed_statements = 0  # as on SQLite's driver: compared around a transaction

    async def _execute(self, sql: str, parameters: Sequence[Any]) -> PgRows:
        with _mapped(self):
            stmt = await self.raw.prepare(sql)
            if stmt.get_attributes():  # the statement returns rows
                rows = await stmt.fetch(*parameters)
                return PgRows(list(rows), len(rows))
            status = await self.raw.execute(sql, *parameters)
            return PgRows([], _rowcount(status))

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return _PgResult(self._execute(sql, parameters))

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Any:
        with _mapped(self):
            await self.raw.executemany(sql, list(seq))

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.is_in_transaction())

    # -- catalog (engine-neutral tools) ----------------------------------------------------

    def placeholder(self, index: int) -> str:
        return f"${index}"

    async def table_names(self) -> set[str]:
        rows = await self.raw.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {str(r[0]) for r in rows}

    async def identity_high_water(self, table: str, column: str) -> int:
        value = await self.raw.fetchval(
            "SELECT s.last_value FROM pg_sequences s "
            "WHERE quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) = pg_get_serial_sequence($1, $2)",
            table,
            column,
        )
        return int(value) if value is not None else 0  # NULL: no id handed out yet

    async def set_identity_high_water(self, table: str, column: str, value: int) -> None:
        # explicit ids do not move an identity's sequence: set it past them and past `value`
        highest = f"(SELECT COALESCE(MAX({quote_ident(column)}), 0) FROM {quote_ident(table)})"
        with _mapped(self):
            await self.raw.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), GREATEST($3::bigint, {highest}, 1), "
                f"GREATEST($3::bigint, {highest}) > 0)",
                table,
                column,
                value,
            )

    async def run_query(self, namespace: str, name: str, params: dict[str, Any], kind: str) -> Any:
        """A named query (called by the generated accessors)."""
        fn = self.queries.get(namespace, name)
        with _mapped(self):
            if kind == "all":
                return [tuple(r) async for r in fn(self.raw, **params)]
            if kind == "many":
                await fn(self.raw, params["rows"])
                return None
            result = await fn(self.raw, **params)
        operation = fn.operation.name
        if operation == "INSERT_UPDATE_DELETE":  # '!': asyncpg gives the command status
            return _rowcount(str(result))
        if operation == "SELECT_ONE" and result is not None:  # '^': a row, read by position
            return tuple(result)
        return result


def _refuse_if_failed(conn: PgConnection, failed_before: int) -> None:
    if conn.failed_statements != failed_before:
        raise TransactionAbortedError


_current_tx: contextvars.ContextVar[tuple[asyncio.Task[Any] | None, PgConnection] | None] = contextvars.ContextVar(
    "deadlock_pg_tx", default=None
)


class PgDatabase(Database):
    """The central database on a PostgreSQL server (see the module docstring)."""

    def __init__(
        self, url: str, *, pool_size: int = 10, readers: int = 5, locks: int = 20, schema: str | None = None
    ) -> None:
        self.url = url
        #: a schema of its own (tests, several bots on one database): set as the search_path
        self.schema = schema
        self.pool_size = pool_size
        self.read_pool_size = readers
        self.lock_pool_size = locks
        self._pool: asyncpg.Pool | None = None
        self._read_pool: asyncpg.Pool | None = None
        # advisory locks (`exclusive`) live on connections of their own: a block holding one
        # still gets its queries' connections from the other pools, so it cannot starve itself
        self._lock_pool: asyncpg.Pool | None = None
        self._pg_state = "new"
        # open() and close() one at a time: a second close() (the bot's and the runner's) waits
        # for the first to finish instead of returning while the pools are still closing
        self._state_lock = asyncio.Lock()

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
        settings = {"search_path": self.schema} if self.schema else {}
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self.pool_size, server_settings=settings
            )
            self._read_pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.read_pool_size,
                server_settings={**settings, "default_transaction_read_only": "on"},
            )
            self._lock_pool = await asyncpg.create_pool(self.url, min_size=0, max_size=self.lock_pool_size)
        except (OSError, asyncpg.PostgresError) as e:
            await self._close_pools()
            raise DatabaseLocationError(f"cannot connect to PostgreSQL at {self.location}: {e}") from e
        self._pg_state = "open"

    async def _close_pools(self) -> None:
        for pool in (self._lock_pool, self._read_pool, self._pool):
            if pool is not None:
                await pool.close()
        self._pool = self._read_pool = self._lock_pool = None

    async def close(self, drain_seconds: float = 30.0) -> None:
        async with self._state_lock:
            if self._pg_state == "closed":
                return
            self._pg_state = "closed"
            try:
                await asyncio.wait_for(self._close_pools(), drain_seconds)
            except TimeoutError:
                log.warning("PostgreSQL pools did not close within %.0fs", drain_seconds)
            log.info("database %s closed; query metrics:\n%s", self.location, METRICS.summary())

    def _pools(self) -> tuple[asyncpg.Pool, asyncpg.Pool]:
        if self._pg_state != "open" or self._pool is None or self._read_pool is None:
            raise DatabaseClosedError(
                f"database {self.location} is {'closed' if self._pg_state == 'closed' else 'not open'}"
            )
        return self._pool, self._read_pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        current = _current_tx.get()
        if current is not None and current[0] is asyncio.current_task():
            conn = current[1]
            failed_before = conn.failed_statements
            try:
                async with conn.raw.transaction():  # nested: a savepoint
                    yield WriteConn(conn)
                    _refuse_if_failed(conn, failed_before)
            except BaseException:
                conn.failed_statements = failed_before  # undone with the savepoint
                raise
            return
        pool, _ = self._pools()
        async with pool.acquire() as raw:
            conn = PgConnection(raw)
            token = _current_tx.set((asyncio.current_task(), conn))
            try:
                async with raw.transaction():
                    yield WriteConn(conn)
                    # COMMIT of an aborted transaction silently rolls back: refuse instead
                    _refuse_if_failed(conn, 0)
            finally:
                _current_tx.reset(token)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[WriteConn]:
        current = _current_tx.get()
        if current is not None and current[0] is asyncio.current_task():
            yield WriteConn(current[1])
            return
        pool, _ = self._pools()
        async with pool.acquire() as raw:
            yield WriteConn(PgConnection(raw))

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[ReadConn]:
        _, pool = self._pools()
        async with pool.acquire() as raw:
            yield ReadConn(PgConnection(raw))

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[ReadConn]:
        _, pool = self._pools()
        async with pool.acquire() as raw, raw.transaction(isolation="repeatable_read", readonly=True):
            yield ReadConn(PgConnection(raw))

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str) -> AsyncIterator[None]:
        """An advisory lock on the hash of `key`, on a connection of the lock pool. Returning
        the connection to the pool unlocks it even if the block was cancelled half-way
        (asyncpg resets a connection with pg_advisory_unlock_all)."""
        self._pools()
        assert self._lock_pool is not None
        async with self._lock_pool.acquire() as raw:
            await raw.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
            try:
                yield
            finally:
                await raw.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)

    async def user_version(self) -> int:
        pool, _ = self._pools()
        async with pool.acquire() as raw:
            exists = await raw.fetchval("SELECT to_regclass($1) IS NOT NULL", VERSION_TABLE)
            if not exists:
                return 0
            return int(await raw.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))


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
                async with raw.transaction():
                    await raw.execute(path.read_text(encoding="utf-8"))
                    await raw.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES ($1)", version)
            except asyncpg.PostgresError as e:
                raise MigrationError(f"PostgreSQL migration {path.name} failed and was rolled back: {e}") from e
            applied.append(path.name)
    return applied


__all__ = ["PgDatabase", "is_postgres_url", "redact_url", "upgrade_postgres"]

"""The central database on PostgreSQL: the same API, queries and migrations as on SQLite.

Selected by `DATABASE_URL=postgresql://...` (or `--db postgresql://...`). One asyncpg pool
per process, sized by the connection budget (bot/db/postgres/settings.py): writers, readers
and shared locks all draw from it, and a unit of work waits for a free connection instead of
failing. Every unit is one transaction on one connection (reads `READ ONLY`, snapshots
`REPEATABLE READ`), so nothing depends on session state and PgBouncer in transaction
pooling mode can stand in between.

The unit of work itself (bot.db.base.Database, bot.db.unit) is the same as on SQLite; this
engine supplies its primitives: a pooled connection within the budget, BEGIN with the unit's
mode (and the schema, through PgBouncer), COMMIT (a failed one, or one PostgreSQL turned into
a ROLLBACK, is raised to the caller), ROLLBACK (a connection that cannot roll back is dropped).
Inside a unit, the same task's further units run on its connection: `transaction()`,
`read()` and a `write()` inside a lock become savepoints, so a task never waits for a
second connection while holding one. `exclusive(key)` is `pg_advisory_xact_lock` inside a
unit of its own (or inside the unit already open): the lock holder's queries run on the
lock's connection and commit when the lock is released.

Cancellation: a unit's end runs to its end (`finish_uncancellable`), and the connection goes
back to the pool only after it; the cancellation is raised after that. The schema version
lives in `deadlock_schema_version`; migrations take an advisory lock so two processes never
migrate at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from bot.db import unit
from bot.db.base import Database
from bot.db.connections import EngineConnection
from bot.db.errors import (
    DatabaseClosedError,
    DatabaseLocationError,
    MigrationError,
    TransactionAbortedError,
)
from bot.db.metrics import METRICS
from bot.db.postgres.connection import PG_QUERIES, PgConnection, PgQueries
from bot.db.postgres.settings import PgSettings
from bot.db.sqlite.maintenance import quote_ident
from bot.db.unit import UnitKind, finish_uncancellable
from bot.db.urls import is_postgres_url, redact_url
from bot.resources import MIGRATIONS_DIR

__all__ = [
    "PG_QUERIES",
    "PgConnection",
    "PgDatabase",
    "PgQueries",
    "is_postgres_url",
    "redact_url",
    "upgrade_postgres",
]

log = logging.getLogger(__name__)
VERSION_TABLE = "deadlock_schema_version"
_MIGRATION_LOCK = 0x0DEAD10C  # pg_advisory_xact_lock key: one migrating process at a time
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


_BEGIN = {
    UnitKind.TRANSACTION: "BEGIN",
    UnitKind.LOCK: "BEGIN",
    UnitKind.READ: "BEGIN READ ONLY",
    UnitKind.SNAPSHOT: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
}


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

    # -- the engine's primitives (the unit of work itself: bot.db.base.Database) ---------------

    @contextlib.asynccontextmanager
    async def _connection(self, kind: UnitKind) -> AsyncIterator[EngineConnection]:
        pool = self._live_pool()
        # A unit may wait for a second connection while its task (or the one that started it)
        # holds a first one: only first connections take a slot of budget-1.
        second = unit.holds_connection(self)
        async with contextlib.nullcontext() if second else self._first_slots:
            raw = await pool.acquire()  # waits while the budget is used up
            self._in_use += 1
            self.peak_in_use = max(self.peak_in_use, self._in_use)
            try:
                yield PgConnection(raw)
            finally:
                self._in_use -= 1  # before the release: a waiter may get this connection at once
                await finish_uncancellable(lambda: pool.release(raw))

    async def _begin(self, conn: EngineConnection, kind: UnitKind) -> None:
        sql = _BEGIN[kind]
        if self.schema and self.settings.pgbouncer:
            sql += f"; SET LOCAL search_path TO {quote_ident(self.schema)}"
        await conn.control(sql)

    async def _commit(self, conn: EngineConnection) -> None:
        # COMMIT of a transaction PostgreSQL aborted (a failed statement whose error was not
        # counted, e.g. on the raw connection) answers ROLLBACK instead of failing: raise it
        if await conn.control("COMMIT") == "ROLLBACK":
            raise TransactionAbortedError

    async def _rollback(self, conn: EngineConnection) -> None:
        raw = _pg(conn).raw
        try:
            await raw.execute("ROLLBACK")
        except Exception as e:  # the connection broke (it may be in any state): drop it
            log.warning("rolling back a PostgreSQL transaction failed: %s; dropping the connection", e)
            with contextlib.suppress(asyncpg.InterfaceError):  # a dead connection has left the pool already
                raw.terminate()

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str) -> AsyncIterator[None]:
        """An advisory lock on the hash of `key` until the unit holding it ends: the unit this
        task has open, else one of its own whose connection the block's queries then use.
        PostgreSQL drops it with the transaction, also when the process dies."""
        here = unit.open_here(self)
        if here is not None and here.kind.writes:
            await _pg(here.conn).raw.execute(_LOCK_SQL, key)
            yield
            return
        async with self._unit(UnitKind.LOCK) as conn:
            await _pg(conn).raw.execute(_LOCK_SQL, key)
            yield

    async def user_version(self) -> int:
        async with self.read() as conn:
            raw = _pg(conn).raw
            exists = await raw.fetchval("SELECT to_regclass($1) IS NOT NULL", VERSION_TABLE)
            if not exists:
                return 0
            return int(await raw.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))


def _pg(conn: EngineConnection) -> PgConnection:
    assert isinstance(conn, PgConnection)
    return conn


async def upgrade_postgres(db: PgDatabase, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the PostgreSQL migrations that are missing, each in one transaction; returns their names."""
    files = sorted((migrations_dir / "postgres").glob("*.sql"))
    applied = []
    async with db.transaction() as conn:
        raw = _pg(conn).raw
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

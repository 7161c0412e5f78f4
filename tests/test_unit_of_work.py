"""The unit of work on both engines (bot/db/unit.py, bot/db/base.py): nesting as savepoints,
a failure inside a nested unit, cancellation inside one, a failed COMMIT raised to the caller,
units that belong to one database and one task. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.db import Database, IntegrityError, SqliteDatabase, TransactionAbortedError
from bot.db.connections import EngineConnection
from bot.db.postgres.connection import PgConnection
from bot.db.postgres.engine import PgDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version, upgrade
from tests.pg_support import ADMIN_URL, fresh_pg_database, needs_postgres


class Boom(Exception):
    pass


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


async def kv(db: Database, ns: str) -> list[str]:
    async with db.read() as conn, conn.execute(f"SELECT k FROM kv_store WHERE ns = {conn.placeholder(1)}", [ns]) as cur:
        return sorted(str(r[0]) for r in await cur.fetchall())


def connections_in_use(db: Database) -> int:
    return db.connections_in_use if isinstance(db, PgDatabase) else 0


async def test_units_nest_three_deep_and_each_rolls_back_on_its_own(db: Database) -> None:
    async with db.transaction() as outer:
        await queries.core.set_kv(outer, ns="nest", k="1-outer", v="x")
        async with db.transaction() as middle:
            assert middle is outer  # one connection, savepoints on it
            await queries.core.set_kv(middle, ns="nest", k="2-middle", v="x")
            with pytest.raises(Boom):
                async with db.transaction() as inner:
                    await queries.core.set_kv(inner, ns="nest", k="3-inner", v="x")
                    raise Boom
            await queries.core.set_kv(middle, ns="nest", k="2-middle-after", v="x")
        with pytest.raises(Boom):
            async with db.transaction():
                async with db.transaction() as deep:  # released into the unit above, undone with it
                    await queries.core.set_kv(deep, ns="nest", k="3-deep", v="x")
                raise Boom
        async with db.write() as joined:  # part of the open transaction
            assert joined is outer
            await queries.core.set_kv(joined, ns="nest", k="1-write", v="x")
    assert await kv(db, "nest") == ["1-outer", "1-write", "2-middle", "2-middle-after"]


async def test_a_failed_statement_goes_with_its_nested_unit(db: Database) -> None:
    async with db.transaction() as conn:
        await queries.coaching.create_session(conn, user_id=1, guild_id=1, match_id=None, created_at=1)
    async with db.transaction() as outer:
        await queries.core.set_kv(outer, ns="fail", k="outer", v="x")
        async with db.transaction() as middle:
            # the innermost unit swallows its failed statement: it is refused and undone ...
            with pytest.raises(TransactionAbortedError):
                async with db.transaction() as inner:
                    await queries.core.set_kv(inner, ns="fail", k="inner", v="x")
                    with pytest.raises(IntegrityError):
                        await queries.coaching.create_session(inner, user_id=1, guild_id=1, match_id=None, created_at=2)
            # ... and its failure with it: the middle unit and the outer one commit
            await queries.core.set_kv(middle, ns="fail", k="middle", v="x")
        with pytest.raises(IntegrityError):  # a failure that leaves its unit undoes only that unit
            async with db.transaction() as other:
                await queries.core.set_kv(other, ns="fail", k="other", v="x")
                await queries.coaching.create_session(other, user_id=1, guild_id=1, match_id=None, created_at=3)
    assert await kv(db, "fail") == ["middle", "outer"]


async def test_a_unit_cancelled_inside_a_nested_one_leaves_nothing(db: Database) -> None:
    inside = asyncio.Event()

    async def unit() -> None:
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="cancel", k="outer", v="x")
            async with db.transaction() as nested:
                await queries.core.set_kv(nested, ns="cancel", k="nested", v="x")
                inside.set()
                await asyncio.Event().wait()

    task = asyncio.create_task(unit())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert connections_in_use(db) == 0  # handed back after its ROLLBACK, before the task ended
    assert await kv(db, "cancel") == []
    async with db.transaction() as conn:  # the writer is free and clean
        await queries.core.set_kv(conn, ns="cancel", k="after", v="x")
    assert await kv(db, "cancel") == ["after"]


_DEFERRED = (
    "CREATE TABLE uow_deferred (id INTEGER PRIMARY KEY, "
    "parent INTEGER REFERENCES uow_deferred (id) DEFERRABLE INITIALLY DEFERRED)"
)


async def test_a_failed_commit_is_raised_and_nothing_is_written(db: Database) -> None:
    """A deferred foreign key is checked at COMMIT: the COMMIT fails, the caller learns it."""
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="commit", k="k", v="x")
            await conn.execute(_DEFERRED)
            await conn.execute(f"INSERT INTO uow_deferred (id, parent) VALUES (1, {conn.placeholder(1)})", [99])
    assert connections_in_use(db) == 0
    assert await kv(db, "commit") == []
    async with db.read() as conn:
        assert "uow_deferred" not in await conn.table_names()
    async with db.transaction() as conn:  # the writer goes on
        await queries.core.set_kv(conn, ns="commit", k="after", v="x")
    assert await kv(db, "commit") == ["after"]


async def test_a_task_started_inside_a_unit_has_units_of_its_own(db: Database) -> None:
    async with db.transaction() as conn:
        await queries.core.set_kv(conn, ns="task", k="uncommitted", v="x")
        parent: EngineConnection = conn

        async def child() -> str | None:
            async with db.read() as reader:  # not the parent's connection: its write is not seen
                assert reader is not parent
                return await queries.core.get_kv(reader, ns="task", k="uncommitted")

        assert await asyncio.create_task(child()) is None
    assert await kv(db, "task") == ["uncommitted"]


@contextlib.asynccontextmanager
async def other_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    other = SqliteDatabase(tmp_path / "other.sqlite3", max_schema_version=latest_version())
    async with other:
        await upgrade(other, backup=False)
        yield other


async def test_units_of_two_databases_do_not_mix(db: Database, tmp_path: Path) -> None:
    async with other_database(tmp_path) as other:
        with pytest.raises(Boom):
            async with db.transaction() as conn:
                await queries.core.set_kv(conn, ns="two", k="here", v="x")
                async with other.transaction() as there:  # a unit of its own, not a savepoint
                    assert there is not conn
                    await queries.core.set_kv(there, ns="two", k="there", v="x")
                    async with other.write() as joined, db.write() as mine:
                        assert joined is there and mine is conn
                raise Boom
        assert await kv(db, "two") == []
        assert await kv(other, "two") == ["there"]


@pytest.fixture
async def pg() -> AsyncIterator[PgDatabase]:
    async for db in fresh_pg_database("uow"):
        assert isinstance(db, PgDatabase)
        yield db


@needs_postgres
async def test_a_statement_failing_unseen_on_postgres_still_refuses_the_commit(pg: PgDatabase) -> None:
    """A failure that bypassed the connection's counting (a raw asyncpg call) aborted the
    transaction all the same: PostgreSQL answers the COMMIT with ROLLBACK, which is raised."""
    with pytest.raises(TransactionAbortedError):
        async with pg.transaction() as conn:
            await queries.core.set_kv(conn, ns="raw", k="k", v="x")
            with pytest.raises(asyncpg.DivisionByZeroError):
                await _raw(conn).fetchval("SELECT 1 / 0")
    assert await kv(pg, "raw") == []
    assert pg.connections_in_use == 0


@needs_postgres
async def test_a_lock_whose_block_failed_keeps_its_inner_units_and_its_error(pg: PgDatabase) -> None:
    with pytest.raises(Boom):
        async with pg.exclusive("uow"):
            async with pg.transaction() as conn:
                await queries.core.set_kv(conn, ns="lock", k="kept", v="x")
            raise Boom
    assert await kv(pg, "lock") == ["kept"]
    # the lock's own transaction aborted as well: its COMMIT cannot stand, the block's error goes on
    with pytest.raises(Boom):
        async with pg.exclusive("uow"):
            async with pg.transaction() as conn:
                await queries.core.set_kv(conn, ns="lock", k="lost", v="x")
            with contextlib.suppress(asyncpg.DivisionByZeroError):
                await _raw(conn).fetchval("SELECT 1 / 0")
            raise Boom
    assert await kv(pg, "lock") == ["kept"]
    assert pg.connections_in_use == 0


def _raw(conn: EngineConnection) -> asyncpg.Connection:
    assert isinstance(conn, PgConnection)
    return conn.raw


@needs_postgres
async def test_a_connection_lost_inside_a_unit_is_dropped_and_its_commit_raised(
    pg: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        # the caller learns it (asyncpg's error depends on the way: directly, or through PgBouncer)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
            async with pg.transaction() as conn:
                await queries.core.set_kv(conn, ns="lost", k="k", v="x")
                pid = await _raw(conn).fetchval("SELECT pg_backend_pid()")
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    with pytest.raises(Boom):  # the ROLLBACK cannot run either: logged, the block's error goes on
        async with pg.transaction() as conn:
            _raw(conn).terminate()
            raise Boom
    assert "dropping the connection" in caplog.text
    assert pg.connections_in_use == 0
    assert await kv(pg, "lost") == []  # and the pool goes on with new connections


@needs_postgres
async def test_a_lock_taken_inside_a_transaction_is_held_on_its_connection(pg: PgDatabase) -> None:
    async with pg.transaction() as conn, pg.exclusive("inside"):
        await queries.core.set_kv(conn, ns="inside", k="k", v="x")
        assert pg.connections_in_use == 1
        async with pg.read() as admin:  # a second connection: the lock is this transaction's
            held = await (
                await admin.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                )
            ).fetchone()
            assert held is not None and held[0] >= 1
    assert await kv(pg, "inside") == ["k"]

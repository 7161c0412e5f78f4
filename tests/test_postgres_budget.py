"""One connection budget per process: writers, readers and shared locks together; waiting, not
failing; transactions that survive cancellation at any await point (PostgreSQL's half of it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.db.connections import WriteConn
from bot.db.postgres.engine import PgDatabase
from bot.db.postgres.settings import PgSettings
from bot.db.queries import queries
from tests.helpers import until
from tests.pg_support import URL, fresh_pg_database, needs_postgres

pytestmark = needs_postgres


@pytest.fixture
async def pg() -> AsyncIterator[PgDatabase]:
    async for db in fresh_pg_database("budget"):
        assert isinstance(db, PgDatabase)
        yield db


@contextlib.asynccontextmanager
async def sibling(pg: PgDatabase, budget: int) -> AsyncIterator[PgDatabase]:
    """Another process's view of the same schema, with its own budget."""
    db = PgDatabase(URL, schema=pg.schema, max_connections=budget)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


async def kv_count(db: PgDatabase, ns: str) -> int:
    async with db.read() as conn:
        row = await (await conn.execute("SELECT count(*) FROM kv_store WHERE ns = $1", [ns])).fetchone()
    return int(row[0])


def test_budget_from_the_environment() -> None:
    assert PgSettings.from_env({}) == PgSettings(max_connections=8, pgbouncer=False)
    env = {"DEADLOCK_PG_MAX_CONNECTIONS": "3", "DEADLOCK_PG_PGBOUNCER": "1"}
    assert PgSettings.from_env(env) == PgSettings(3, True)
    with pytest.raises(ValueError, match="at least 2"):
        PgSettings.from_env({"DEADLOCK_PG_MAX_CONNECTIONS": "1"})
    with pytest.raises(ValueError, match="must be a number"):
        PgSettings.from_env({"DEADLOCK_PG_MAX_CONNECTIONS": "many"})


async def test_writers_readers_and_locks_share_the_budget_and_wait_for_it(pg: PgDatabase) -> None:
    async with sibling(pg, 3) as db:

        async def work(i: int) -> None:
            async with db.exclusive(f"key:{i % 4}"):  # locks held while the block works
                async with db.transaction() as conn:
                    await queries.core.set_kv(conn, ns="budget", k=str(i), v="x")
                async with db.read() as conn:
                    assert await queries.core.get_kv(conn, ns="budget", k=str(i)) == "x"
                await asyncio.sleep(0.001)
            async with db.transaction() as conn:  # a read inside a transaction: a second connection
                await queries.core.set_kv(conn, ns="budget", k=f"{i}b", v="y")
                async with db.read() as reader:
                    assert await queries.core.get_kv(reader, ns="budget", k=f"{i}b") is None

        await asyncio.gather(*(work(i) for i in range(60)))
        assert db.peak_in_use <= 3 and db.connections_in_use == 0
    assert await kv_count(pg, "budget") == 120


async def test_a_lock_holder_runs_its_queries_on_the_lock_connection(pg: PgDatabase) -> None:
    async with sibling(pg, 2) as db, db.exclusive("only"):
        async with db.write() as conn:
            await queries.core.set_kv(conn, ns="lock", k="a", v="1")
        async with db.read() as conn:
            assert await queries.core.get_kv(conn, ns="lock", k="a") == "1"
        assert db.connections_in_use == 1
        async with pg.read() as conn:  # another process sees it when the lock is released
            assert await queries.core.get_kv(conn, ns="lock", k="a") is None
    async with pg.read() as conn:
        assert await queries.core.get_kv(conn, ns="lock", k="a") == "1"


async def test_the_lock_excludes_other_processes_and_dies_with_a_cancelled_holder(pg: PgDatabase) -> None:
    async with sibling(pg, 2) as other:
        held = asyncio.Event()

        async def holder() -> None:
            async with pg.exclusive("shared"):
                held.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(holder())
        await held.wait()
        waiter = asyncio.create_task(_take(other, "shared"))
        await asyncio.sleep(0.05)  # the waiter is blocked on the server meanwhile
        assert not waiter.done()
        task.cancel()
        await asyncio.wait_for(waiter, 10)
        await until(lambda: pg.connections_in_use == 0, "the cancelled holder's connection back in the pool")


async def _take(db: PgDatabase, key: str) -> None:
    async with db.exclusive(key):
        pass


@pytest.mark.parametrize("where", ["transaction", "lock"])
async def test_a_unit_survives_cancellation_at_any_await_point(pg: PgDatabase, where: str) -> None:
    """Cancelled after 0, 1, 2, ... event-loop steps: the unit is all or nothing, the connection
    comes back only after its ROLLBACK (or COMMIT) ran, and the database goes on working."""

    async def unit(i: int) -> None:
        ctx = pg.transaction() if where == "transaction" else _lock_then_tx(pg, i)
        async with ctx as conn:
            await queries.core.set_kv(conn, ns=f"c{i}", k="a", v="1")
            await asyncio.sleep(0)
            await queries.core.set_kv(conn, ns=f"c{i}", k="b", v="2")

    outcomes = set()
    for i in range(5000):  # until the unit finishes before the cancel reaches it
        task = asyncio.create_task(unit(i))
        for _ in range(i):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await until(lambda: pg.connections_in_use == 0, "the connection back in the pool")
        rows = await kv_count(pg, f"c{i}")
        assert rows in (0, 2)  # never half
        outcomes.add(rows)
        if finished:
            break
    assert outcomes == {0, 2}  # cancelled early and after the commit: both were hit


@contextlib.asynccontextmanager
async def _lock_then_tx(pg: PgDatabase, i: int) -> AsyncIterator[WriteConn]:
    async with pg.exclusive(f"cancel:{i}"), pg.transaction() as conn:
        yield conn

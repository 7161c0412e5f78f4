"""Transactions on both engines: isolation under concurrency, nesting, savepoints, reads
beside an open write, a caught error refusing the commit, per-query metrics. Every test runs
on a SQLite file and on PostgreSQL (skipped when no server is reachable)."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database, IntegrityError, TransactionAbortedError
from bot.db.queries import queries


class Boom(Exception):
    pass


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


async def test_concurrent_transactions_isolated(db: Database) -> None:
    """50 multi-statement transactions, single writes and reads at once; one fails half-way."""
    errors: list[BaseException] = []

    async def unit_of_work(i: int) -> None:
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="tx", k=f"{i}-a", v="1")
            await asyncio.sleep(0)  # let other tasks run while the transaction is open
            if i == 13:
                raise Boom("half-way failure")
            await queries.core.set_kv(conn, ns="tx", k=f"{i}-b", v="2")

    async def single_write(i: int) -> None:
        async with db.write() as conn:
            await queries.core.set_kv(conn, ns="single", k=str(i), v="x")

    async def reader() -> None:
        for _ in range(5):
            async with db.read() as conn:
                await queries.core.get_kv(conn, ns="tx", k="0-a")
            await asyncio.sleep(0)

    async def guarded(coro: asyncio.Future[None] | asyncio.Task[None]) -> None:
        try:
            await coro
        except Boom:
            pass
        except BaseException as e:  # "cannot start a transaction within a transaction" would land here
            errors.append(e)

    tasks = [unit_of_work(i) for i in range(50)] + [single_write(i) for i in range(50)] + [reader() for _ in range(10)]
    await asyncio.gather(*(guarded(asyncio.ensure_future(t)) for t in tasks))
    assert errors == []

    async with db.read() as conn, conn.execute("SELECT ns, k FROM kv_store") as cur:
        rows = {(r[0], r[1]) for r in await cur.fetchall()}
    expected_tx = {("tx", f"{i}-{p}") for i in range(50) if i != 13 for p in "ab"}
    expected_single = {("single", str(i)) for i in range(50)}
    assert rows == expected_tx | expected_single  # the failed task's first write is gone, nobody else's


async def test_write_outside_transaction_never_joins_one(db: Database) -> None:
    """A single write waits for the open transaction instead of being swallowed by its rollback."""
    started = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="a", k="tx", v="1")
            started.set()
            await asyncio.sleep(0.05)
            raise Boom

    async def single() -> None:
        await started.wait()
        async with db.write() as conn:
            await queries.core.set_kv(conn, ns="a", k="single", v="1")

    results = await asyncio.gather(failing_transaction(), single(), return_exceptions=True)
    assert isinstance(results[0], Boom) and results[1] is None
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="a", k="single") == "1"
        assert await queries.core.get_kv(conn, ns="a", k="tx") is None


async def test_nested_transaction_rolls_back_inner_only(db: Database) -> None:
    async with db.transaction() as outer:
        await queries.core.set_kv(outer, ns="n", k="outer", v="1")
        with pytest.raises(Boom):
            async with db.transaction() as inner:
                assert inner is outer
                await queries.core.set_kv(inner, ns="n", k="inner", v="1")
                raise Boom
        async with db.transaction() as inner2:
            await queries.core.set_kv(inner2, ns="n", k="inner2", v="1")
        async with db.write() as same:  # write() inside the task's transaction reuses it
            assert same is outer
            await queries.core.set_kv(same, ns="n", k="write", v="1")
    async with db.read() as conn, conn.execute("SELECT k FROM kv_store WHERE ns = 'n' ORDER BY k") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["inner2", "outer", "write"]


async def test_outer_failure_rolls_back_committed_savepoints(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as outer:
            async with db.transaction() as inner:
                await queries.core.set_kv(inner, ns="n", k="inner", v="1")
            raise Boom
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="n", k="inner") is None
    assert outer is not None


async def test_reads_see_committed_data_while_a_write_is_open(db: Database) -> None:
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="r", k="k", v="old")
    async with db.transaction() as tx:
        await queries.core.set_kv(tx, ns="r", k="k", v="new")
        async with db.read() as reader:  # WAL: not blocked, sees the last commit
            assert await queries.core.get_kv(reader, ns="r", k="k") == "old"
        assert await queries.core.get_kv(tx, ns="r", k="k") == "new"
    async with db.read() as reader:
        assert await queries.core.get_kv(reader, ns="r", k="k") == "new"


async def test_every_query_is_timed_and_failures_counted(db: Database) -> None:
    """The driver times each query in its thread and records it on delivery, failures included."""
    from bot.db.metrics import METRICS

    METRICS.reset()
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="m", k="k", v="v")
    async with db.read() as conn:
        for _ in range(3):
            await queries.core.get_kv(conn, ns="m", k="k")
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await queries.tempvoice.add_lane_member(conn, channel_id=404, user_id=1, joined_at=1)  # no such lane
    stats = {s.name: s for s in METRICS.snapshot()}
    assert stats["core.get_kv"].calls == 3 and stats["core.get_kv"].errors == 0
    assert stats["core.get_kv"].total_seconds > 0
    assert stats["core.set_kv"].calls == 1
    assert stats["tempvoice.add_lane_member"].errors == 1


async def test_a_caught_error_inside_a_transaction_refuses_the_commit(db: Database) -> None:
    """PostgreSQL aborts a transaction at its first failed statement and would turn COMMIT into
    a silent ROLLBACK; both engines instead raise, and nothing of the block is written."""
    async with db.transaction() as conn:
        await queries.coaching.create_session(conn, user_id=1, guild_id=1, match_id=None, created_at=1)
    with pytest.raises(TransactionAbortedError):
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="abort", k="before", v="1")
            with pytest.raises(IntegrityError):  # a second active session for user 1
                await queries.coaching.create_session(conn, user_id=1, guild_id=1, match_id=None, created_at=2)
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="abort", k="before") is None
    # the portable way to carry on after a statement that may fail: a nested transaction
    async with db.transaction() as conn:
        await queries.core.set_kv(conn, ns="abort", k="kept", v="1")
        with pytest.raises(IntegrityError):
            async with db.transaction() as nested:
                await queries.coaching.create_session(nested, user_id=1, guild_id=1, match_id=None, created_at=3)
        await queries.core.set_kv(conn, ns="abort", k="after", v="1")
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="abort", k="kept") == "1"
        assert await queries.core.get_kv(conn, ns="abort", k="after") == "1"
    # a savepoint whose block swallows its own error is refused and undone; the outer goes on
    async with db.transaction() as conn:
        with pytest.raises(TransactionAbortedError):
            async with db.transaction() as nested:
                await queries.core.set_kv(nested, ns="abort", k="in-savepoint", v="1")
                with pytest.raises(IntegrityError):
                    await queries.coaching.create_session(nested, user_id=1, guild_id=1, match_id=None, created_at=4)
        await queries.core.set_kv(conn, ns="abort", k="outer-after", v="1")
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="abort", k="in-savepoint") is None
        assert await queries.core.get_kv(conn, ns="abort", k="outer-after") == "1"

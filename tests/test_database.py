"""The central Database: transactions under concurrency, nesting, read-only readers, lifecycle."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.db import Database, DatabaseClosedError, IntegrityError
from bot.db.queries import queries
from tests.conftest import open_handles


class Boom(Exception):
    pass


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


async def test_write_on_read_connection_fails_clearly(db: Database) -> None:
    async with db.read() as conn:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            # mypy rejects this call (WriteConn expected); the runtime refuses it too
            await queries.core.set_kv(conn, ns="x", k="y", v="z")  # type: ignore[arg-type]


async def test_commit_failure_rolls_back(db: Database, db_path: Path) -> None:
    """A deferred foreign-key violation fails at COMMIT: the transaction is rolled back, the writer is usable."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("PRAGMA defer_foreign_keys = ON")
            await queries.tempvoice.add_lane_member(conn, channel_id=404, user_id=1, joined_at=0)
    async with db.write() as conn:
        assert not conn.in_transaction
        await queries.core.set_kv(conn, ns="after", k="commit", v="ok")
    async with db.read() as conn:
        assert await queries.tempvoice.list_lane_members(conn, channel_id=404) == []


async def test_write_cleans_up_a_left_open_transaction(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("BEGIN")
        await queries.core.set_kv(conn, ns="leak", k="k", v="v")
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="leak", k="k") is None


async def test_open_close_lifecycle(db_path: Path) -> None:
    threads_before = threading.active_count()
    database = Database(db_path, readers=3)
    with pytest.raises(DatabaseClosedError, match="not opened yet"):
        async with database.read():
            pass
    await database.open()
    await database.open()  # idempotent
    assert database.is_open
    assert open_handles(db_path) == 4  # one writer + three readers, nothing else
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
    await database.close()
    assert open_handles(db_path) == 0
    assert (
        not db_path.with_name(db_path.name + "-wal").exists()
        or db_path.with_name(db_path.name + "-wal").stat().st_size == 0
    )  # checkpointed
    await database.close()  # harmless
    for late in (database.read(), database.write(), database.transaction()):
        with pytest.raises(DatabaseClosedError, match="closed"):
            async with late:
                pass
    with pytest.raises(DatabaseClosedError):
        await database.open()
    assert threading.active_count() == threads_before  # no aiosqlite thread left behind


async def test_close_waits_for_running_work(db_path: Path) -> None:
    database = Database(db_path)
    await database.open()
    inside = asyncio.Event()
    finished: list[str] = []

    async def slow_transaction() -> None:
        async with database.transaction() as conn:
            inside.set()
            await asyncio.sleep(0.05)
            await conn.execute("CREATE TABLE done (x INTEGER)")
        finished.append("tx")

    task = asyncio.create_task(slow_transaction())
    await inside.wait()
    await database.close()
    await task
    assert finished == ["tx"]
    assert open_handles(db_path) == 0


async def test_context_manager_and_pragma_guard(db_path: Path) -> None:
    async with Database(db_path) as database:
        assert await database.pragma("integrity_check") == [("ok",)]
        with pytest.raises(ValueError):
            await database.pragma("user_version = 5; DROP TABLE x")
    assert open_handles(db_path) == 0


def test_readers_must_be_positive(db_path: Path) -> None:
    with pytest.raises(ValueError):
        Database(db_path, readers=0)


async def test_close_does_not_hang_on_another_programs_reader(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(db_path)
    await database.open()
    async with database.write() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
        await conn.execute("INSERT INTO t VALUES (1)")
    other = sqlite3.connect(db_path)  # e.g. the Node service, in the middle of a read
    other.execute("BEGIN")
    other.execute("SELECT * FROM t").fetchall()
    started = asyncio.get_running_loop().time()
    await database.close()
    elapsed = asyncio.get_running_loop().time() - started
    other.close()
    assert elapsed < 10  # not the 15 s busy timeout, and never forever
    assert "checkpoint at close incomplete" in caplog.text
    assert open_handles(db_path) == 0


async def test_transaction_without_statements_leaves_no_pending_begin(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            raise Boom  # before any statement: the deferred BEGIN must not leak into the next job
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="after", k="empty", v="1")
        assert not conn.in_transaction
    async with db.transaction():
        pass  # an empty unit of work commits nothing and leaves nothing open
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="after", k="empty") == "1"


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

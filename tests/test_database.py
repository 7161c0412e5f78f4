"""The central Database: transactions under concurrency, nesting, read-only readers, lifecycle."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.db import Database, DatabaseClosedError, SqliteDatabase
from bot.db.queries import queries
from tests.helpers import open_handles


class Boom(Exception):
    pass


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
    database = SqliteDatabase(db_path, readers=3)
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
    database = SqliteDatabase(db_path)
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
    async with SqliteDatabase(db_path) as database:
        assert await database.pragma("integrity_check") == [("ok",)]
        with pytest.raises(ValueError):
            await database.pragma("user_version = 5; DROP TABLE x")
    assert open_handles(db_path) == 0


def test_readers_must_be_positive(db_path: Path) -> None:
    with pytest.raises(ValueError):
        SqliteDatabase(db_path, readers=0)


async def test_close_does_not_hang_on_another_programs_reader(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = SqliteDatabase(db_path)
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

"""The SQLite engine on aiosqlite: errors stay with their caller, a failed open leaves nothing
behind, snapshots have a connection of their own, read-only opens change no file."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import DatabaseError, DatabaseLocationError, NotADatabaseError, SchemaTooNewError, SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.connection import SqliteConnection, as_sqlite
from bot.db.sqlite.migrations import latest_version, upgrade


class Conforming:
    """A parameter sqlite3 would adapt with Python code in the connection's thread."""

    def __conform__(self, protocol: object) -> object:
        raise StopIteration


def _raise_stop_iteration() -> int:
    raise StopIteration


async def test_an_error_inside_the_thread_fails_its_own_caller_only(db: SqliteDatabase) -> None:
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="e", k="k", v="v")
        # a user function raising StopIteration inside the connection's thread
        await as_sqlite(conn).aio.create_function("stop_iteration", 0, _raise_stop_iteration)

        async def bad_function() -> object:
            return await conn.execute("SELECT stop_iteration()")

        async def bad_parameter() -> object:
            return await conn.execute("SELECT ?", (Conforming(),))

        async def bad_sql() -> object:
            return await conn.execute("SELECT * FROM no_such_table")

        async def good() -> str | None:
            return await queries.core.get_kv(conn, ns="e", k="k")

        jobs = [good() for _ in range(20)] + [bad_function(), bad_parameter(), bad_sql()] + [good() for _ in range(20)]
        results = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), 10)
    assert results[:20] == ["v"] * 20 and results[23:] == ["v"] * 20
    assert isinstance(results[20], sqlite3.OperationalError)  # "user-defined function raised exception"
    assert isinstance(results[21], TypeError)  # refused on the loop, never handed to the thread
    assert isinstance(results[22], sqlite3.OperationalError) and "no_such_table" in str(results[22])
    async with db.read() as reader:  # the connections are fine afterwards
        assert await queries.core.get_kv(reader, ns="e", k="k") == "v"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def nothing_left_behind() -> Iterator[None]:
    threads, fds = threading.active_count(), _fds()
    yield
    assert threading.active_count() == threads, "a connection thread is still running"
    assert _fds() == fds, "a file descriptor is still open"


@pytest.mark.usefixtures("nothing_left_behind")
async def test_a_failed_open_leaves_no_thread_and_no_file_open(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not an SQLite database file at all" * 100)
    with pytest.raises(NotADatabaseError):
        await SqliteDatabase(garbage, readers=2).open()

    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as raw:
        raw.execute(f"PRAGMA user_version = {latest_version() + 1}")
    raw.close()
    with pytest.raises(SchemaTooNewError):
        await SqliteDatabase(newer, max_schema_version=latest_version()).open()

    with pytest.raises(sqlite3.OperationalError):  # the connect itself fails inside the thread
        await SqliteConnection.open(tmp_path)
    with pytest.raises(DatabaseLocationError):
        await SqliteDatabase(tmp_path / "missing.sqlite3", read_only=True).open()


async def test_snapshot_has_a_connection_of_its_own(db_path: Path) -> None:
    database = SqliteDatabase(db_path, readers=1, max_schema_version=latest_version())
    async with database:
        await upgrade(database, backup=False)
        async with database.write() as conn:
            await queries.core.set_kv(conn, ns="s", k="k", v="old")
        async with database.snapshot() as snap:
            assert await queries.core.get_kv(snap, ns="s", k="k") == "old"
            async with database.write() as conn:
                await queries.core.set_kv(conn, ns="s", k="k", v="new")
            async with database.read() as reader:  # the only shared reader sees the commit
                assert reader is not snap
                assert await queries.core.get_kv(reader, ns="s", k="k") == "new"
            assert await queries.core.get_kv(snap, ns="s", k="k") == "old"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_read_only_open_changes_no_file(db_path: Path, tmp_path: Path) -> None:
    async with SqliteDatabase(db_path) as database:
        await upgrade(database, backup=False)
        async with database.write() as conn:
            await queries.core.set_kv(conn, ns="ro", k="k", v="v")
    before = _digest(db_path)
    async with SqliteDatabase(db_path, read_only=True) as ro:
        assert await ro.user_version() == latest_version()
        async with ro.read() as conn:
            assert await queries.core.get_kv(conn, ns="ro", k="k") == "v"
        async with ro.snapshot() as conn:
            assert await queries.core.get_kv(conn, ns="ro", k="k") == "v"
        for writing in (ro.write(), ro.transaction()):
            with pytest.raises(DatabaseError, match="read-only"):
                async with writing:
                    pass
    assert _digest(db_path) == before
    # a WAL file open nowhere is read as it is: no -wal/-shm left behind by a reader that cannot delete them
    assert sorted(p.name for p in db_path.parent.glob(db_path.name + "*")) == [db_path.name]

    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    async with SqliteDatabase(empty, read_only=True) as ro:
        assert await ro.user_version() == 0
        assert await ro.pragma("journal_mode") == [("delete",)]  # not switched to WAL
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.glob("empty*")) == ["empty.sqlite3"]


async def test_close_runs_pragma_optimize(db_path: Path) -> None:
    """The planner gets statistics for the tables the bot queried (SQLite's advice for
    long-lived connections: PRAGMA optimize at open and at close)."""
    async with SqliteDatabase(db_path) as database:
        await upgrade(database, backup=False)
        async with database.transaction() as conn:
            await conn.executemany(
                "INSERT INTO steam_links (user_id, steam_id) VALUES (?, ?)", [(u, f"s{u}") for u in range(1, 10_001)]
            )
        async with database.transaction() as conn:
            await queries.core.forget_presence(conn, user_id=5)
    raw = sqlite3.connect(db_path)
    try:
        analyzed = {str(r[0]) for r in raw.execute("SELECT tbl FROM sqlite_stat1")}
    finally:
        raw.close()
    assert "steam_links" in analyzed


def test_read_only_commands_change_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`db check`, `db stats` and `db export` open the file with mode=ro (issue 15)."""
    from bot.cli.main import main

    db = tmp_path / "d.sqlite3"
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    before = (_digest(db), db.stat().st_mtime_ns)
    assert main(["db", "check", "--db", str(db)]) == 0
    assert main(["db", "stats", "--db", str(db)]) == 0
    assert main(["db", "export", "--json", str(tmp_path / "out.json"), "--db", str(db)]) == 0
    assert (_digest(db), db.stat().st_mtime_ns) == before

    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert main(["db", "check", "--db", str(empty)]) == 1  # version 0, every table missing: reported
    assert main(["db", "stats", "--db", str(empty)]) == 0
    assert empty.stat().st_size == 0  # not grown, not switched to WAL
    assert sorted(p.name for p in tmp_path.glob("empty*")) == ["empty.sqlite3"]
    assert "Traceback" not in capsys.readouterr().err

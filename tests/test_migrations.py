"""Migrations: they build exactly schema.sql, run in one transaction, back up first, refuse the unknown."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.db import MigrationError, SchemaTooNewError, SqliteDatabase
from bot.db.sqlite.maintenance import diff_snapshots, snapshot_of_db, snapshot_of_script
from bot.db.sqlite.migrations import Migration, latest_version, load_migrations, upgrade
from bot.resources import MIGRATIONS_DIR, SCHEMA_PATH


def _sqlite(path: Path, script: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()


async def test_migrations_build_schema_sql(db: SqliteDatabase) -> None:
    expected = await snapshot_of_script(SCHEMA_PATH.read_text(encoding="utf-8"))
    actual = await snapshot_of_db(db)
    assert set(actual) == set(expected)
    drift = diff_snapshots(expected, actual)
    assert drift.problems == [] and drift.notes == []
    assert actual == expected  # columns, STRICT, foreign keys and indexes, exactly
    assert await db.user_version() == latest_version()


async def test_drift_is_reported() -> None:
    base = SCHEMA_PATH.read_text(encoding="utf-8")
    expected = await snapshot_of_script(base)
    changed = base.replace("    min_rank INTEGER NOT NULL DEFAULT 0,\n", "").replace(
        "CREATE INDEX idx_timers_event_due ON timers (event, due_at);", ""
    )
    actual = await snapshot_of_script(changed + "\nCREATE TABLE other_program (x TEXT);")
    problems = diff_snapshots(expected, actual).problems
    assert "table tempvoice_lanes: column min_rank is missing" in problems
    assert "table timers: index idx_timers_event_due is missing" in problems
    assert not any("other_program" in p for p in problems)  # other programs' tables are not drift


async def test_upgrade_is_idempotent_and_backs_up_when_behind(db_path: Path, tmp_path: Path) -> None:
    migrations = load_migrations()
    latest = migrations[-1].version
    extra = tmp_path / f"{latest + 1:04d}_add_notes.sql"
    extra.write_text("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;\n")
    async with SqliteDatabase(db_path) as db:
        first = await upgrade(db, migrations=migrations)
        assert first.backup is None  # a fresh file needs no backup
        assert [m.version for m in first.applied] == list(range(1, latest + 1))
        async with db.write() as conn:
            await conn.execute("INSERT INTO kv_store VALUES ('a', 'b', 'kept')")
        newer = (*migrations, Migration(latest + 1, "add_notes", extra))
        second = await upgrade(db, migrations=newer)
        assert [m.version for m in second.applied] == [latest + 1]
        assert second.backup is not None and second.backup.name.startswith("bot.backup-")
        assert "backup written first" in second.describe()
        again = await upgrade(db, migrations=newer)
        assert again.applied == () and "nothing to do" in again.describe()
        assert await db.user_version() == latest + 1
    backup = sqlite3.connect(second.backup)
    assert backup.execute("PRAGMA user_version").fetchone() == (latest,)
    assert backup.execute("SELECT v FROM kv_store").fetchall() == [("kept",)]
    backup.close()


async def test_failed_migration_changes_nothing(db_path: Path, tmp_path: Path) -> None:
    latest = latest_version()
    bad = tmp_path / f"{latest + 1:04d}_broken.sql"
    bad.write_text("CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n")
    async with SqliteDatabase(db_path) as db:
        await upgrade(db)
        with pytest.raises(MigrationError, match=f"{bad.name} failed and was rolled back"):
            await upgrade(db, migrations=(*load_migrations(), Migration(latest + 1, "broken", bad)))
        assert await db.user_version() == latest
        async with (
            db.read() as conn,
            conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'") as cur,
        ):
            assert await cur.fetchone() == (0,)


async def test_newer_schema_is_refused_untouched(db_path: Path) -> None:
    _sqlite(db_path, "CREATE TABLE x (y INTEGER); PRAGMA user_version = 99;")
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer deadlock-bot"):
        await SqliteDatabase(db_path, max_schema_version=latest_version()).open()
    async with SqliteDatabase(db_path) as db:  # without the guard at open, upgrade() refuses as well
        with pytest.raises(SchemaTooNewError):
            await upgrade(db)
    assert sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone() == (99,)
    assert len(before) > 0


async def test_unversioned_database_with_tables_is_adopted(db_path: Path) -> None:
    _sqlite(
        db_path,
        "CREATE TABLE tempvoice_lanes (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
        "owner_id INTEGER NOT NULL, base_name TEXT NOT NULL, category_id INTEGER NOT NULL, "
        "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);"
        "INSERT INTO tempvoice_lanes VALUES (1, 2, 3, 'Lane 4', 0, NULL);",
    )
    async with SqliteDatabase(db_path) as db:
        report = await upgrade(db)
        assert report.adoption is not None and report.backup is not None
        async with db.read() as conn, conn.execute("SELECT channel_id, lane_number FROM tempvoice_lanes") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(1, 4)]


def test_migration_files_are_numbered(tmp_path: Path) -> None:
    assert [m.version for m in load_migrations(MIGRATIONS_DIR)] == list(range(1, latest_version() + 1))
    (tmp_path / "0002_gap.sql").write_text("")
    with pytest.raises(MigrationError, match="expected migration version 1"):
        load_migrations(tmp_path)
    (tmp_path / "2_bad name.sql").write_text("")
    with pytest.raises(MigrationError, match="NNNN_reason.sql"):
        load_migrations(tmp_path)

"""Which engine serves a target: a postgresql:// URL is a PostgreSQL server, anything else
an SQLite file. The bot and the command line open and migrate databases through here."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.db.base import Database
from bot.db.errors import MigrationError, SchemaTooNewError
from bot.db.postgres.engine import PgDatabase, is_postgres_url, upgrade_postgres
from bot.db.preflight import SchemaIncompleteError, explain_sqlite_error, schema_tables
from bot.db.sqlite.engine import DEFAULT_BUSY_TIMEOUT_MS, SqliteDatabase
from bot.db.sqlite.maintenance import default_backup_path
from bot.db.sqlite.migrations import latest_version, upgrade
from bot.resources import SCHEMA_PATH


def open_database(
    target: Path | str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, readers: int = 1, read_only: bool = False
) -> Database:
    """A (not yet opened) database for a file path or a postgresql:// URL. `read_only` opens
    an SQLite file so that nothing can change it (PostgreSQL: the commands only read)."""
    if isinstance(target, str) and is_postgres_url(target):
        return PgDatabase(target)
    return SqliteDatabase(
        target,
        busy_timeout_ms=busy_timeout_ms,
        max_schema_version=latest_version(),
        readers=readers,
        read_only=read_only,
    )


async def missing_tables(db: Database) -> list[str]:
    """Tables of schema.sql the database lacks (on either engine)."""
    async with db.read() as conn:
        present = await conn.table_names()
    return sorted(schema_tables() - present)


async def migrate(db: Database, *, backup: bool = True, repair: bool = False) -> str:
    """Apply the missing migrations (an SQLite file is backed up first); says what was done.

    A database at the current version that lacks tables of schema.sql is refused, or with
    `repair` (SQLite) given the missing tables back (after a backup)."""
    if isinstance(db, PgDatabase):
        return await _migrate_postgres(db)
    if not isinstance(db, SqliteDatabase):  # pragma: no cover - a third engine would land here
        raise TypeError(f"no migrations for {type(db).__name__}")
    before = await asyncio.to_thread(_backups_of, db.path)
    try:
        if await db.user_version() < latest_version():
            await _probe_write_lock(db)  # locked: say so before a backup is written
        described = (await upgrade(db, backup=backup)).describe()
        missing = await missing_tables(db)
        if missing and not repair:
            raise SchemaIncompleteError(
                f"{db.path} is at schema version {latest_version()} but lacks the table(s) {', '.join(missing)}: "
                "run `deadlock-bot db upgrade` (it re-creates them after a backup)"
            )
        if missing:
            described = await _recreate_tables(db, missing, backup=backup)
    except BaseException:
        # a failed try leaves no backup behind (the file itself is unchanged)
        await asyncio.to_thread(_remove_new_backups, db.path, before)
        raise
    return described


async def _migrate_postgres(db: PgDatabase) -> str:
    version = await db.user_version()
    if version > latest_version():
        raise SchemaTooNewError(
            f"the PostgreSQL schema at {db.location} is at version {version}, newer than this bot's "
            f"{latest_version()}: upgrade the bot; nothing was changed"
        )
    applied = await upgrade_postgres(db)
    version = await db.user_version()
    missing = await missing_tables(db)
    if missing:
        raise SchemaIncompleteError(
            f"the PostgreSQL schema at {db.location} is at version {version} but lacks the table(s) "
            f"{', '.join(missing)}: restore it from a backup (or import an export into a fresh schema)"
        )
    return f"{db.location}: schema version {version}" + (
        f", applied {', '.join(applied)}" if applied else ", nothing to do"
    )


async def _probe_write_lock(db: SqliteDatabase) -> None:
    """Take and give back the write lock: another program holding it is reported now, before
    a backup is written, rather than after one backup per try."""
    try:
        async with db.transaction() as conn:
            await (await conn.execute("SELECT 1")).close()
    except sqlite3.OperationalError as e:
        raise explain_sqlite_error(e, db.path) from e


async def _recreate_tables(db: SqliteDatabase, missing: list[str], *, backup: bool) -> str:
    from bot.db.sqlite.maintenance import backup_to

    statements = await asyncio.to_thread(_create_statements, missing)
    lines = [f"{db.path}: schema version {latest_version()}, but table(s) {', '.join(missing)} were missing"]
    if backup:
        import datetime as dt

        target = default_backup_path(db.path, dt.datetime.now(dt.UTC))
        await backup_to(db, target)
        lines.append(f"  backup written first: {target}")
    try:
        async with db.transaction() as conn:
            for sql in statements:
                await (await conn.execute(sql)).close()
    except sqlite3.Error as e:
        raise MigrationError(f"re-creating {', '.join(missing)} failed, the file is unchanged: {e}") from e
    lines.append(f"  re-created {', '.join(missing)} as schema.sql defines them")
    return "\n".join(lines)


def _create_statements(tables: list[str]) -> list[str]:
    """schema.sql's CREATE TABLE statements of `tables`, then their indexes and triggers."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))
        marks = ", ".join("?" for _ in tables)
        rows = conn.execute(
            f"SELECT sql FROM sqlite_schema WHERE tbl_name IN ({marks}) AND sql IS NOT NULL "
            "ORDER BY type <> 'table', rowid",
            tables,
        ).fetchall()
        return [str(r[0]) for r in rows]
    finally:
        conn.close()


def _backups_of(path: Path) -> set[Path]:
    stem = path.name.split(".", 1)[0] or path.name
    return set(path.parent.glob(f"{stem}.backup-*.sqlite3")) if path.parent.is_dir() else set()


def _remove_new_backups(path: Path, before: set[Path]) -> None:
    for extra in _backups_of(path) - before:
        extra.unlink(missing_ok=True)

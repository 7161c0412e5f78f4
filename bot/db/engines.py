"""Which engine serves a target: a postgresql:// URL is a PostgreSQL server, anything else
an SQLite file. The bot and the command line open and migrate databases through here."""

from __future__ import annotations

from pathlib import Path

from bot.db.base import Database
from bot.db.errors import SchemaTooNewError
from bot.db.postgres.engine import PgDatabase, is_postgres_url, upgrade_postgres
from bot.db.sqlite.engine import DEFAULT_BUSY_TIMEOUT_MS, SqliteDatabase
from bot.db.sqlite.migrations import latest_version, upgrade


def open_database(target: Path | str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, readers: int = 1) -> Database:
    """A (not yet opened) database for a file path or a postgresql:// URL."""
    if isinstance(target, str) and is_postgres_url(target):
        return PgDatabase(target)
    return SqliteDatabase(target, busy_timeout_ms=busy_timeout_ms, max_schema_version=latest_version(), readers=readers)


async def migrate(db: Database, *, backup: bool = True) -> str:
    """Apply the missing migrations (an SQLite file is backed up first); says what was done."""
    if isinstance(db, PgDatabase):
        version = await db.user_version()
        if version > latest_version():
            raise SchemaTooNewError(
                f"the PostgreSQL schema at {db.location} is at version {version}, newer than this bot's "
                f"{latest_version()}: upgrade the bot; nothing was changed"
            )
        applied = await upgrade_postgres(db)
        version = await db.user_version()
        return f"{db.location}: schema version {version}" + (
            f", applied {', '.join(applied)}" if applied else ", nothing to do"
        )
    if not isinstance(db, SqliteDatabase):  # pragma: no cover - a third engine would land here
        raise TypeError(f"no migrations for {type(db).__name__}")
    return (await upgrade(db, backup=backup)).describe()

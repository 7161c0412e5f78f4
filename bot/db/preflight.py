"""What the command line and the bot check on an SQLite file before the engine opens it.

A plain sqlite3 connection that only reads (query_only): the schema version, the table
names and `PRAGMA quick_check`. Reading changes nothing, and closing the last connection
removes the -wal/-shm files it needed, so a file that is refused here stays byte for byte
as it was, with nothing new beside it. Sync functions: callers on the event loop run them
in a thread.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from functools import cache
from pathlib import Path

from bot.db.errors import DatabaseError, DatabaseLocationError, NotADatabaseError
from bot.resources import SCHEMA_PATH

#: How many problems of quick_check a message quotes.
_QUOTED = 3


class CorruptDatabaseError(NotADatabaseError):
    """The file is an SQLite database, but pages of it are damaged."""


class DatabaseLockedError(DatabaseError):
    """Another program held the database's lock for longer than the busy timeout."""


class ReadOnlyDatabaseError(DatabaseLocationError):
    """The file (or its folder) cannot be written, and the command has to write."""


class SchemaIncompleteError(DatabaseError):
    """The file is at the current schema version but tables of schema.sql are missing."""


@dataclasses.dataclass(frozen=True)
class FileFacts:
    path: Path
    version: int
    tables: frozenset[str]


@cache
def schema_tables() -> frozenset[str]:
    """The tables of schema.sql."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))
        rows = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return frozenset(str(r[0]) for r in rows)
    finally:
        conn.close()


def explain_sqlite_error(e: sqlite3.Error, where: Path | str) -> DatabaseError:
    """The data layer's error, with a one-line message, for an sqlite3 error on `where`."""
    text = str(e)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return DatabaseLockedError(
            f"{where} is locked by another program (the presence service or another tool writing to it) "
            f"and stayed locked for the whole busy timeout (DEADLOCK_DB_BUSY_TIMEOUT_MS): nothing was "
            "changed; try again when it is done"
        )
    if "malformed" in low or "corrupt" in low:
        return CorruptDatabaseError(
            f"{where} is corrupt ({text}): restore it from a backup; `deadlock-bot db check` lists the damage"
        )
    if "not a database" in low or "encrypted" in low:
        return NotADatabaseError(f"{where} is not an SQLite database (or it is corrupt): {text}")
    if "readonly" in low or "read-only" in low:
        return ReadOnlyDatabaseError(
            f"{where} is read-only ({text}): give the bot's user write access to the file and its folder"
        )
    if "full" in low:
        return DatabaseError(f"no space left on the disk of {where} ({text}): free some space and try again")
    if "unable to open" in low:
        return DatabaseLocationError(f"cannot open the database file {where}: {text}")
    return DatabaseError(f"{where}: SQLite error: {text}")


def inspect(path: Path, *, busy_timeout_ms: int = 5000, quick_check: bool = True) -> FileFacts:
    """Version, tables and (optionally) quick_check of an existing file; raises the data
    layer's errors (corrupt, locked, not a database) with one-line messages."""
    if path.is_dir():
        raise DatabaseLocationError(f"{path} is a folder, not a database file")
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    except sqlite3.Error as e:
        raise explain_sqlite_error(e, path) from e
    try:
        conn.execute("PRAGMA query_only = ON")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        rows = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        tables = frozenset(str(r[0]) for r in rows)
        if quick_check:
            problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise CorruptDatabaseError(
                    f"{path} is corrupt (quick_check: {'; '.join(problems[:_QUOTED])}): restore it from a "
                    "backup; `deadlock-bot db check` lists the damage"
                )
    except sqlite3.Error as e:
        raise explain_sqlite_error(e, path) from e
    finally:
        conn.close()
    return FileFacts(path, version, tables)


def missing_tables(facts: FileFacts) -> list[str]:
    return sorted(schema_tables() - facts.tables)


def require_complete(facts: FileFacts, latest: int) -> None:
    """Refuse a file at the current version that lacks tables of schema.sql."""
    missing = missing_tables(facts)
    if facts.version == latest and missing:
        raise SchemaIncompleteError(
            f"{facts.path} is at schema version {latest} but lacks the table(s) {', '.join(missing)}: "
            "run `deadlock-bot db upgrade` (it re-creates them after a backup)"
        )


def require_writable(path: Path) -> None:
    """Refuse a database the bot could not write to (the file or, for its journal, the folder)."""
    folder = path.parent if str(path.parent) else Path(".")
    for what, target in (("file", path), ("folder", folder)):
        if target.exists() and not os.access(target, os.W_OK):
            raise ReadOnlyDatabaseError(
                f"the database {what} {target} is read-only: the bot writes to {path}; "
                "give its user write access (or mount it read-write)"
            )


def type_problems(path: Path, *, busy_timeout_ms: int = 5000) -> list[str]:
    """Values of the wrong type in the INTEGER columns of the tables that are not STRICT (the
    old bot's shared tables: SQLite stores text in them without a word), one line per column."""
    from bot.db.export_format import schema_model  # the column model of schema.sql

    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        present = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        problems = []
        for table in sorted(
            (t for t in schema_model().values() if not t.strict and t.name in present), key=lambda t: t.name
        ):
            have = {str(r[0]) for r in conn.execute("SELECT name FROM pragma_table_info(?)", (table.name,))}
            for column in (c for c in table.columns.values() if c.type == "INTEGER" and c.name in have):
                col = _quoted(column.name)  # identifiers from schema.sql, never values
                rows = conn.execute(
                    f"SELECT typeof({col}), COUNT(*) FROM {_quoted(table.name)} "
                    f"WHERE typeof({col}) NOT IN ('integer', 'null') GROUP BY 1 ORDER BY 1"
                ).fetchall()
                if rows:
                    kinds = ", ".join(f"{n} {kind}" for kind, n in rows)
                    problems.append(
                        f"table {table.name}: column {column.name} holds values that are not whole numbers ({kinds})"
                    )
        return problems
    except sqlite3.Error as e:
        raise explain_sqlite_error(e, path) from e
    finally:
        conn.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

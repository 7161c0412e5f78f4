"""Operations on the database file: backup, integrity and drift checks, statistics.

Structural comparison ("drift") works on a normalized snapshot of the schema: per table
its columns (pragma table_xinfo), STRICT flag, foreign keys and indexes. The same
snapshot proves that the migrations build exactly schema.sql.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from bot.db.connections import EngineConnection
from bot.db.sqlite.connection import SqliteConnection, as_sqlite
from bot.db.sqlite.engine import SqliteDatabase
from bot.resources import SCHEMA_PATH

Fetch = Callable[[str, tuple[Any, ...]], Awaitable[list[tuple[Any, ...]]]]

_TABLES_SQL = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"


def quote_ident(name: str) -> str:
    """An identifier (table name read from sqlite_schema) quoted for SQL; never a value."""
    return '"' + name.replace('"', '""') + '"'


def _normalize_sql(sql: str | None) -> str:
    return re.sub(r"\s+", " ", (sql or "").strip().lower()).replace("( ", "(").replace(" )", ")")


@dataclasses.dataclass(frozen=True)
class TableShape:
    columns: tuple[tuple[Any, ...], ...]  # (name, type, notnull, default, pk, hidden)
    strict: bool
    foreign_keys: tuple[tuple[Any, ...], ...]
    indexes: tuple[tuple[Any, ...], ...]  # (name, unique, origin, partial, columns, where-sql)


async def snapshot(fetch: Fetch) -> dict[str, TableShape]:
    """The normalized schema behind a connection."""
    out: dict[str, TableShape] = {}
    for (table,) in await fetch(_TABLES_SQL, ()):
        cols = await fetch(
            'SELECT name, upper(type), "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)', (table,)
        )
        strict = await fetch("SELECT strict FROM pragma_table_list WHERE name = ? AND schema = 'main'", (table,))
        fks = await fetch(
            'SELECT "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
            (table,),
        )
        indexes = []
        for name, unique, origin, partial in await fetch(
            'SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name', (table,)
        ):
            cols_of_index = await fetch(
                "SELECT name, desc FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", (name,)
            )
            sql_rows = await fetch("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?", (name,))
            where = ""
            if partial and sql_rows and sql_rows[0][0]:
                parts = re.split(r"\bwhere\b", str(sql_rows[0][0]), maxsplit=1, flags=re.IGNORECASE)
                where = _normalize_sql(parts[1]) if len(parts) == 2 else ""
            # auto-indexes of UNIQUE/PK constraints have generated names: compare by columns
            label = name if origin == "c" else f"<{origin}:{','.join(str(c[0]) for c in cols_of_index)}>"
            indexes.append((label, unique, origin, partial, tuple(tuple(c) for c in cols_of_index), where))
        out[table] = TableShape(
            columns=tuple(tuple(c) for c in cols),
            strict=bool(strict and strict[0][0]),
            foreign_keys=tuple(tuple(f) for f in fks),
            indexes=tuple(sorted(indexes)),
        )
    return out


def fetcher(conn: EngineConnection) -> Fetch:
    async def fetch(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with conn.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    return fetch


async def snapshot_of_script(script: str) -> dict[str, TableShape]:
    """The snapshot of a schema script, built in an in-memory database."""
    conn = await SqliteConnection.open(":memory:")
    try:
        await conn.executescript(script)
        return await snapshot(fetcher(conn))
    finally:
        await conn.close()


async def autoincrement_columns(script: str) -> dict[str, str]:
    """Table -> its AUTOINCREMENT key column, for the tables of a schema script."""
    conn = await SqliteConnection.open(":memory:")
    try:
        await conn.executescript(script)
        fetch = fetcher(conn)
        out = {}
        for table, sql in await fetch("SELECT name, sql FROM sqlite_schema WHERE type = 'table'", ()):
            if "AUTOINCREMENT" in str(sql).upper():
                pk = await fetch("SELECT name FROM pragma_table_info(?) WHERE pk > 0", (table,))
                out[str(table)] = str(pk[0][0])
        return out
    finally:
        await conn.close()


async def snapshot_of_db(db: SqliteDatabase) -> dict[str, TableShape]:
    async with db.read() as conn:
        return await snapshot(fetcher(conn))


@dataclasses.dataclass
class Drift:
    """How a database differs from schema.sql. `problems` break the bot's queries or
    guarantees; `notes` are harmless extras (another program's column or index, a legacy
    column order)."""

    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def diff_snapshots(expected: dict[str, TableShape], actual: dict[str, TableShape]) -> Drift:
    """Differences for the tables of `expected`; extra tables in `actual` are not drift."""
    drift = Drift()
    problems, notes = drift.problems, drift.notes
    for table, want in sorted(expected.items()):
        have = actual.get(table)
        if have is None:
            problems.append(f"table {table} is missing")
            continue
        want_cols = {c[0]: c for c in want.columns}
        have_cols = {c[0]: c for c in have.columns}
        for name in sorted(want_cols.keys() - have_cols.keys()):
            problems.append(f"table {table}: column {name} is missing")
        for name in sorted(have_cols.keys() - want_cols.keys()):
            notes.append(f"table {table}: extra column {name} (not in schema.sql)")
        for name in [c[0] for c in want.columns if c[0] in have_cols]:
            if want_cols[name] != have_cols[name]:
                problems.append(
                    f"table {table}: column {name} is {have_cols[name][1:]}, schema.sql says {want_cols[name][1:]}"
                )
        common = [c[0] for c in have.columns if c[0] in want_cols]
        if common != [c[0] for c in want.columns if c[0] in have_cols]:
            notes.append(f"table {table}: column order differs from schema.sql (queries name their columns)")
        if want.strict != have.strict:
            problems.append(f"table {table}: STRICT is {have.strict}, schema.sql says {want.strict}")
        if want.foreign_keys != have.foreign_keys:
            problems.append(
                f"table {table}: foreign keys {have.foreign_keys} differ from schema.sql {want.foreign_keys}"
            )
        want_idx = {i[0]: i for i in want.indexes}
        have_idx = {i[0]: i for i in have.indexes}
        for name in sorted(want_idx.keys() - have_idx.keys()):
            problems.append(f"table {table}: index {name} is missing")
        for name in sorted(have_idx.keys() - want_idx.keys()):
            notes.append(f"table {table}: extra index {name} (not in schema.sql)")
        for name in sorted(want_idx.keys() & have_idx.keys()):
            if want_idx[name] != have_idx[name]:
                problems.append(f"table {table}: index {name} differs from schema.sql")
    return drift


async def list_tables(db: SqliteDatabase) -> list[str]:
    async with db.read() as conn, conn.execute(_TABLES_SQL) as cur:
        return [str(r[0]) for r in await cur.fetchall()]


# -- backup ------------------------------------------------------------------------------


def default_backup_path(path: Path, now: dt.datetime) -> Path:
    """`<name>.backup-<UTC timestamp>.sqlite3` next to the database; never overwrites."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = path.name.split(".", 1)[0] or path.name
    candidate = path.with_name(f"{stem}.backup-{stamp}.sqlite3")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{stem}.backup-{stamp}-{n}.sqlite3")
    return candidate


def _new_backup_file(target: Path) -> sqlite3.Connection:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"backup target {target} exists; choose another file")
    # used from the reader's aiosqlite thread by SqliteConnection.backup
    return sqlite3.connect(target, check_same_thread=False)


async def backup_to(db: SqliteDatabase, target: Path) -> Path:
    """An online backup with SQLite's backup API, from a read connection (writers keep going)."""
    dest = await asyncio.to_thread(_new_backup_file, target)
    try:
        async with db.read() as conn:
            await as_sqlite(conn).backup(dest)
    finally:
        await asyncio.to_thread(dest.close)
    return target


# -- check and stats ---------------------------------------------------------------------


@dataclasses.dataclass
class CheckReport:
    path: Path
    version: int
    latest: int
    integrity: list[str]
    foreign_key_violations: list[tuple[Any, ...]]
    drift: list[str]
    notes: list[str]
    foreign_tables: list[str]

    @property
    def ok(self) -> bool:
        return (
            self.integrity == ["ok"]
            and not self.foreign_key_violations
            and not self.drift
            and self.version == self.latest
        )

    def describe(self) -> str:
        lines = [f"database: {self.path}", f"schema version: {self.version} (this bot: {self.latest})"]
        lines.append("integrity_check: " + ("ok" if self.integrity == ["ok"] else "; ".join(self.integrity[:20])))
        if self.foreign_key_violations:
            lines.append(f"foreign_key_check: {len(self.foreign_key_violations)} violation(s)")
            lines += [f"  {v}" for v in self.foreign_key_violations[:20]]
        else:
            lines.append("foreign_key_check: ok")
        if self.version != self.latest:
            lines.append("schema: not current; run `deadlock-bot db upgrade`")
        if self.drift:
            lines.append(f"drift from schema.sql: {len(self.drift)} difference(s)")
            lines += [f"  {d}" for d in self.drift]
        else:
            lines.append("drift from schema.sql: none")
        lines += [f"  note: {n}" for n in self.notes]
        if self.foreign_tables:
            lines.append(f"tables of other programs (left alone): {', '.join(self.foreign_tables)}")
        lines.append("result: " + ("OK" if self.ok else "PROBLEMS FOUND"))
        return "\n".join(lines)


async def check_database(db: SqliteDatabase, latest: int, schema_path: Path = SCHEMA_PATH) -> CheckReport:
    integrity = [str(r[0]) for r in await db.pragma("integrity_check")]
    fk = await db.pragma("foreign_key_check")
    version = await db.user_version()
    expected = await snapshot_of_script(await asyncio.to_thread(schema_path.read_text, encoding="utf-8"))
    actual = await snapshot_of_db(db)
    drift = diff_snapshots(expected, actual)
    if version == 0:
        drift.problems.insert(0, "no schema version: the file was never upgraded")
    return CheckReport(
        path=db.path,
        version=version,
        latest=latest,
        integrity=integrity,
        foreign_key_violations=fk,
        drift=drift.problems,
        notes=drift.notes,
        foreign_tables=sorted(actual.keys() - expected.keys()),
    )


@dataclasses.dataclass
class Stats:
    path: Path
    version: int
    file_bytes: int
    wal_bytes: int
    tables: list[tuple[str, int]]

    def describe(self) -> str:
        lines = [
            f"database: {self.path}",
            f"schema version: {self.version}",
            f"file size: {_size(self.file_bytes)}, WAL size: {_size(self.wal_bytes)}",
            "",
            f"{'table':<32} {'rows':>10}",
        ]
        lines += [f"{name:<32} {count:>10}" for name, count in self.tables]
        return "\n".join(lines)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def collect_stats(db: SqliteDatabase, tables: Iterable[str] | None = None) -> Stats:
    names = list(tables) if tables is not None else await list_tables(db)
    counts = []
    async with db.read() as conn:
        for name in names:
            # Table names come from sqlite_schema; identifiers cannot be bound parameters.
            async with conn.execute(f"SELECT COUNT(*) FROM {quote_ident(name)}") as cur:
                row = await cur.fetchone()
            counts.append((name, int(row[0]) if row else 0))
    return Stats(
        path=db.path,
        version=await db.user_version(),
        file_bytes=await asyncio.to_thread(_file_size, db.path),
        wal_bytes=await asyncio.to_thread(_file_size, db.path.with_name(db.path.name + "-wal")),
        tables=counts,
    )

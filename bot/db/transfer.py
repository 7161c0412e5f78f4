"""Export a database to JSON and import it into another one, on either engine
(SQLite -> PostgreSQL and back).

The export holds every table of schema.sql (not other programs' tables), columns in schema
order, rows ordered by key the same way on both engines (sorted here, not by a server's
collation), the high-water mark of every AUTOINCREMENT/identity id (a match id is never
reused, not even after a move), and nothing time-dependent: export -> import -> export gives
byte-identical JSON, whichever engines are involved. BLOBs are written as {"$bytes": "<base64>"}.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bot.db.base import Database
from bot.db.export_format import FORMAT, FORMAT_VERSION, TransferError, decode, encode, load, validate
from bot.db.sqlite.maintenance import TableShape, autoincrement_columns, quote_ident, snapshot_of_script
from bot.resources import SCHEMA_PATH


def _table_order(shapes: dict[str, TableShape]) -> list[str]:
    """Tables with parents before the tables whose foreign keys point at them."""
    order: list[str] = []
    remaining = sorted(shapes)
    while remaining:
        ready = [t for t in remaining if all(fk[0] in order or fk[0] == t for fk in shapes[t].foreign_keys)]
        if not ready:  # pragma: no cover - a cycle of foreign keys
            ready = remaining[:1]
        for t in ready:
            order.append(t)
            remaining.remove(t)
    return order


def _key_columns(shape: TableShape) -> list[str]:
    pk = sorted((c[4], c[0]) for c in shape.columns if c[4])
    return [name for _, name in pk] or [c[0] for c in shape.columns]


def _sort_key(row: list[Any], positions: list[int]) -> tuple[tuple[int, Any], ...]:
    """SQLite's order of values (NULL, numbers, text by code point, bytes), on every engine."""

    def rank(v: Any) -> tuple[int, Any]:
        if v is None:
            return (0, 0)
        if isinstance(v, (int, float)):
            return (1, v)
        if isinstance(v, str):
            return (2, v)
        return (3, bytes(v))

    return tuple(rank(row[i]) for i in positions)


@dataclasses.dataclass(frozen=True)
class _Schema:
    tables: dict[str, TableShape]
    identities: dict[str, str]  # table -> its AUTOINCREMENT column


async def _schema(db: Database) -> _Schema:
    script = await asyncio.to_thread(SCHEMA_PATH.read_text, encoding="utf-8")
    expected = await snapshot_of_script(script)
    async with db.read() as conn:
        present = await conn.table_names()
    missing = sorted(set(expected) - present)
    if missing:
        raise TransferError(
            f"{db.location} lacks tables of schema.sql ({', '.join(missing)}): run `deadlock-bot db upgrade`"
        )
    identities = await autoincrement_columns(script)
    return _Schema(expected, identities)


async def export_data(db: Database) -> dict[str, Any]:
    schema = await _schema(db)
    shapes = schema.tables
    tables: dict[str, Any] = {}
    sequences: dict[str, int] = {}
    async with db.snapshot() as conn:  # one consistent snapshot for all tables
        for table in sorted(shapes):
            columns = [c[0] for c in shapes[table].columns if not c[5]]  # not hidden/generated
            keys = [columns.index(c) for c in _key_columns(shapes[table]) if c in columns]
            cols = ", ".join(quote_ident(c) for c in columns)
            async with conn.execute(f"SELECT {cols} FROM {quote_ident(table)}") as cur:
                fetched = [list(row) for row in await cur.fetchall()]
            fetched.sort(key=lambda row: _sort_key(row, keys))
            tables[table] = {"columns": columns, "rows": [[encode(v) for v in row] for row in fetched]}
        for table, column in sorted(schema.identities.items()):
            sequences[table] = await conn.identity_high_water(table, column)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": await db.user_version(),
        "sequences": sequences,
        "tables": tables,
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _write_atomically(path: Path, text: str, *, force: bool, protect: Path | None) -> None:
    """Write to a temporary file beside the target, then rename it into place: the target is
    either the old file or the whole new one. An existing target is refused unless `force`;
    `protect` (the database being exported) never is overwritten."""
    if path.is_dir():
        raise TransferError(f"{path} is a folder: give the export a file name, e.g. {path / 'export.json'}")
    if protect is not None and path.exists() and protect.exists() and path.samefile(protect):
        raise TransferError(f"{path} is the database being exported: write the export to another file")
    if path.exists() and not force:
        raise TransferError(f"{path} exists: choose another file, or pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise TransferError(f"cannot write the export {path}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise TransferError(f"cannot write the export {path}: {e.strerror}; nothing was written") from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def export_to_file(
    db: Database, path: Path, *, force: bool = False, protect: Path | None = None
) -> dict[str, int]:
    data = await export_data(db)
    await asyncio.to_thread(_write_atomically, path, dumps(data), force=force, protect=protect)
    return {name: len(t["rows"]) for name, t in data["tables"].items()}


@dataclasses.dataclass
class ImportReport:
    counts: dict[str, tuple[int, int]]  # table -> (rows in the file, rows in the database afterwards)

    def describe(self) -> str:
        lines = [f"{'table':<32} {'in file':>8} {'in db':>8}"]
        lines += [f"{t:<32} {a:>8} {b:>8}" for t, (a, b) in self.counts.items()]
        return "\n".join(lines)


async def import_data(db: Database, data: dict[str, Any], *, replace: bool = False) -> ImportReport:
    schema = await _schema(db)
    shapes = schema.tables
    validate(data, schema_version=await db.user_version(), identities=schema.identities)
    tables = data["tables"]
    sequences = data.get("sequences", {})
    order = _table_order(shapes)
    counts: dict[str, tuple[int, int]] = {}
    async with db.transaction() as conn:
        occupied = []
        for name in order:
            async with conn.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_ident(name)})") as cur:
                row = await cur.fetchone()
            if row and row[0]:
                occupied.append(name)
        if occupied and not replace:
            raise TransferError(
                f"the database already holds data ({', '.join(occupied)}); import into an empty database "
                "or pass --replace to delete the existing rows first"
            )
        for name in reversed(order):  # children first
            await conn.execute(f"DELETE FROM {quote_ident(name)}")
        for name in order:
            table = tables.get(name)
            if not table or not table["rows"]:
                continue
            cols = table["columns"]
            sql = (
                f"INSERT INTO {quote_ident(name)} ({', '.join(quote_ident(c) for c in cols)}) "
                f"VALUES ({', '.join(conn.placeholder(i) for i in range(1, len(cols) + 1))})"
            )
            try:
                await conn.executemany(sql, [[decode(v) for v in row] for row in table["rows"]])
            except TransferError:
                raise
            except Exception as e:  # the engine's own error (a type PostgreSQL refuses, a constraint)
                raise TransferError(f"table {name}: {e}; nothing was written") from e
        for name, column in sorted(schema.identities.items()):
            await conn.set_identity_high_water(name, column, int(sequences.get(name, 0)))
        for name in order:
            async with conn.execute(f"SELECT COUNT(*) FROM {quote_ident(name)}") as cur:
                row = await cur.fetchone()
            in_db = int(row[0]) if row else 0
            in_file = len(tables[name]["rows"]) if name in tables else 0
            counts[name] = (in_file, in_db)
        wrong = {t: c for t, c in counts.items() if c[0] != c[1]}
        if wrong:
            raise TransferError(f"row counts differ after the import, nothing was written: {wrong}")
    return ImportReport(counts)


async def load_export(path: Path) -> dict[str, Any]:
    """Read and check a whole export against this bot's schema, before any database is touched."""
    from bot.db.sqlite.migrations import latest_version

    data = await asyncio.to_thread(load, path)
    script = await asyncio.to_thread(SCHEMA_PATH.read_text, encoding="utf-8")
    validate(data, schema_version=latest_version(), identities=await autoincrement_columns(script))
    return data


async def import_from_file(db: Database, path: Path, *, replace: bool = False) -> ImportReport:
    return await import_data(db, await load_export(path), replace=replace)

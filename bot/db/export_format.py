"""The export file's format, and the check of a whole export against schema.sql before an
import creates or writes anything: every table of the schema present, known columns only,
every required column given, every value of its column's type (an id column holds a whole
number of 64 bits), the id counters of this schema. The first problem is reported with its
table, row and column."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from bot.db.errors import DatabaseError
from bot.resources import SCHEMA_PATH

FORMAT = "deadlock-bot-export"
FORMAT_VERSION = 1
_INT64 = (-(2**63), 2**63 - 1)


class TransferError(DatabaseError):
    """The export file cannot be imported; nothing was written."""


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str  # upper-case declared type ("" for none)
    required: bool  # NOT NULL without a default
    nullable: bool


@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    strict: bool
    columns: dict[str, Column]


@cache
def schema_model() -> dict[str, Table]:
    """schema.sql's tables and columns, read from an in-memory database built from it."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))
        out = {}
        for name, strict in conn.execute(
            "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
            "AND name NOT LIKE 'sqlite_%'"
        ).fetchall():
            cols = {}
            for col, ctype, notnull, default, pk, hidden in conn.execute(
                'SELECT name, upper(type), "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)', (name,)
            ).fetchall():
                if hidden:
                    continue
                rowid_alias = bool(pk) and ctype == "INTEGER"
                nullable = not notnull and not (pk and strict and not rowid_alias)
                cols[col] = Column(col, ctype, bool(notnull) and default is None and not rowid_alias, nullable)
            out[str(name)] = Table(str(name), bool(strict), cols)
        return out
    finally:
        conn.close()


def load(path: Path) -> dict[str, Any]:
    """The export file's JSON (format and version checked)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise TransferError(f"no export file at {path}") from e
    except IsADirectoryError as e:
        raise TransferError(f"{path} is a folder, not an export file") from e
    except UnicodeDecodeError as e:
        raise TransferError(f"{path} is not a JSON export: {e}") from e
    except OSError as e:
        raise TransferError(f"cannot read {path}: {e.strerror}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TransferError(f"{path} is not a JSON export: {e}") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TransferError(f"{path} is not a deadlock-bot export (format field missing or different)")
    if data.get("format_version") != FORMAT_VERSION:
        raise TransferError(f"{path} has export format {data.get('format_version')}, this bot reads {FORMAT_VERSION}")
    return data


def validate(data: dict[str, Any], *, schema_version: int, identities: dict[str, str]) -> None:
    """Raise TransferError naming the first table/row/column that does not fit."""
    if data.get("schema_version") != schema_version:
        raise TransferError(
            f"the export is of schema version {data.get('schema_version')}, this bot's schema is {schema_version}: "
            "import into a database of the same version (upgrade the older side first)"
        )
    tables = data.get("tables")
    model = schema_model()
    if not isinstance(tables, dict):
        raise TransferError("the export has no tables")
    unknown = sorted(set(tables) - set(model))
    if unknown:
        raise TransferError(f"the export has tables this schema does not know: {', '.join(unknown)}")
    for name in sorted(tables):
        _validate_table(model[name], tables[name])
    missing = sorted(set(model) - set(tables))
    if missing:
        lacking = ", ".join(missing)
        raise TransferError(f"the export lacks the table(s) {lacking}: it is incomplete, nothing was written")
    sequences = data.get("sequences", {})  # older exports have none
    if not isinstance(sequences, dict) or any(
        t not in identities or not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= _INT64[1]
        for t, v in sequences.items()
    ):
        raise TransferError(f"the export's sequences are not id counters of this schema: {sequences!r}")


def _validate_table(table: Table, content: Any) -> None:
    cols = content.get("columns") if isinstance(content, dict) else None
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise TransferError(f"table {table.name}: columns {cols!r} do not match the schema")
    if not set(cols) <= set(table.columns) or len(set(cols)) != len(cols):
        raise TransferError(f"table {table.name}: columns {cols!r} do not match the schema")
    absent = [c.name for c in table.columns.values() if c.required and c.name not in cols]
    if absent:
        raise TransferError(f"table {table.name}: the required column(s) {', '.join(absent)} are missing")
    rows = content.get("rows")
    if not isinstance(rows, list):
        raise TransferError(f"table {table.name}: every row must be a list of {len(cols)} values")
    columns = [table.columns[c] for c in cols]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(cols):
            raise TransferError(f"table {table.name}, row {number}: every row must be a list of {len(cols)} values")
        for column, value in zip(columns, row, strict=True):
            problem = _value_problem(column, value, strict=table.strict)
            if problem:
                shown = "" if value is None else f"{_shown(value)} "
                raise TransferError(
                    f"table {table.name}, row {number}, column {column.name}: {shown}{problem}; nothing was written"
                )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_problem(column: Column, value: Any, *, strict: bool) -> str | None:
    if value is None:
        return "null, but the column is NOT NULL" if not column.nullable else None
    if isinstance(value, dict):
        if set(value) != {"$bytes"} or not isinstance(value["$bytes"], str):
            return "is an object, not a value"
        try:
            base64.b64decode(value["$bytes"], validate=True)
        except (binascii.Error, ValueError):
            return "is not valid base64"
        return "is bytes, the column holds " + column.type if strict and column.type not in ("BLOB", "ANY") else None
    if isinstance(value, (list, bool)):
        return "is not a single value"
    if column.type == "INTEGER" or column.type.startswith(("INT", "BIGINT")):
        if not isinstance(value, int):
            return "is not a whole number"
        return None if _INT64[0] <= value <= _INT64[1] else "is outside the 64-bit range"
    if column.type == "TEXT" and not isinstance(value, str):
        return "is not text"
    if column.type == "REAL" and not isinstance(value, (int, float)):
        return "is not a number"
    return None


def decode(value: Any) -> Any:
    """A value as the database takes it ({"$bytes": ...} back to bytes)."""
    if isinstance(value, dict):
        return base64.b64decode(value["$bytes"])
    return value


def encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return value

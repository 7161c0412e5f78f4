"""The schema as SQLite itself sees it: tables, columns, declared types, nullability."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path


def python_type(decltype: str) -> str:
    """The Python type SQLite hands back for a declared column type (affinity rules)."""
    t = decltype.upper()
    if "INT" in t:
        return "int"
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return "str"
    if "BLOB" in t:
        return "bytes"
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return "float"
    if t in ("", "ANY"):
        return "object"
    # NUMERIC affinity: the old bot's timestamp columns hold CURRENT_TIMESTAMP text.
    if any(s in t for s in ("DATE", "TIME")):
        return "str"
    if "BOOL" in t:
        return "int"
    return "float"


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    name: str
    decltype: str
    not_null: bool

    @property
    def pytype(self) -> str:
        return python_type(self.decltype)


@dataclasses.dataclass(frozen=True)
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo]
    strict: bool


class SchemaModel:
    """Tables of schema.sql, loaded into an in-memory SQLite database."""

    def __init__(self, schema_sql: str) -> None:
        self.connection = sqlite3.connect(":memory:")
        self.connection.executescript(schema_sql)
        self.tables: dict[str, TableInfo] = {}
        names = [
            r[0]
            for r in self.connection.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in names:
            rows = self.connection.execute("SELECT * FROM pragma_table_xinfo(?)", (table,)).fetchall()
            pk_cols = [r for r in rows if r[5]]
            cols: dict[str, ColumnInfo] = {}
            for _cid, name, decltype, notnull, _default, pk, _hidden in rows:
                # An INTEGER PRIMARY KEY is the rowid: never NULL on read although notnull=0.
                rowid_alias = bool(pk) and len(pk_cols) == 1 and str(decltype).upper() == "INTEGER"
                cols[name.lower()] = ColumnInfo(name, str(decltype), bool(notnull) or rowid_alias)
            strict_row = self.connection.execute(
                "SELECT strict FROM pragma_table_list WHERE name = ? AND schema = 'main'", (table,)
            ).fetchone()
            self.tables[table.lower()] = TableInfo(table, cols, bool(strict_row and strict_row[0]))

    @classmethod
    def from_file(cls, path: Path) -> SchemaModel:
        return cls(path.read_text(encoding="utf-8"))

    def close(self) -> None:
        self.connection.close()

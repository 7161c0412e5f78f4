"""The schema as SQLite itself sees it: tables, columns, declared types, nullability."""

from __future__ import annotations

import dataclasses
import enum
import sqlite3
from pathlib import Path


def python_type(decltype: str) -> str:
    """The Python type the bot writes into a column of this declared type (and PostgreSQL's
    column type, see postgres.py). What SQLite hands back is `sqlite_read_types`."""
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


class Affinity(enum.Enum):
    INTEGER = "INTEGER"
    TEXT = "TEXT"
    BLOB = "BLOB"
    REAL = "REAL"
    NUMERIC = "NUMERIC"


def affinity(decltype: str) -> Affinity:
    """SQLite's column affinity of a declared type: the rules of datatype3.html §3.1, in order.
    The name's meaning does not count: TIMESTAMP and DATETIME have NUMERIC affinity."""
    t = decltype.upper()
    if "INT" in t:
        return Affinity.INTEGER
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return Affinity.TEXT
    if "BLOB" in t or not t:
        return Affinity.BLOB
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return Affinity.REAL
    return Affinity.NUMERIC


# What a value the bot writes comes back as, per affinity (non-STRICT tables): NUMERIC turns
# numeric-looking text into INTEGER or REAL (and a REAL with an integral value into INTEGER),
# REAL turns integers into floats, TEXT turns numbers into text.
_AFFINITY_READS: dict[Affinity, dict[str, frozenset[str]]] = {
    Affinity.INTEGER: {
        "int": frozenset({"int"}),
        "float": frozenset({"int", "float"}),
        "str": frozenset({"int", "float", "str"}),
    },
    Affinity.TEXT: {"int": frozenset({"str"}), "float": frozenset({"str"}), "str": frozenset({"str"})},
    Affinity.REAL: {"int": frozenset({"float"}), "float": frozenset({"float"}), "str": frozenset({"float", "str"})},
    Affinity.NUMERIC: {
        "int": frozenset({"int"}),
        "float": frozenset({"int", "float"}),
        "str": frozenset({"int", "float", "str"}),
    },
}


def sqlite_read_types(decltype: str, strict: bool) -> frozenset[str]:
    """The Python types SQLite returns for a column holding what the bot writes (`python_type`)."""
    written = python_type(decltype)
    if strict or written in ("bytes", "object"):
        return frozenset({"float" if affinity(decltype) is Affinity.REAL else written})
    return _AFFINITY_READS[affinity(decltype)][written]


#: asyncpg's Python type for each PostgreSQL column type the migrations use (postgres.PG_TYPES).
_PG_READS = {"int": "int", "str": "str", "float": "float", "bytes": "bytes", "object": "str"}


def pg_read_types(decltype: str) -> frozenset[str]:
    """The Python types asyncpg returns for the PostgreSQL twin of the column."""
    return frozenset({_PG_READS[python_type(decltype)]})


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    name: str
    decltype: str
    not_null: bool

    strict: bool = False

    @property
    def pytype(self) -> str:
        return python_type(self.decltype)

    def read_types(self, engine: str) -> frozenset[str]:
        if engine == "postgres":
            return pg_read_types(self.decltype)
        if engine == "sqlite":
            return sqlite_read_types(self.decltype, self.strict)
        return frozenset({self.pytype})


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
            strict_row = self.connection.execute(
                "SELECT strict FROM pragma_table_list WHERE name = ? AND schema = 'main'", (table,)
            ).fetchone()
            strict = bool(strict_row and strict_row[0])
            pk_cols = [r for r in rows if r[5]]
            cols: dict[str, ColumnInfo] = {}
            for _cid, name, decltype, notnull, _default, pk, _hidden in rows:
                # An INTEGER PRIMARY KEY is the rowid: never NULL on read although notnull=0.
                rowid_alias = bool(pk) and len(pk_cols) == 1 and str(decltype).upper() == "INTEGER"
                cols[name.lower()] = ColumnInfo(name, str(decltype), bool(notnull) or rowid_alias, strict)
            self.tables[table.lower()] = TableInfo(table, cols, strict)

    @classmethod
    def from_file(cls, path: Path) -> SchemaModel:
        return cls(path.read_text(encoding="utf-8"))

    def close(self) -> None:
        self.connection.close()

"""Every read accessor tells the truth on both engines, for any data the schema allows.

Each seed fills every table of schema.sql with random rows the schema accepts (NULL wherever a
column allows it, boundary integers, numeric-looking and unicode strings, the values a CHECK
allows, parents for foreign keys); an in-memory SQLite database built from schema.sql decides
which candidate rows are allowed. The same rows are imported into the engine under test
(SQLite, then PostgreSQL through tests/pg_support.py, skipped without a server), every read
accessor of bot/db/queries.py is called with parameters drawn from those rows, and every value
it returns must have exactly a type its generated annotation names (a bool is not an int, a
Decimal is not an int).
"""

from __future__ import annotations

import ast
import inspect
import random
import re
import sqlite3
import types
import typing
from collections.abc import Callable
from typing import Any, Union

import pytest

from bot.db import Database
from bot.db.connections import AnyConn
from bot.db.queries import Queries, queries
from bot.db.sqlite.migrations import latest_version
from bot.db.transfer import import_data
from bot.resources import SCHEMA_PATH

SEEDS = [1, 2, 3]
CANDIDATES_PER_TABLE = 40
CALLS_PER_ACCESSOR = 12

INTS = [0, 1, 2, 3, 7, 42, -1, 2**63 - 1, -(2**63), 1_234_567_890_123_456_789, 1_764_583_200]
STRS = ["", "a", "x y", "0", "1764583200", "99999999999999999999", "1.5", "-0", " 42", "1e3", "Ünïcødé 🎮",
        "DE", "76561198000000001", "'; --", "a" * 200, "2025-01-01 10:00:00"]  # fmt: skip
FLOATS = [0.0, 1.5, -2.25, 25.0, 8.333333333333334, 1e-9, 1e15, -0.0]  # no over- or underflow in arithmetic
NO_LIMIT_PARAMS = {
    "max_count",
    "limit",
    "offset",
}  # LIMIT/OFFSET parameters: drawn non-negative here, negatives tested below


class Column(typing.NamedTuple):
    name: str
    kind: str  # what the bot writes: int, float or str
    nullable: bool
    choices: tuple[Any, ...] | None  # CHECK (col IN (...))
    parent: tuple[str, str] | None  # REFERENCES table (column)


def _columns(gate: sqlite3.Connection, table: str) -> list[Column]:
    from bot.devtools.codegen.schema_model import python_type

    (ddl,) = gate.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()
    parents = {r[3]: (r[2], r[4]) for r in gate.execute(f"PRAGMA foreign_key_list({table})")}
    out = []
    for _cid, name, decl, notnull, _default, pk in gate.execute(f"PRAGMA table_info({table})"):
        m = re.search(rf"^\s*{name}\s[^\n]*CHECK \({name} IN \((?P<values>[^)]*)\)\)", ddl, re.MULTILINE)
        choices = tuple(ast.literal_eval(f"({m['values']},)")) if m else None
        # a key is never NULL on PostgreSQL (SQLite lets a legacy table's TEXT key hold NULL)
        out.append(Column(name, python_type(decl), not (notnull or pk), choices, parents.get(name)))
    return out


def _value(rng: random.Random, col: Column, rows: dict[str, list[dict[str, Any]]]) -> Any:
    if col.nullable and rng.random() < 0.25:
        return None
    if col.parent is not None:
        parent_table, parent_col = col.parent
        return rng.choice([r[parent_col] for r in rows[parent_table]] or [None])
    if col.choices is not None:
        return rng.choice(col.choices)
    if col.kind == "int":
        return rng.choice(INTS) if rng.random() < 0.5 else rng.randrange(-3, 12)
    if col.kind == "float":
        return rng.choice(FLOATS)
    return rng.choice(STRS)


def _composite_parents(gate: sqlite3.Connection, table: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Foreign keys over several columns: (parent table, [(column, parent column), ...])."""
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for fk_id, _seq, parent, column, parent_column, *_ in gate.execute(f"PRAGMA foreign_key_list({table})"):
        groups.setdefault(fk_id, (parent, []))[1].append((column, parent_column))
    return [group for group in groups.values() if len(group[1]) > 1]


def random_rows(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Rows for every table, accepted by SQLite on schema.sql (keys, CHECKs, foreign keys)."""
    rng = random.Random(seed)
    gate = sqlite3.connect(":memory:", isolation_level=None)
    gate.execute("PRAGMA foreign_keys = ON")
    gate.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))
    tables = [r[0] for r in gate.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid")]
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in [t for t in tables if not t.startswith("sqlite_")]:
        cols = _columns(gate, table)
        rows[table] = []
        sql = f"INSERT INTO {table} ({', '.join(c.name for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
        composite = _composite_parents(gate, table)
        for _ in range(CANDIDATES_PER_TABLE):
            row = {c.name: _value(rng, c, rows) for c in cols}
            for parent_table, pairs in composite:  # the columns of one parent row together
                if rows[parent_table]:
                    parent = rng.choice(rows[parent_table])
                    row.update({column: parent[parent_column] for column, parent_column in pairs})
            try:
                gate.execute(sql, list(row.values()))
            except sqlite3.IntegrityError:
                continue  # not allowed by the schema: a duplicate key, a NULL parent, ...
            rows[table].append(row)
    gate.close()
    return rows


def export_document(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The rows as a `db export` document, so bot.db.transfer imports them into either engine."""
    identities = {"timers": "timer_id", "balancer_matches": "match_id", "coaching_sessions": "session_id"}
    return {
        "format": "deadlock-bot-export",
        "format_version": 1,
        "schema_version": latest_version(),
        "sequences": {t: max([0, *(r[c] for r in rows[t])]) for t, c in identities.items()},
        "tables": {t: {"columns": list(rs[0]), "rows": [list(r.values()) for r in rs]} for t, rs in rows.items()},
    }


# -- the accessors and their annotations --------------------------------------------------------


def read_accessors() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    out = []
    for ns in Queries.__slots__:
        namespace = getattr(queries, ns)
        for name, fn in inspect.getmembers(namespace, inspect.iscoroutinefunction):
            if name.startswith("_"):
                continue
            hints = typing.get_type_hints(fn)
            if hints.get("conn") == AnyConn:
                out.append((f"{ns}.{name}", fn, hints))
    return out


def problems(value: Any, hint: Any, where: str) -> list[str]:
    """Where `value` is not exactly of a type the annotation names."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [problems(value, h, where) for h in typing.get_args(hint)]
        if any(not p for p in options):
            return []
        not_none = [p for h, p in zip(typing.get_args(hint), options, strict=True) if h is not type(None)]
        if value is not None and len(not_none) == 1:
            return not_none[0]  # `Row | None`: what is wrong inside the row
        return [f"{where}: {type(value).__name__} {value!r} is not {hint}"]
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin is list:
        if type(value) is not list:
            return [f"{where}: {type(value).__name__} is not a list"]
        (item,) = typing.get_args(hint)
        return [p for i, v in enumerate(value) for p in problems(v, item, f"{where}[{i}]")]
    if inspect.isclass(hint) and hasattr(hint, "__dataclass_fields__"):
        if type(value) is not hint:
            return [f"{where}: {type(value).__name__} is not {hint.__name__}"]
        fields = typing.get_type_hints(hint)
        return [p for f, h in fields.items() for p in problems(getattr(value, f), h, f"{where}.{f}")]
    return [] if type(value) is hint else [f"{where}: {type(value).__name__} {value!r} is not {hint.__name__}"]


def parameter_pools(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """Values per column name across all tables (a parameter named like a column draws from it)."""
    pools: dict[str, list[Any]] = {}
    for table_rows in rows.values():
        for row in table_rows:
            for col, v in row.items():
                pools.setdefault(col, []).append(v)
    pools["leaving_user_id"] = pools["user_id"]
    return pools


def draw(rng: random.Random, name: str, hint: Any, pools: dict[str, list[Any]]) -> Any:
    allowed = [h for h in typing.get_args(hint) or (hint,) if h is not type(None)]
    nullable = type(None) in typing.get_args(hint)
    if nullable and rng.random() < 0.2:
        return None
    if name in NO_LIMIT_PARAMS:
        return rng.choice([0, 1, 2, 5, 2**63 - 1])
    from_rows = [v for v in pools.get(name, []) if type(v) in allowed]
    if from_rows and rng.random() < 0.8:
        return rng.choice(from_rows)
    return rng.choice(INTS if allowed[0] is int else FLOATS if allowed[0] is float else STRS)


@pytest.mark.parametrize("seed", SEEDS)
async def test_every_read_accessor_returns_its_annotated_types(any_db: Database, seed: int) -> None:
    rows = random_rows(seed)
    empty = sorted(t for t, rs in rows.items() if not rs)
    assert not empty, f"the generator found no allowed row for {empty}"
    await import_data(any_db, export_document(rows))

    rng = random.Random(seed * 7919)
    pools = parameter_pools(rows)
    accessors = read_accessors()
    assert len(accessors) >= 25
    found: list[str] = []
    non_empty = 0
    for qualified, fn, hints in accessors:
        params = {n: h for n, h in hints.items() if n not in ("conn", "return")}
        for _ in range(CALLS_PER_ACCESSOR):
            kwargs = {n: draw(rng, n, h, pools) for n, h in params.items()}
            async with any_db.read() as conn:
                result = await fn(conn, **kwargs)
            non_empty += bool(result)
            found += problems(result, hints["return"], f"{qualified}({kwargs})")
    assert not found, f"{len(found)} value(s) differ from the annotations:\n" + "\n".join(found[:25])
    assert non_empty > len(accessors) * CALLS_PER_ACCESSOR // 4  # the draws do hit rows


async def test_a_negative_limit_is_refused_on_every_engine(any_db: Database) -> None:
    rows = random_rows(SEEDS[0])
    await import_data(any_db, export_document(rows))
    async with any_db.read() as conn:
        with pytest.raises(ValueError, match="max_count must be 0 or more"):
            await queries.core.list_due_timers(conn, event="x", now=2**63 - 1, max_count=-1)
        assert await queries.core.list_due_timers(conn, event="x", now=2**63 - 1, max_count=0) == []

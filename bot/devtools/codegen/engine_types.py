"""What each engine really hands back for an expression, as a set of Python type names.

The typer (infer.py) runs once per `Engine`:

* `KIND`: the type the bot writes and compares with (parameters, and the common view used
  for nullability); a column's kind comes from its declared type's meaning (`python_type`);
* `SQLITE`: what sqlite3 returns, from SQLite's affinity rules (a TIMESTAMP column of a
  non-STRICT table gives back int or float for numeric-looking text) and its functions
  (SUM of integers is an integer, a comparison is 0/1);
* `POSTGRES`: what asyncpg returns from the PostgreSQL twin of the schema (SUM of BIGINT
  and AVG are numeric -> Decimal, a comparison is a bool).

A type is a sorted " | "-joined string of names ("float | int | str"), None when unknown.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlglot import exp

from bot.devtools.codegen.schema_model import Affinity, affinity, python_type


class Engine(enum.Enum):
    KIND = "kind"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


NUMERIC = frozenset({"int", "float"})


def type_set(t: str | None) -> frozenset[str]:
    return frozenset(t.split(" | ")) if t else frozenset()


def type_name(types: Iterable[str]) -> str | None:
    return " | ".join(sorted(set(types))) or None


def merge_kind(a: str | None, b: str | None) -> str | None:
    """Two branches (CASE, COALESCE, UNION) as the bot sees them: one type."""
    if a is None or b is None:
        return a or b
    if a == b:
        return a
    if {a, b} == {"int", "float"}:
        return "float"
    return "object"


def merge(engine: Engine, types: Iterable[str | None]) -> str | None:
    """Branches that may each be the result (CASE, COALESCE, UNION)."""
    items = list(types)
    if engine is Engine.KIND:
        out: str | None = None
        for t in items:
            out = merge_kind(out, t)
        return out
    found = frozenset().union(*(type_set(t) for t in items))
    if engine is Engine.POSTGRES and len(found) > 1 and found <= {"int", "float", "Decimal"}:
        # PostgreSQL resolves the branches to one numeric type
        return "float" if "float" in found else "Decimal"
    return type_name(found)


def _sqlite_arith(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for x in a:
        for y in b:
            if x == y == "int":
                out.add("int")
            elif {x, y} <= NUMERIC:
                out.add("float")
            else:  # text is converted to a number first
                out |= NUMERIC
    return frozenset(out)


def _pg_arith(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    both = a | b
    if "float" in both:
        return frozenset({"float"})
    if "Decimal" in both:
        return frozenset({"Decimal"})
    return frozenset({"int"}) if both <= {"int"} else both


def arithmetic(engine: Engine, left: str | None, right: str | None) -> str | None:
    if left is None or right is None:
        return left or right
    if engine is Engine.KIND:
        return merge_kind(left, right)
    rule = _sqlite_arith if engine is Engine.SQLITE else _pg_arith
    return type_name(rule(type_set(left), type_set(right)))


def boolean(engine: Engine) -> str:
    """A comparison, EXISTS, IS, AND/OR: 0/1 on SQLite, a bool on PostgreSQL."""
    return "bool" if engine is Engine.POSTGRES else "int"


def total(engine: Engine, arg: str | None) -> str | None:
    """SUM(x)."""
    if arg is None or engine is Engine.KIND:
        return arg
    types = type_set(arg)
    if engine is Engine.SQLITE:
        return type_name((types & NUMERIC) | (NUMERIC if types - NUMERIC else frozenset()))
    if types == {"float"}:
        return "float"
    return "Decimal"  # SUM(bigint) and SUM(numeric) are numeric


def average(engine: Engine, arg: str | None) -> str:
    """AVG(x)."""
    if engine is Engine.POSTGRES and type_set(arg) != {"float"}:
        return "Decimal"
    return "float"


_PG_CASTS = {
    exp.DataType.Type.BOOLEAN: "bool",
    exp.DataType.Type.DECIMAL: "Decimal",
    exp.DataType.Type.BIGDECIMAL: "Decimal",
}


def cast(engine: Engine, to: exp.DataType) -> str:
    """CAST(x AS type): the target type decides, by SQLite's affinity on SQLite."""
    name = to.sql(dialect="postgres")
    if engine is Engine.SQLITE:
        return {
            Affinity.INTEGER: "int",
            Affinity.TEXT: "str",
            Affinity.REAL: "float",
            Affinity.BLOB: "bytes",
            Affinity.NUMERIC: "float | int",
        }[affinity(name)]
    if engine is Engine.POSTGRES and to.this in _PG_CASTS:
        return _PG_CASTS[to.this]
    kind = python_type(name)
    return "str" if engine is Engine.POSTGRES and kind == "object" else kind

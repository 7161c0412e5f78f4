"""Result-column and parameter types for one query, from the schema and the SQL's syntax tree.

SQLite validates the query (see validate.py); this module answers what SQLite cannot:
the Python type and nullability of each result column and each parameter.

Nullability is conservative, following the rules verified in typed_sql_anchors.md §3.8:
a column is nullable if the schema allows NULL or its table is on the padded side of an
outer join; aggregates other than COUNT are nullable without GROUP BY; COALESCE is
nullable only if every argument is; CASE without ELSE is nullable; UNION is nullable if
any branch is; a scalar subquery is nullable. Whatever cannot be inferred must be
annotated in the query's comments:

    -- @result total: int
    -- @param since: int | None
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from bot.devtools.codegen import engine_types as et
from bot.devtools.codegen.engine_types import Engine
from bot.devtools.codegen.model import CodegenError, QuerySpec, TypedName
from bot.devtools.codegen.schema_model import SchemaModel, TableInfo

# A column's type as seen by the expression typer: (python type or None if unknown, nullable).
Typed = tuple[str | None, bool]

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.Glob)
_AGGREGATES_NULLABLE = (exp.Sum, exp.Max, exp.Min, exp.Avg, exp.GroupConcat)
ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_BOOLEAN_OPS = (*COMPARISONS, exp.And, exp.Or, exp.Not, exp.In, exp.Between)


@dataclasses.dataclass
class _Source:
    """A FROM item: a table of the schema or a derived table with inferred columns."""

    columns: dict[str, Typed]
    padded: bool  # on the NULL-padded side of an outer join


def _table_source(table: TableInfo, padded: bool, engine: Engine) -> _Source:
    return _Source(
        {name: (et.type_name(col.read_types(engine.value)), not col.not_null) for name, col in table.columns.items()},
        padded,
    )


class QueryTyper:
    """Types the expressions of one statement against the schema, as one engine returns them."""

    def __init__(self, schema: SchemaModel, spec: QuerySpec, engine: Engine = Engine.KIND) -> None:
        self.schema = schema
        self.spec = spec
        self.engine = engine

    def fail(self, message: str) -> CodegenError:
        return CodegenError(f"{self.spec.qualified_name}: {message}")

    # -- sources -------------------------------------------------------------------------

    def table(self, node: exp.Table) -> TableInfo:
        info = self.schema.tables.get(node.name.lower())
        if info is None:
            raise self.fail(f"unknown table {node.name!r}")
        return info

    def sources(self, scope: exp.Expr) -> dict[str, _Source]:
        """Alias -> source for the scope a column lives in."""
        out: dict[str, _Source] = {}
        if isinstance(scope, exp.Select):
            from_ = scope.args.get("from_") or scope.args.get("from")
            left: list[str] = []
            if from_ is not None:
                alias, src = self.from_item(from_.this, padded=False)
                out[alias] = src
                left.append(alias)
            for join in scope.args.get("joins") or []:
                side = (join.side or "").upper()
                alias, src = self.from_item(join.this, padded=side in ("LEFT", "FULL"))
                if side in ("RIGHT", "FULL"):
                    for name in left:
                        out[name] = dataclasses.replace(out[name], padded=True)
                out[alias] = src
                left.append(alias)
        elif isinstance(scope, (exp.Update, exp.Delete)):
            target = scope.this
            if isinstance(target, exp.Table):
                out[target.alias_or_name.lower()] = _table_source(self.table(target), False, self.engine)
        elif isinstance(scope, exp.Insert):
            target = scope.this.this if isinstance(scope.this, exp.Schema) else scope.this
            src = _table_source(self.table(target), False, self.engine)
            out[target.alias_or_name.lower()] = src
            out["excluded"] = src
        return out

    def from_item(self, node: exp.Expr, padded: bool) -> tuple[str, _Source]:
        if isinstance(node, exp.Table):
            return node.alias_or_name.lower(), _table_source(self.table(node), padded, self.engine)
        if isinstance(node, exp.Subquery):
            cols = self.select_columns(node.this)
            return node.alias_or_name.lower(), _Source({c.name.lower(): (c.pytype, c.nullable) for c in cols}, padded)
        raise self.fail(f"unsupported FROM item {node.sql(dialect='sqlite')!r}")

    def _lookup(self, scope: exp.Expr, col: exp.Column) -> tuple[str, _Source] | None:
        """The (alias, source) of a column within one scope, if it belongs there."""
        name = col.name.lower()
        srcs = self.sources(scope)
        if col.table:
            alias = col.table.lower()
            if alias not in srcs:
                return None
            if name not in srcs[alias].columns:
                raise self.fail(f"no column {col.sql()!r}")
            return alias, srcs[alias]
        hits = [(a, s) for a, s in srcs.items() if name in s.columns and a != "excluded"]
        return hits[0] if hits else None

    def narrowed(self, select: exp.Select) -> set[tuple[str, str]]:
        """Columns the WHERE clause proves non-NULL: `x IS NOT NULL` or `x <op> ...` conjuncts."""
        where = select.args.get("where")
        if where is None:
            return set()
        out: set[tuple[str, str]] = set()
        for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            cols: list[exp.Expr | None] = []
            if (
                isinstance(cond, exp.Not)
                and isinstance(cond.this, exp.Is)
                and isinstance(cond.this.expression, exp.Null)
            ):
                cols = [cond.this.this]
            elif isinstance(cond, (*COMPARISONS, exp.In)):
                cols = [cond.this, cond.args.get("expression")]
            for c in cols:
                if isinstance(c, exp.Column):
                    found = self._lookup(select, c)
                    if found:
                        out.add((found[0], c.name.lower()))
        return out

    def resolve(self, col: exp.Column) -> Typed:
        """The type of a column reference, looked up in its scope and then outer scopes."""
        name = col.name.lower()
        node: exp.Expr | None = col.parent
        while node is not None:
            if isinstance(node, (exp.Select, exp.Update, exp.Delete, exp.Insert)):
                found = self._lookup(node, col)
                if found is not None:
                    alias, src = found
                    pytype, nullable = src.columns[name]
                    if isinstance(node, exp.Select) and (alias, name) in self.narrowed(node):
                        return pytype, False
                    return pytype, nullable or src.padded
                if not col.table and isinstance(node, exp.Select):
                    # an output alias used in ORDER BY / GROUP BY
                    for proj in node.expressions:
                        if isinstance(proj, exp.Alias) and proj.alias.lower() == name:
                            return self.type_of(proj.this)
            node = node.parent
        raise self.fail(f"cannot resolve column {col.sql()!r}")

    # -- expressions ---------------------------------------------------------------------

    def grouped(self, node: exp.Expr) -> bool:
        select = node.find_ancestor(exp.Select)
        return select is not None and select.args.get("group") is not None

    def type_of(self, e: exp.Expr) -> Typed:
        if isinstance(e, (exp.Alias, exp.Paren)):
            return self.type_of(e.this)
        if isinstance(e, exp.Column):
            return self.resolve(e)
        if isinstance(e, exp.Null):
            return None, True
        if isinstance(e, exp.Literal):
            if e.is_string:
                return "str", False
            if any(c in e.this for c in ".eE"):  # a numeric constant is numeric (Decimal) on PostgreSQL
                return ("Decimal" if self.engine is Engine.POSTGRES else "float"), False
            return "int", False
        if isinstance(e, exp.Boolean):
            return et.boolean(self.engine), False
        if isinstance(e, exp.Placeholder):
            return None, True
        if isinstance(e, exp.Count):
            return "int", False
        if isinstance(e, (exp.Exists, exp.Is)):
            return et.boolean(self.engine), False
        if isinstance(e, exp.Avg):
            pytype, nullable = self.type_of(e.this)
            return et.average(self.engine, pytype), nullable or not self.grouped(e)
        if isinstance(e, exp.Sum):
            pytype, nullable = self.type_of(e.this)
            return et.total(self.engine, pytype), nullable or not self.grouped(e)
        if isinstance(e, exp.GroupConcat):
            _, nullable = self.type_of(e.this)
            return "str", nullable or not self.grouped(e)
        if isinstance(e, _AGGREGATES_NULLABLE):
            pytype, nullable = self.type_of(e.this)
            return pytype, nullable or not self.grouped(e)
        if isinstance(e, exp.Coalesce):
            parts = [self.type_of(a) for a in [e.this, *e.expressions]]
            return et.merge(self.engine, (t for t, _ in parts)), all(n for _, n in parts)
        if isinstance(e, exp.Case):
            branches = [self.type_of(i.args["true"]) for i in e.args["ifs"]]
            default = e.args.get("default")
            if default is not None:
                branches.append(self.type_of(default))
            return et.merge(self.engine, (t for t, _ in branches)), default is None or any(n for _, n in branches)
        if isinstance(e, _BOOLEAN_OPS):
            return et.boolean(self.engine), any(
                self.type_of(k)[1] for k in e.iter_expressions() if not isinstance(k, exp.Subquery)
            )
        if isinstance(e, ARITHMETIC):
            lt, ln = self.type_of(e.this)
            rt, rn = self.type_of(e.expression)
            if isinstance(e, exp.Div) and self.engine is not Engine.POSTGRES and lt == rt == "int":
                return "int", True  # division by zero yields NULL (PostgreSQL raises instead)
            return et.arithmetic(self.engine, lt, rt), ln or rn
        if isinstance(e, exp.DPipe):
            return "str", any(self.type_of(k)[1] for k in e.iter_expressions())
        if isinstance(e, exp.Cast):
            return et.cast(self.engine, e.to), self.type_of(e.this)[1]
        if isinstance(e, exp.Subquery):
            cols = self.select_columns(e.this, named=False)
            return cols[0].pytype, True  # no row -> NULL
        if isinstance(e, (exp.Length,)):
            return "int", self.type_of(e.this)[1]
        if isinstance(e, (exp.Abs, exp.Lower, exp.Upper, exp.Trim)):
            return self.type_of(e.this)
        return None, True

    # -- statements ----------------------------------------------------------------------

    def select_columns(self, node: exp.Expr, *, named: bool = True) -> list[TypedName]:
        """Result columns of a SELECT or a compound SELECT (`named`: each needs a usable name)."""
        if isinstance(node, exp.Union):  # UNION, INTERSECT, EXCEPT
            left = self.select_columns(node.this, named=named)
            right = self.select_columns(node.expression, named=named)
            if len(left) != len(right):
                raise self.fail("compound SELECT branches have different column counts")
            return [
                TypedName(
                    a.name, et.merge(self.engine, [a.pytype or None, b.pytype or None]) or "", a.nullable or b.nullable
                )
                for a, b in zip(left, right, strict=True)
            ]
        if not isinstance(node, exp.Select):
            raise self.fail(f"unsupported statement {node.key}")
        return self.projections(node.expressions, named=named)

    def projections(self, items: list[exp.Expr], *, named: bool = True) -> list[TypedName]:
        out: list[TypedName] = []
        for item in items:
            if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
                raise self.fail("SELECT * is not allowed: name the columns, so the row type is stable")
            name = item.alias_or_name
            if named and (not name or not name.isidentifier()):
                raise self.fail(f"result column {item.sql(dialect='sqlite')!r} needs an alias (AS name)")
            pytype, nullable = self.type_of(item)
            out.append(TypedName(name, pytype or "", nullable))
        return out

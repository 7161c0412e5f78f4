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
import re
from collections.abc import Iterable, Iterator

import sqlglot
from sqlglot import exp

from bot.devtools.codegen.model import AnalyzedQuery, CodegenError, QuerySpec, TypedName
from bot.devtools.codegen.schema_model import SchemaModel, TableInfo, python_type

_ANNOTATION = re.compile(r"^@(?P<kind>result|param)\s+(?P<name>\w+)\s*:\s*(?P<type>[\w|\s]+?)\s*$")
_ROW_ANNOTATION = re.compile(r"^@row\s+(?P<name>[A-Z]\w*)\s*$")
_PYTYPES = {"int", "str", "float", "bytes", "object", "bool"}

# A column's type as seen by the expression typer: (python type or None if unknown, nullable).
Typed = tuple[str | None, bool]

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.Glob)
_AGGREGATES_NULLABLE = (exp.Sum, exp.Max, exp.Min, exp.Avg, exp.GroupConcat)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_BOOLEAN_OPS = (*_COMPARISONS, exp.And, exp.Or, exp.Not, exp.In, exp.Between)


@dataclasses.dataclass
class _Source:
    """A FROM item: a table of the schema or a derived table with inferred columns."""

    columns: dict[str, Typed]
    padded: bool  # on the NULL-padded side of an outer join


def row_annotation(doc: str) -> str | None:
    """`@row Name`: queries returning the same columns share one row class."""
    for raw in doc.splitlines():
        m = _ROW_ANNOTATION.match(raw.strip())
        if m:
            return m["name"]
    return None


def parse_annotations(doc: str) -> tuple[dict[str, TypedName], dict[str, TypedName]]:
    """`@result name: type` and `@param name: type` lines of a query's doc comment."""
    results: dict[str, TypedName] = {}
    params: dict[str, TypedName] = {}
    for raw in doc.splitlines():
        m = _ANNOTATION.match(raw.strip())
        if not m:
            continue
        parts = [p.strip() for p in m["type"].split("|")]
        nullable = "None" in parts
        base = [p for p in parts if p != "None"]
        if len(base) != 1 or base[0] not in _PYTYPES:
            raise CodegenError(f"bad annotation {raw.strip()!r}: use one of {sorted(_PYTYPES)}, optionally '| None'")
        target = results if m["kind"] == "result" else params
        target[m["name"]] = TypedName(m["name"], base[0], nullable)
    return results, params


def _table_source(table: TableInfo, padded: bool) -> _Source:
    return _Source({name: (col.pytype, not col.not_null) for name, col in table.columns.items()}, padded)


def _merge(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    if a == b:
        return a
    if {a, b} == {"int", "float"}:
        return "float"
    return "object"


def _merge_all(types: Iterable[str | None]) -> str | None:
    out: str | None = None
    for t in types:
        out = _merge(out, t)
    return out


class QueryTyper:
    """Types the expressions of one statement against the schema."""

    def __init__(self, schema: SchemaModel, spec: QuerySpec) -> None:
        self.schema = schema
        self.spec = spec

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
                out[target.alias_or_name.lower()] = _table_source(self.table(target), False)
        elif isinstance(scope, exp.Insert):
            target = scope.this.this if isinstance(scope.this, exp.Schema) else scope.this
            src = _table_source(self.table(target), False)
            out[target.alias_or_name.lower()] = src
            out["excluded"] = src
        return out

    def from_item(self, node: exp.Expr, padded: bool) -> tuple[str, _Source]:
        if isinstance(node, exp.Table):
            return node.alias_or_name.lower(), _table_source(self.table(node), padded)
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
            elif isinstance(cond, (*_COMPARISONS, exp.In)):
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
            return ("float" if any(c in e.this for c in ".eE") else "int"), False
        if isinstance(e, exp.Boolean):
            return "int", False
        if isinstance(e, exp.Placeholder):
            return None, True
        if isinstance(e, exp.Count):
            return "int", False
        if isinstance(e, (exp.Exists, exp.Is)):
            return "int", False
        if isinstance(e, exp.Avg):
            _, nullable = self.type_of(e.this)
            return "float", nullable or not self.grouped(e)
        if isinstance(e, exp.GroupConcat):
            _, nullable = self.type_of(e.this)
            return "str", nullable or not self.grouped(e)
        if isinstance(e, _AGGREGATES_NULLABLE):
            pytype, nullable = self.type_of(e.this)
            return pytype, nullable or not self.grouped(e)
        if isinstance(e, exp.Coalesce):
            parts = [self.type_of(a) for a in [e.this, *e.expressions]]
            return _merge_all(t for t, _ in parts), all(n for _, n in parts)
        if isinstance(e, exp.Case):
            branches = [self.type_of(i.args["true"]) for i in e.args["ifs"]]
            default = e.args.get("default")
            if default is not None:
                branches.append(self.type_of(default))
            return _merge_all(t for t, _ in branches), default is None or any(n for _, n in branches)
        if isinstance(e, _BOOLEAN_OPS):
            return "int", any(self.type_of(k)[1] for k in e.iter_expressions() if not isinstance(k, exp.Subquery))
        if isinstance(e, _ARITHMETIC):
            lt, ln = self.type_of(e.this)
            rt, rn = self.type_of(e.expression)
            if isinstance(e, exp.Div) and lt == rt == "int":
                return "int", True  # division by zero yields NULL
            return _merge(lt, rt), ln or rn
        if isinstance(e, exp.DPipe):
            return "str", any(self.type_of(k)[1] for k in e.iter_expressions())
        if isinstance(e, exp.Cast):
            return python_type(e.to.sql(dialect="sqlite")), self.type_of(e.this)[1]
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
                TypedName(a.name, _merge(a.pytype or None, b.pytype or None) or "", a.nullable or b.nullable)
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


def statement_of(spec: QuerySpec) -> exp.Expr:
    try:
        statements = sqlglot.parse(spec.sql, read="sqlite")
    except sqlglot.errors.ParseError as e:
        raise CodegenError(f"{spec.qualified_name}: cannot parse: {e}") from e
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise CodegenError(f"{spec.qualified_name}: a named query must hold exactly one statement")
    return found[0]


def is_write(tree: exp.Expr) -> bool:
    return isinstance(tree, (exp.Insert, exp.Update, exp.Delete))


def _placeholders(tree: exp.Expr) -> Iterator[exp.Placeholder]:
    for node in tree.find_all(exp.Placeholder):
        if node.this:
            yield node


def placeholder_names(tree: exp.Expr) -> list[str]:
    """Named parameters in order of first use."""
    seen: list[str] = []
    for p in _placeholders(tree):
        if p.name not in seen:
            seen.append(p.name)
    return seen


def _insert_target(typer: QueryTyper, insert: exp.Insert) -> tuple[TableInfo, list[str]]:
    schema_node = insert.this
    if not isinstance(schema_node, exp.Schema):
        raise typer.fail("INSERT must name its columns")
    table = typer.table(schema_node.this)
    return table, [i.name.lower() for i in schema_node.expressions]


def _param_use(typer: QueryTyper, p: exp.Placeholder) -> Typed | None:
    """What one use of a parameter demands: its type and whether None is acceptable there."""
    parent = p.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if parent is None:
        return None
    other = [k for k in parent.iter_expressions() if k is not p and not (isinstance(k, exp.Paren) and k.this is p)]
    # SET col = :p (UPDATE, or ON CONFLICT DO UPDATE): the column decides nullability.
    if isinstance(parent, exp.EQ) and isinstance(parent.parent, (exp.Update, exp.OnConflict)):
        return typer.type_of(parent.this)
    if isinstance(parent, _COMPARISONS):
        pytype, _ = typer.type_of(other[0]) if other else (None, True)
        return (pytype, False) if pytype else None
    if isinstance(parent, exp.Is):
        pytype, _ = typer.type_of(other[0]) if other else (None, True)
        return (pytype, True) if pytype else None
    if isinstance(parent, exp.In):
        pytype, _ = typer.type_of(parent.this)
        return (pytype, False) if pytype else None
    if isinstance(parent, (exp.Limit, exp.Offset)):
        return "int", False
    if isinstance(parent, _ARITHMETIC):
        pytype, _ = typer.type_of(other[0]) if other else (None, True)
        return (pytype, False) if pytype else None
    if isinstance(parent, exp.Coalesce):
        args = [parent.this, *parent.expressions]
        known = [typer.type_of(a)[0] for a in args if a is not p]
        pytype = next((t for t in known if t), None)
        return (pytype, True) if pytype else None
    if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
        insert = parent.parent.parent
        if isinstance(insert, exp.Insert):
            table, cols = _insert_target(typer, insert)
            idx = next(i for i, e in enumerate(parent.expressions) if e is p)
            col = table.columns[cols[idx]]
            return col.pytype, not col.not_null
    if isinstance(parent, exp.Select) and isinstance(parent.parent, exp.Insert) and parent.parent.expression is parent:
        table, cols = _insert_target(typer, parent.parent)
        idx = next(i for i, e in enumerate(parent.expressions) if e is p)
        col = table.columns[cols[idx]]
        return col.pytype, not col.not_null
    return None


def analyze(spec: QuerySpec, schema: SchemaModel) -> AnalyzedQuery:
    tree = statement_of(spec)
    typer = QueryTyper(schema, spec)
    try:
        result_notes, param_notes = parse_annotations(spec.doc)
    except CodegenError as e:
        raise CodegenError(f"{spec.qualified_name}: {e}") from e

    # Result columns
    columns: list[TypedName] = []
    if isinstance(tree, (exp.Select, exp.Union)):
        columns = typer.select_columns(tree)
    elif is_write(tree) and tree.args.get("returning") is not None:
        columns = typer.projections(tree.args["returning"].expressions)
    elif not is_write(tree):
        raise CodegenError(f"{spec.qualified_name}: unsupported statement {tree.key.upper()}")
    final_columns: list[TypedName] = []
    for col in columns:
        if col.name in result_notes:
            final_columns.append(result_notes.pop(col.name))
        elif not col.pytype:
            raise CodegenError(
                f"{spec.qualified_name}: cannot infer the type of result column {col.name!r}; "
                f"annotate it: -- @result {col.name}: int | None"
            )
        else:
            final_columns.append(col)
    if result_notes:
        raise CodegenError(f"{spec.qualified_name}: @result for unknown column(s) {sorted(result_notes)}")
    names = [c.name for c in final_columns]
    if len(set(names)) != len(names):
        raise CodegenError(f"{spec.qualified_name}: duplicate result column names {names}")

    # Parameters
    params: list[TypedName] = []
    names = placeholder_names(tree)
    if spec.declared_params is not None and sorted(spec.declared_params) == sorted(names):
        names = list(spec.declared_params)  # the order the query's author declared
    for name in names:
        if name in param_notes:
            params.append(param_notes.pop(name))
            continue
        uses = [_param_use(typer, p) for p in _placeholders(tree) if p.name == name]
        known = [u for u in uses if u is not None and u[0]]
        if not known:
            raise CodegenError(
                f"{spec.qualified_name}: cannot infer the type of parameter :{name}; annotate it: -- @param {name}: int"
            )
        types = {t for t, _ in known}
        if len(types) != 1:
            raise CodegenError(f"{spec.qualified_name}: parameter :{name} is used as {sorted(t or '' for t in types)}")
        # None is acceptable only where every use accepts it.
        params.append(TypedName(name, known[0][0] or "object", all(n for _, n in known)))
    if param_notes:
        raise CodegenError(f"{spec.qualified_name}: @param for unknown parameter(s) {sorted(param_notes)}")

    return AnalyzedQuery(
        spec=spec,
        is_write=is_write(tree),
        columns=tuple(final_columns),
        params=tuple(params),
        exactly_one_row=_exactly_one_row(tree),
        row_name=row_annotation(spec.doc),
    )


def _exactly_one_row(tree: exp.Expr) -> bool:
    """True when the statement always yields exactly one row (so `^`/`$` need no None)."""
    if isinstance(tree, exp.Select):
        if tree.args.get("limit") is not None or tree.args.get("having") is not None:
            return False
        if tree.args.get("group") is not None:
            return False
        if not (tree.args.get("from_") or tree.args.get("from")):
            return True  # SELECT EXISTS (...), SELECT 1
        # an aggregate query without GROUP BY returns one row even for an empty table
        return all(any(True for _ in item.find_all(exp.AggFunc)) for item in tree.expressions)
    if isinstance(tree, exp.Insert) and tree.args.get("returning") is not None:
        values = tree.expression
        if not isinstance(values, exp.Values) or len(values.expressions) != 1:
            return False
        conflict = tree.args.get("conflict")
        if conflict is None:
            return True
        action = str(conflict.args.get("action") or "").upper()
        return "DO UPDATE" in action and conflict.args.get("where") is None
    return False

"""A named query analyzed: its statement, result columns, parameters and their types.

Result types are inferred three times (infer.py, engine_types.py): the common view gives
nullability, and each engine what it really returns. Where SQLite and PostgreSQL return
different Python types for a column, the query must make them agree (a CAST) or declare the
union that is really returned (`-- @result created_at: float | int | str`); otherwise the
generator refuses it, so `sql check` flags it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from bot.devtools.codegen import engine_types as et
from bot.devtools.codegen.engine_types import Engine
from bot.devtools.codegen.infer import ARITHMETIC, COMPARISONS, QueryTyper, Typed
from bot.devtools.codegen.model import AnalyzedQuery, CodegenError, QuerySpec, TypedName
from bot.devtools.codegen.schema_model import SchemaModel, TableInfo

_ANNOTATION = re.compile(r"^@(?P<kind>result|param)\s+(?P<name>\w+)\s*:\s*(?P<type>[\w|\s]+?)\s*$")
_ROW_ANNOTATION = re.compile(r"^@row\s+(?P<name>[A-Z]\w*)\s*$")
_PYTYPES = {"int", "str", "float", "bytes", "object", "bool"}


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
        if not base or any(b not in _PYTYPES for b in base) or (len(base) > 1 and {"bool", "object"} & set(base)):
            raise CodegenError(
                f"bad annotation {raw.strip()!r}: use one of {sorted(_PYTYPES)} or a union of "
                "int, str, float, bytes, optionally '| None'"
            )
        target = results if m["kind"] == "result" else params
        target[m["name"]] = TypedName(m["name"], et.type_name(base) or "", nullable)
    return results, params


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
    if isinstance(parent, COMPARISONS):
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
    if isinstance(parent, ARITHMETIC):
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

    # Result columns: nullability from the common view, the type from what both engines return
    columns = _result_columns(typer, tree)
    per_engine = [_result_columns(QueryTyper(schema, spec, e), tree) for e in (Engine.SQLITE, Engine.POSTGRES)]
    final_columns: list[TypedName] = []
    for col, on_sqlite, on_pg in zip(columns, *per_engine, strict=True):
        final_columns.append(_reconcile(spec, col, result_notes.pop(col.name, None), on_sqlite.pytype, on_pg.pytype))
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
        non_negative=_limit_params(tree),
    )


def _result_columns(typer: QueryTyper, tree: exp.Expr) -> list[TypedName]:
    if isinstance(tree, (exp.Select, exp.Union)):
        return typer.select_columns(tree)
    if is_write(tree) and tree.args.get("returning") is not None:
        return typer.projections(tree.args["returning"].expressions)
    if not is_write(tree):
        raise typer.fail(f"unsupported statement {tree.key.upper()}")
    return []


def _covers(note: TypedName, returned: str) -> bool:
    declared = et.type_set(note.pytype)
    if declared & {"object", "bool"}:
        return True  # anything goes into object; the accessor converts to bool
    return et.type_set(returned) <= declared


def _reconcile(spec: QuerySpec, col: TypedName, note: TypedName | None, on_sqlite: str, on_pg: str) -> TypedName:
    """The result column's type when both engines agree (or the annotation covers both)."""
    name = spec.qualified_name
    if note is not None:
        for engine, returned in (("SQLite", on_sqlite), ("PostgreSQL", on_pg)):
            if returned and not _covers(note, returned):
                raise CodegenError(
                    f"{name}: @result {col.name}: {note.pytype} does not cover what {engine} returns ({returned}); "
                    f"CAST the column or annotate the union: -- @result {col.name}: "
                    f"{et.type_name(et.type_set(note.pytype) | et.type_set(returned))}"
                )
        return note
    if not col.pytype:
        raise CodegenError(
            f"{name}: cannot infer the type of result column {col.name!r}; "
            f"annotate it: -- @result {col.name}: int | None"
        )
    if on_sqlite == on_pg or not on_sqlite or not on_pg:
        return TypedName(col.name, on_sqlite or on_pg or col.pytype, col.nullable)
    if on_sqlite == "int" and on_pg == "bool":
        return TypedName(col.name, "bool", col.nullable)  # a truth value: the accessor converts SQLite's 0/1
    union = et.type_set(on_sqlite) | et.type_set(on_pg)
    how = "make them agree with a CAST in the SQL"
    if "Decimal" not in union:
        how += f", or annotate the union that is really returned: -- @result {col.name}: {et.type_name(union)}"
    raise CodegenError(
        f"{name}: result column {col.name!r} differs between the engines: SQLite returns {on_sqlite}, "
        f"PostgreSQL {on_pg}; {how}"
    )


def _limit_params(tree: exp.Expr) -> tuple[str, ...]:
    """Parameters used as LIMIT/OFFSET: a negative value means "no limit" on SQLite and is an
    error on PostgreSQL, so the accessor refuses it."""
    found: list[str] = []
    for p in _placeholders(tree):
        parent = p.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if isinstance(parent, (exp.Limit, exp.Offset)) and p.name not in found:
            found.append(p.name)
    return tuple(found)


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

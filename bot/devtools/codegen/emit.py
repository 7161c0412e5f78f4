"""Write bot/db/queries.py from the analyzed queries: deterministic, mypy --strict clean."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from bot.db.runtime import sql_sha256
from bot.devtools.codegen.model import AnalyzedQuery, CodegenError, Op, TypedName
from bot.resources import SOURCE_ROOT

GENERATOR_VERSION = "2"


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _class_names(queries: list[AnalyzedQuery], suffix: str) -> dict[str, str]:
    """Row/params class per query: the `@row` name, else the query's name, prefixed with
    the namespace only where names collide."""
    counts = Counter(camel(q.spec.name) for q in queries if not q.row_name)
    out = {}
    for q in queries:
        if q.row_name and suffix == "Row":
            out[q.spec.qualified_name] = q.row_name
            continue
        base = camel(q.spec.name)
        out[q.spec.qualified_name] = (camel(q.spec.namespace) + base if counts[base] > 1 else base) + suffix
    if len(set(out.values())) != len({(q.row_name or q.spec.qualified_name) for q in queries}):
        raise CodegenError(f"a @row name collides with another generated class name: {sorted(out.values())}")
    return out


def _row_shapes(queries: list[AnalyzedQuery], names: dict[str, str]) -> dict[str, tuple[TypedName, ...]]:
    """Columns per row class. Queries sharing a `@row` class must agree on names and types;
    a field is nullable if any of them can yield NULL there."""
    shapes: dict[str, tuple[TypedName, ...]] = {}
    for q in queries:
        cls = names.get(q.spec.qualified_name)
        if cls is None:
            continue
        seen = shapes.get(cls)
        if seen is None:
            shapes[cls] = q.columns
            continue
        if [(c.name, c.pytype) for c in seen] != [(c.name, c.pytype) for c in q.columns]:
            raise CodegenError(f"{q.spec.qualified_name}: @row {cls} differs from the other queries' columns")
        shapes[cls] = tuple(
            dataclasses.replace(a, nullable=a.nullable or b.nullable) for a, b in zip(seen, q.columns, strict=True)
        )
    return shapes


def _convert(expr: str, col: TypedName) -> str:
    if col.pytype != "bool":
        return expr
    return f"(None if {expr} is None else bool({expr}))" if col.nullable else f"bool({expr})"


def _docstring(q: AnalyzedQuery, root: Path) -> list[str]:
    """The query's doc comment, where it lives, and its SQL (shown by IDEs on hover)."""
    op = q.spec.op.value or "select"
    prose = [line for line in q.spec.doc.splitlines() if not line.startswith("@")]  # annotations are for the generator
    lines = [*prose, ""] if prose else []  # only the SQL's own comments: nothing invented
    lines.append(f"[{q.spec.where(root)}, {op}] ::")
    lines.append("")
    lines.extend("    " + line.rstrip() for line in q.spec.sql.strip().splitlines())
    lines = [line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for line in lines]
    lines[0] = '"""' + lines[0]
    return [*lines, '"""']


def _row_class(name: str, q: AnalyzedQuery, columns: tuple[TypedName, ...]) -> list[str]:
    out = ["@dataclasses.dataclass(frozen=True, slots=True)", f"class {name}:"]
    doc = f"A row of `{q.spec.qualified_name}`." if not q.row_name else f"A row of the `@row {name}` queries."
    out.append(f'    """{doc}"""')
    out.append("")
    out.extend(f"    {c.name}: {c.annotation}" for c in columns)
    not_null = [c.name for c in columns if not c.nullable]
    if not_null:
        out += [
            "",
            "    def __post_init__(self) -> None:",
            "        if STRICT_ROWS:",
            f"            check_not_null(self, {tuple(not_null)!r})",
        ]
    return out


def _params_class(name: str, q: AnalyzedQuery) -> list[str]:
    out = [f"class {name}(TypedDict):", f'    """One parameter set of `{q.spec.qualified_name}`."""', ""]
    out.extend(f"    {p.name}: {p.annotation}" for p in q.params)
    return out


def _method(q: AnalyzedQuery, row: str, params_cls: str, root: Path) -> list[str]:
    spec = q.spec
    conn_type = "WriteConn" if q.is_write else "AnyConn"
    args = "".join(f", {p.name}: {p.annotation}" for p in q.params)
    kw = "{" + ", ".join(f'"{p.name}": {p.name}' for p in q.params) + "}"
    ctor = f"{row}(" + ", ".join(_convert(f"r[{i}]", c) for i, c in enumerate(q.columns)) + ")"
    name = spec.name
    guards = _limit_guards(q)
    if spec.op is Op.EXECUTE_MANY:
        sig = f"async def {name}(self, conn: WriteConn, rows: Iterable[{params_cls}]) -> None:"
        body = [f'await self._many("{name}", conn, rows)']
    else:
        star = ", *" if q.params else ""
        head = f"async def {name}(self, conn: {conn_type}{star}{args}) -> "
        if spec.op is Op.SELECT:
            sig = head + f"list[{row}]:"
            body = [f'return [{ctor} for r in await self._all("{name}", conn, {kw})]']
        elif spec.op is Op.SELECT_ONE:
            if q.exactly_one_row:
                sig = head + f"{row}:"
                body = [
                    f'r = await self._call("{name}", conn, {kw})',
                    "if r is None:",
                    f'    raise RuntimeError("{spec.qualified_name} returned no row")',
                    f"return {ctor}",
                ]
            else:
                sig = head + f"{row} | None:"
                body = [f'r = await self._call("{name}", conn, {kw})', f"return None if r is None else {ctor}"]
        elif spec.op is Op.SELECT_VALUE:
            col = q.columns[0]
            if q.exactly_one_row and not col.nullable:
                sig = head + f"{col.pytype}:"
                body = [
                    f'v: {col.pytype} | None = await self._call("{name}", conn, {kw})',
                    "if v is None:",
                    f'    raise RuntimeError("{spec.qualified_name} returned no value")',
                    f"return {_convert('v', col)}",
                ]
            else:
                sig = head + f"{col.pytype} | None:"
                body = [
                    f'v: {col.pytype} | None = await self._call("{name}", conn, {kw})',
                    f"return {_convert('v', TypedName('v', col.pytype, True))}",
                ]
        else:  # EXECUTE (rowcount) and INSERT_ROWID (lastrowid)
            what = "rows changed" if spec.op is Op.EXECUTE else "lastrowid"
            sig = head + "int:"
            body = [f'n: int = await self._call("{name}", conn, {kw})', f"return n  # {what}"]
    return [sig, *("    " + line if line else "" for line in [*_docstring(q, root), *guards, *body])]


def _limit_guards(q: AnalyzedQuery) -> list[str]:
    """A negative LIMIT means "no limit" on SQLite and is an error on PostgreSQL: refused here."""
    out: list[str] = []
    nullable = {p.name for p in q.params if p.nullable}
    for name in q.non_negative:
        cond = f"{name} is not None and {name} < 0" if name in nullable else f"{name} < 0"
        out += [
            f"if {cond}:",
            f'    raise ValueError(f"{q.spec.qualified_name}: {name} must be 0 or more, not {{{name}}}")',
        ]
    return out


def _sql_dir_line(output: Path, sql_dir: Path) -> str:
    """How the generated module finds sql/: the project's own through bot.resources (shipped in
    the wheel), any other relative to the module itself (no absolute paths in the file)."""
    if _is_project_sql(sql_dir):
        return "from bot.resources import SQL_DIR"
    return f"SQL_DIR: Final = {_sql_dir_expr(output, sql_dir)}"


def _is_project_sql(sql_dir: Path) -> bool:
    return sql_dir.resolve() == (SOURCE_ROOT / "sql").resolve()


def _sql_dir_expr(output: Path, sql_dir: Path) -> str:
    out_dir = output.resolve().parent
    target = sql_dir.resolve()
    for up, parent in enumerate([out_dir, *out_dir.parents]):
        if target.is_relative_to(parent):
            rel = target.relative_to(parent).as_posix()
            return f'Path(__file__).resolve().parents[{up}] / "{rel}"'
    raise CodegenError(f"cannot locate {sql_dir} relative to {output}")  # pragma: no cover


def render(queries: list[AnalyzedQuery], inputs_sha256: str, root: Path, output: Path, sql_dir: Path) -> str:
    with_rows = [q for q in queries if q.columns and q.spec.op is not Op.SELECT_VALUE]
    rows = _class_names(with_rows, "Row")
    shapes = _row_shapes(with_rows, rows)
    params = _class_names([q for q in queries if q.spec.op is Op.EXECUTE_MANY], "Params")
    namespaces = sorted({q.spec.namespace for q in queries})

    out: list[str] = [
        "# Code generated by `deadlock-bot sql generate` from schema.sql and sql/*/*.sql. DO NOT EDIT.",
        f"# generator: {GENERATOR_VERSION}; inputs-sha256: {inputs_sha256}",
        '"""Typed accessors for every named query in sql/.',
        "",
        "Call them as `await queries.<domain>.<query>(conn, name=value, ...)` with a connection",
        "from `db.read()` (reads) or `db.transaction()` / `db.write()` (writes). mypy checks",
        "the query names, parameter names and types, result columns and their nullability.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import dataclasses",
        "from collections.abc import Iterable",
        "from pathlib import Path",
        "from typing import Final, TypedDict",
        "",
        "from bot.db.connections import AnyConn, WriteConn",
        "from bot.db.runtime import STRICT_ROWS, QueryNamespace, check_not_null, load_namespace",
        *([_sql_dir_line(output, sql_dir)] if _is_project_sql(sql_dir) else ["", _sql_dir_line(output, sql_dir)]),
        "",
        "__all__ = [",
    ]
    exported = sorted({*rows.values(), *params.values(), "Queries"})
    out.extend(f'    "{n}",' for n in [*exported, "queries"])
    out += ["]", ""]

    emitted: set[str] = set()
    for q in queries:
        row_cls = rows.get(q.spec.qualified_name)
        if row_cls and row_cls not in emitted:
            emitted.add(row_cls)
            out += ["", *_row_class(row_cls, q, shapes[row_cls]), ""]
        if q.spec.qualified_name in params:
            out += ["", *_params_class(params[q.spec.qualified_name], q), ""]

    for ns in namespaces:
        members = [q for q in queries if q.spec.namespace == ns]
        out += ["", f"class {camel(ns)}Queries(QueryNamespace):", f'    """The queries in sql/{ns}/."""', ""]
        out.append("    __slots__ = ()")
        out.append(f'    NAMESPACE = "{ns}"')
        out.append("    SQL_SHA256: Final = {")
        out.extend(f'        "{q.spec.name}": "{sql_sha256(q.spec.sql)}",' for q in members)
        out.append("    }")
        for q in members:
            qn = q.spec.qualified_name
            out.append("")
            out.extend("    " + line if line else "" for line in _method(q, rows.get(qn, ""), params.get(qn, ""), root))

    out += [
        "",
        "",
        "class Queries:",
        '    """One typed namespace per folder of sql/."""',
        "",
        "    __slots__ = (" + " ".join(f'"{ns}",' for ns in namespaces) + ")",
        "",
        "    def __init__(self, sql_dir: Path = SQL_DIR) -> None:",
    ]
    for ns in namespaces:
        cls = f"{camel(ns)}Queries"
        out.append(f"        self.{ns} = {cls}(load_namespace(sql_dir, {cls}.NAMESPACE, {cls}.SQL_SHA256))")
    out += ["", "", "queries: Final = Queries()", ""]
    text = "\n".join(out)
    # no trailing spaces, exactly one newline at the end
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"

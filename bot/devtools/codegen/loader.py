"""Load the named queries with aiosql itself, so names, operators and parameter lists
are exactly what the bot sees at run time."""

from __future__ import annotations

import inspect
from pathlib import Path

import aiosql

from bot.devtools.codegen.model import CodegenError, Op, QuerySpec

#: Folders under sql/ that are not query namespaces.
NOT_NAMESPACES = frozenset({"migrations"})  # (sql/migrations/postgres holds the generated PostgreSQL twins)

_OPS = {
    "SELECT": Op.SELECT,
    "SELECT_ONE": Op.SELECT_ONE,
    "SELECT_VALUE": Op.SELECT_VALUE,
    "INSERT_UPDATE_DELETE": Op.EXECUTE,
    "INSERT_RETURNING": Op.INSERT_ROWID,
    "INSERT_UPDATE_DELETE_MANY": Op.EXECUTE_MANY,
    "SCRIPT": Op.SCRIPT,
}


def namespace_dirs(sql_dir: Path) -> list[Path]:
    """The query namespaces: one sub-folder of sql/ each, named like a Python identifier."""
    if not sql_dir.is_dir():
        raise CodegenError(f"SQL folder not found: {sql_dir}")
    out = []
    for d in sorted(p for p in sql_dir.iterdir() if p.is_dir()):
        if d.name in NOT_NAMESPACES or d.name.startswith((".", "__")):
            continue
        if not d.name.isidentifier():
            raise CodegenError(f"{d}: a query folder must be a Python identifier (use '_' instead of '-')")
        if any(p.is_dir() and not p.name.startswith((".", "__")) for p in d.iterdir()):
            raise CodegenError(f"{d}: nested query folders are not supported; one folder per domain")
        out.append(d)
    return out


def load_specs(sql_dir: Path) -> list[QuerySpec]:
    specs: list[QuerySpec] = []
    for d in namespace_dirs(sql_dir):
        try:
            q = aiosql.from_path(d, "sqlite3")  # as bot.db.runtime loads them
        except Exception as e:  # aiosql's own SQLLoadException / SQLParseException
            raise CodegenError(f"{d}: aiosql cannot load the queries: {e}") from e
        for name in q.available_queries:
            fn = getattr(q, name)
            op = _OPS[fn.operation.name]
            if op is Op.SELECT and name.endswith("_cursor") and name[: -len("_cursor")] in q.available_queries:
                continue  # aiosql's cursor helper for a select
            code = fn.__code__ if hasattr(fn, "__code__") else inspect.unwrap(fn).__code__
            specs.append(
                QuerySpec(
                    namespace=d.name,
                    name=name,
                    op=op,
                    sql=fn.sql,
                    declared_params=tuple(fn.parameters) if fn.parameters is not None else None,
                    doc=(fn.__doc__ or "").strip(),
                    file=Path(code.co_filename),
                    line=code.co_firstlineno,
                )
            )
    return sorted(specs, key=lambda s: (s.namespace, s.name))

"""Compile every query against schema.sql with SQLite itself, and lint it.

SQLite is the authority on whether a query is valid: `EXPLAIN <query>` prepares the
statement (unknown tables, columns, syntax errors, wrong upserts all fail) without
running it. The lint rules catch what is valid SQL but wrong for this project.
"""

from __future__ import annotations

import re
import sqlite3

from sqlglot import exp

from bot.devtools.codegen.analyze import is_write, placeholder_names, statement_of
from bot.devtools.codegen.model import CodegenError, Op, QuerySpec
from bot.devtools.codegen.schema_model import SchemaModel

# SQLite-only syntax kept out of the queries so the same files run on PostgreSQL.
_NOT_PORTABLE = [
    (re.compile(r"\bINSERT\s+OR\b", re.I), "INSERT OR ...: use INSERT ... ON CONFLICT"),
    (re.compile(r"\bREPLACE\s+INTO\b", re.I), "REPLACE INTO: use INSERT ... ON CONFLICT ... DO UPDATE"),
    (
        re.compile(r"\b(strftime|datetime|julianday|unixepoch|date|time)\s*\(", re.I),
        "SQLite date function: pass timestamps as parameters",
    ),
    (re.compile(r"\bCURRENT_(TIMESTAMP|DATE|TIME)\b", re.I), "CURRENT_TIMESTAMP: pass timestamps as parameters"),
    (re.compile(r"\bnow\s*\(", re.I), "now(): pass timestamps as parameters"),
    (
        re.compile(r"\b(ifnull|iif|group_concat|json_each|json_extract|printf|instr)\s*\(", re.I),
        "SQLite-only function: use the common subset (COALESCE, CASE, ...)",
    ),
    (re.compile(r"\browid\b", re.I), "rowid: use the table's key"),
    (re.compile(r"`"), "backtick quoting: use double quotes"),
    (re.compile(r"\bLIMIT\s+-1\b", re.I), "LIMIT -1"),
]
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


def compile_problems(spec: QuerySpec, schema: SchemaModel) -> list[str]:
    """Prepare the query on an in-memory database built from schema.sql."""
    try:
        tree = statement_of(spec)
        names = placeholder_names(tree)
    except CodegenError as e:
        return [str(e).removeprefix(f"{spec.qualified_name}: ")]
    try:
        schema.connection.execute("EXPLAIN " + spec.sql, dict.fromkeys(names)).fetchall()
    except sqlite3.Error as e:
        return [f"does not compile against schema.sql: {e}"]
    return []


def plan_problems(spec: QuerySpec, schema: SchemaModel) -> list[str]:
    """Query-plan lint for a query that compiles."""
    tree = statement_of(spec)
    if tree.find(exp.Where) is None and tree.find(exp.Join) is None:
        return []  # one table, no filter: reading the whole table is what the query says
    plan = schema.connection.execute("EXPLAIN QUERY PLAN " + spec.sql, dict.fromkeys(placeholder_names(tree)))
    return _scan_problems(spec, [str(row[3]) for row in plan.fetchall()], _partial_indexes(schema))


def _partial_indexes(schema: SchemaModel) -> set[str]:
    """Indexes with a WHERE: a scan of one reads only the rows its predicate keeps (e.g. the
    open sessions), not the whole table."""
    rows = schema.connection.execute(
        "SELECT il.name FROM sqlite_schema AS t, pragma_index_list(t.name) AS il WHERE t.type = 'table' AND il.partial"
    )
    return {str(r[0]) for r in rows.fetchall()}


# a bare SCAN and a SCAN through an index (even a covering one) both read every row: the
# cost grows with the table
_FULL_SCAN = re.compile(r"^SCAN (?!CONSTANT ROW)(?P<table>\S+)(?P<index> USING (?:COVERING )?INDEX (?P<name>\S+))?$")


def _scan_problems(spec: QuerySpec, plan: list[str], partial: set[str]) -> list[str]:
    """Every filtered lookup or join needs an index; a query that reads whole tables by design
    says `-- @scan <why the table stays small>`."""
    if any(line.strip().startswith("@scan") for line in spec.doc.splitlines()):
        return []
    return [
        f"{'scan of every row' if m['index'] else 'full table scan'} of {m['table']}{m['index'] or ''}: "
        "add an index for this lookup, or mark the query '-- @scan <reason>' if it reads the whole "
        "table by design"
        for m in (_FULL_SCAN.match(detail) for detail in plan)
        if m and m["name"] not in partial
    ]


def lint_problems(spec: QuerySpec, n_columns: int | None) -> list[str]:
    """Rules for aiosql's traps (typed_sql_anchors.md §1) and for portable SQL."""
    problems: list[str] = []
    try:
        tree = statement_of(spec)
    except CodegenError as e:
        return [str(e).removeprefix(f"{spec.qualified_name}: ")]
    returning = tree.args.get("returning") is not None
    write = is_write(tree)
    names = placeholder_names(tree)

    if spec.op is Op.SCRIPT:
        problems.append(
            "'#' scripts run executescript, which COMMITs any open transaction: put DDL in sql/migrations instead"
        )
    if spec.op is Op.INSERT_ROWID and returning:
        problems.append(
            "'<!' with RETURNING: aiosql's SQLite adapters return lastrowid and drop the row; use '^' or '$'"
        )
    if spec.op is Op.INSERT_ROWID and not isinstance(tree, exp.Insert):
        problems.append("'<!' on a statement that is not an INSERT returns a meaningless lastrowid")
    if spec.op is Op.SELECT_VALUE and n_columns is not None and n_columns != 1:
        problems.append(f"'$' returns one value but the query yields {n_columns} columns")
    if spec.op in (Op.SELECT, Op.SELECT_ONE, Op.SELECT_VALUE) and write and not returning:
        problems.append("a write declared as a select (no operator, '^' or '$') without RETURNING: use '!'")
    if spec.op in (Op.EXECUTE, Op.EXECUTE_MANY, Op.INSERT_ROWID) and not write:
        problems.append("a read declared as a write ('!', '*!' or '<!'): use no operator, '^' or '$'")
    if spec.op in (Op.EXECUTE, Op.EXECUTE_MANY) and returning:
        problems.append("RETURNING rows are discarded by '!'/'*!': use '^', '$' or no operator")
    if spec.declared_params is not None and sorted(spec.declared_params) != sorted(names):
        problems.append(f"declared parameters {list(spec.declared_params)} do not match the SQL's {names}")
    for name in names:
        if "__" in name:
            problems.append(f"parameter :{name}: attribute parameters (:obj.attr) are not supported")
    if spec.op is Op.EXECUTE_MANY and not names:
        problems.append("'*!' without parameters")

    code = _STRING_LITERAL.sub("''", spec.sql)
    for pattern, message in _NOT_PORTABLE:
        if pattern.search(code):
            problems.append(f"not portable to PostgreSQL: {message}")
    return problems

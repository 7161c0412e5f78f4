"""Types per engine: SQLite's real affinity rules, PostgreSQL's types, and `sql check` flagging
a result column whose Python type differs between the two."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.db import SqliteDatabase
from bot.devtools.codegen import generate
from bot.devtools.codegen.postgres import check_on_postgres, render_pg_migrations, result_type_problems
from bot.devtools.codegen.schema_model import Affinity, affinity, sqlite_read_types
from tests.pg_support import URL as PG_URL
from tests.pg_support import needs_postgres
from tests.test_codegen import SCHEMA, import_generated, make_project, problems_of

# Declared types of the schema and of the wild, with what the bot writes into them.
DECLARED = ["INTEGER", "TEXT", "REAL", "BLOB", "", "NUMERIC", "TIMESTAMP", "DATETIME", "BOOLEAN",
            "VARCHAR(20)", "FLOATING POINT", "DOUBLE", "DECIMAL(10,2)", "BIGINT"]  # fmt: skip
WRITTEN: dict[str, list[Any]] = {
    "int": [0, -1, 2**63 - 1, -(2**63), 1764583200],
    "str": ["2025-01-01 10:00:00", "1764583200", "99999999999999999999", "1.5", "-0", " 42", "1e3", "", "ü☕"],
    "float": [0.0, 1.5, 3.0, -2.25, 1e300],
    "bytes": [b"", b"\x00\xff"],
    "object": [1, "x", 1.5, b"\x01"],
}


def test_affinity_follows_sqlite_rules_not_the_names_meaning() -> None:
    assert affinity("TIMESTAMP") is Affinity.NUMERIC and affinity("DATETIME") is Affinity.NUMERIC
    assert affinity("FLOATING POINT") is Affinity.INTEGER  # "INT" comes first
    assert affinity("") is Affinity.BLOB and affinity("VARCHAR(20)") is Affinity.TEXT


@pytest.mark.parametrize("strict", [False, True])
def test_read_types_match_what_sqlite_returns(strict: bool) -> None:
    """What sqlite3 hands back for every value the bot may write is within the predicted types."""
    from bot.devtools.codegen.schema_model import python_type

    conn = sqlite3.connect(":memory:")
    for i, decl in enumerate(DECLARED):
        if strict and decl not in ("INTEGER", "TEXT", "REAL", "BLOB"):
            continue
        conn.execute(f"CREATE TABLE t{i} (v {decl}){' STRICT' if strict else ''}")
        predicted = sqlite_read_types(decl, strict)
        for value in WRITTEN[python_type(decl)]:
            conn.execute(f"INSERT INTO t{i} VALUES (?)", (value,))
        seen = {type(v).__name__ for (v,) in conn.execute(f"SELECT v FROM t{i}")}
        assert "object" in predicted or seen <= predicted, (decl, seen, predicted)
    conn.close()


def test_numeric_affinity_is_the_reported_case() -> None:
    assert sqlite_read_types("TIMESTAMP", strict=False) == {"int", "float", "str"}
    assert sqlite_read_types("INTEGER", strict=True) == {"int"}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "-- name: created()\n-- @scan\nSELECT created_at FROM lanes;",
            "result column 'created_at' differs between the engines: SQLite returns float | int | str, "
            "PostgreSQL str; make them agree with a CAST in the SQL, or annotate the union that is really "
            "returned: -- @result created_at: float | int | str",
        ),
        (
            "-- name: total()^\nSELECT SUM(user_limit) AS s FROM lanes;",
            "result column 's' differs between the engines: SQLite returns int, PostgreSQL Decimal; "
            "make them agree with a CAST in the SQL",
        ),
        ("-- name: mean()^\nSELECT AVG(user_limit) AS a FROM lanes;", "SQLite returns float, PostgreSQL Decimal"),
        (
            "-- name: note()\n-- @scan\n-- @result created_at: str | None\nSELECT created_at FROM lanes;",
            "@result created_at: str does not cover what SQLite returns (float | int | str)",
        ),
    ],
)
def test_check_flags_types_that_differ_between_engines(tmp_path: Path, sql: str, message: str) -> None:
    found = problems_of(tmp_path, sql)
    assert len(found) == 1 and message in found[0], found


def test_casts_and_unions_make_the_engines_agree(tmp_path: Path) -> None:
    sql = """
    -- name: created()
    -- @scan
    SELECT CAST(created_at AS TEXT) AS created_at, CAST(SUM(user_limit) AS BIGINT) AS s,
           channel_id > 1 AS big
    FROM lanes GROUP BY created_at;

    -- name: created_union()
    -- @scan
    -- @result created_at: float | int | str | None
    SELECT created_at FROM lanes;
    """
    assert problems_of(tmp_path, sql) == []
    project = make_project(tmp_path, sql)
    generate(project)
    text = project.output.read_text()
    assert "    created_at: str | None\n    s: int\n    big: bool\n" in text
    assert "    created_at: float | int | str | None\n" in text


LIMITED = """
-- name: page(n, skip)
-- @scan
SELECT channel_id FROM lanes ORDER BY channel_id LIMIT :n OFFSET :skip;

-- name: first_lane()^
SELECT channel_id FROM lanes WHERE channel_id = 1;
"""


async def test_negative_limits_are_refused_on_every_engine(tmp_path: Path) -> None:
    project = make_project(tmp_path, LIMITED)
    generate(project)
    text = project.output.read_text()
    assert '"""[sql/demo/q.sql:' in text  # no invented prose: a query without comments has none
    module = import_generated(project)
    q: Any = module.queries.demo
    setup = sqlite3.connect(tmp_path / "demo.sqlite3")
    setup.executescript(SCHEMA + "INSERT INTO lanes (channel_id, guild_id) VALUES (1, 1), (2, 2);")
    setup.close()
    async with SqliteDatabase(tmp_path / "demo.sqlite3") as db, db.read() as conn:
        assert [r.channel_id for r in await q.page(conn, n=5, skip=0)] == [1, 2]
        assert await q.page(conn, n=0, skip=0) == []
        with pytest.raises(ValueError, match="demo.page: n must be 0 or more, not -1"):
            await q.page(conn, n=-1, skip=0)  # SQLite alone would return every row
        with pytest.raises(ValueError, match="skip must be 0 or more"):
            await q.page(conn, n=1, skip=-3)


@needs_postgres
def test_sql_check_compares_the_servers_result_types(tmp_path: Path) -> None:
    """What inference cannot see (here ROUND of a numeric, and an annotation that guesses) the
    PostgreSQL server reports: `sql check` compares its result types with the accessors'."""
    sql = """
    -- name: rounded()^
    -- @result r: float | None
    SELECT ROUND(AVG(user_limit)) AS r FROM lanes;

    -- name: agreed()^
    SELECT CAST(SUM(user_limit) AS BIGINT) AS s, EXISTS (SELECT 1 FROM prefs) AS any_prefs FROM lanes;
    """
    project = make_project(tmp_path, sql)
    migrations = tmp_path / "sql" / "migrations"
    migrations.mkdir()
    (migrations / "0001_demo.sql").write_text(SCHEMA)
    for path, text in render_pg_migrations(migrations).items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    failures, line = check_on_postgres(project.sql_dir, migrations, PG_URL, schema_path=project.schema_path)
    assert failures == [
        (
            "demo.rounded",
            "result column 'r' is numeric on PostgreSQL (asyncpg returns Decimal) but the accessor declares "
            "float: CAST it in the SQL so both engines return the same type",
        )
    ], line
    assert "2 queries prepared and their result types compared" in line


def test_result_type_problems_accept_unions_and_bools() -> None:
    declared = {"a": "float | int | str", "b": "bool", "c": "int", "d": "object"}
    returned = [("a", "text"), ("b", "bool"), ("c", "numeric"), ("d", "numeric"), ("e", "int8")]
    (problem,) = result_type_problems(declared, returned)
    assert problem.startswith("result column 'c' is numeric on PostgreSQL (asyncpg returns Decimal)")


def test_expression_types_per_engine(tmp_path: Path) -> None:
    """Arithmetic, CASE/COALESCE and CAST as each engine types them, through the generator."""
    sql = """
    -- name: exprs()
    -- @scan
    SELECT channel_id * 2 AS doubled, CAST(user_limit AS DOUBLE PRECISION) / 2 AS half,
           CASE WHEN name IS NULL THEN 'a' ELSE 'b' END AS label, COALESCE(name, 'x') AS nm,
           CAST(channel_id AS TEXT) AS id_text, MAX(user_limit) - MIN(user_limit) AS spread
    FROM lanes GROUP BY channel_id, user_limit, name;
    """
    assert problems_of(tmp_path, sql) == []
    project = make_project(tmp_path, sql)
    generate(project)
    text = project.output.read_text()
    assert "    doubled: int\n    half: float\n    label: str\n    nm: str\n    id_text: str\n    spread: int\n" in text


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("CASE WHEN name IS NULL THEN 0 ELSE 1.5 END AS score", "SQLite returns float | int, PostgreSQL Decimal"),
        ("user_limit * 0.5 AS half", "SQLite returns float, PostgreSQL Decimal"),
        ("user_limit + created_at AS odd", "SQLite returns float | int, PostgreSQL int | str"),
        ("CAST(user_limit AS NUMERIC) AS n", "SQLite returns float | int, PostgreSQL Decimal"),
    ],
)
def test_expressions_that_differ_between_engines(tmp_path: Path, select: str, message: str) -> None:
    found = problems_of(tmp_path, f"-- name: q()\n-- @scan\nSELECT {select} FROM lanes;")
    assert len(found) == 1 and message in found[0], found

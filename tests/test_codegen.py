"""The generator and `sql check`: validation by SQLite, lint rules, inferred types, staleness."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.db import Database, SqliteDatabase, StaleQueriesError
from bot.db.runtime import load_namespace
from bot.db.sqlite.connection import as_sqlite
from bot.devtools.codegen import CodegenError, Project, check, generate, render_project
from bot.resources import SCHEMA_PATH, SOURCE_ROOT, SQL_DIR

SCHEMA = """
CREATE TABLE lanes (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name TEXT,
    user_limit INTEGER NOT NULL DEFAULT 8,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE prefs (owner_id INTEGER PRIMARY KEY, region TEXT NOT NULL, default_name TEXT NOT NULL) STRICT;
CREATE TABLE owners (channel_id INTEGER NOT NULL, owner_id INTEGER NOT NULL, PRIMARY KEY (channel_id, owner_id));
CREATE INDEX lanes_guild ON lanes (guild_id);
"""


def make_project(tmp_path: Path, queries: str, schema: str = SCHEMA) -> Project:
    (tmp_path / "sql" / "demo").mkdir(parents=True, exist_ok=True)
    (tmp_path / "sql" / "demo" / "q.sql").write_text(textwrap.dedent(queries).lstrip())
    (tmp_path / "schema.sql").write_text(schema)
    return Project(
        sql_dir=tmp_path / "sql",
        schema_path=tmp_path / "schema.sql",
        output=tmp_path / "demo_queries.py",
        root=tmp_path,
    )


def problems_of(tmp_path: Path, queries: str) -> list[str]:
    return [
        f"{p.where}: {p.query}: {p.message}"
        for p in check(make_project(tmp_path, queries))
        if p.query != "generated code"
    ]


def import_generated(project: Project) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gen_{abs(hash(project.output))}", project.output)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def test_repository_sql_is_clean_and_generated_file_current() -> None:
    assert check() == []


def test_stale_generated_file_is_detected(tmp_path: Path) -> None:
    shutil.copytree(SQL_DIR, tmp_path / "sql")
    shutil.copy(SCHEMA_PATH, tmp_path / "schema.sql")
    project = Project(
        sql_dir=tmp_path / "sql", schema_path=tmp_path / "schema.sql", output=tmp_path / "queries.py", root=tmp_path
    )
    assert check(project)[0].message.startswith("stale")  # nothing generated yet
    _, count = generate(project)
    assert count > 80 and check(project) == []
    lanes = tmp_path / "sql" / "tempvoice" / "lanes.sql"
    lanes.write_text(lanes.read_text().replace("ORDER BY channel_id;", "ORDER BY guild_id, channel_id;", 1))
    found = check(project)
    assert len(found) == 1 and "stale" in found[0].message and "sql generate" in found[0].message
    # the generated module refuses to load against changed SQL
    with pytest.raises(StaleQueriesError, match="tempvoice.*list_lanes_by_guild"):
        import_generated(project)


def test_runtime_guard_rejects_unknown_hashes() -> None:
    with pytest.raises(StaleQueriesError, match="stale"):
        load_namespace(SQL_DIR, "ranks", {"get_user_rank": "0" * 64})
    with pytest.raises(StaleQueriesError, match="cannot load"):
        load_namespace(SQL_DIR, "no_such_domain", {})


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "-- name: bad_col(channel_id)^\nSELECT nme FROM lanes WHERE channel_id = :channel_id;",
            "does not compile against schema.sql: no such column: nme",
        ),
        ("-- name: bad_table()\nSELECT channel_id FROM lane;", "no such table: lane"),
        (
            "-- name: ins(channel_id)<!\nINSERT INTO lanes (channel_id, guild_id) VALUES (:channel_id, 1) "
            "RETURNING channel_id;",
            "'<!' with RETURNING",
        ),
        ("-- name: script#\nCREATE TABLE x (y INTEGER);", "executescript"),
        ("-- name: two()$\nSELECT channel_id, guild_id FROM lanes;", "'$' returns one value"),
        (
            "-- name: sneaky(channel_id)^\nDELETE FROM lanes WHERE channel_id = :channel_id;",
            "a write declared as a select",
        ),
        (
            "-- name: readish(channel_id)!\nSELECT name FROM lanes WHERE channel_id = :channel_id;",
            "a read declared as a write",
        ),
        (
            "-- name: replace(channel_id)!\n"
            "INSERT OR REPLACE INTO lanes (channel_id, guild_id) VALUES (:channel_id, 1);",
            "not portable to PostgreSQL: INSERT OR",
        ),
        (
            "-- name: stamp(channel_id)!\n"
            "UPDATE lanes SET created_at = CURRENT_TIMESTAMP WHERE channel_id = :channel_id;",
            "CURRENT_TIMESTAMP",
        ),
        ("-- name: when()\nSELECT strftime('%s', created_at) AS t FROM lanes;", "SQLite date function"),
        ("-- name: star()\nSELECT * FROM lanes;", "SELECT * is not allowed"),
        ("-- name: anon()\nSELECT channel_id + 1 FROM lanes;", "needs an alias"),
        (
            "-- name: unknown_param(x)\nSELECT channel_id FROM lanes WHERE :x;",
            "cannot infer the type of parameter :x; annotate it: -- @param x: int",
        ),
        (
            "-- name: mixed(x)\nSELECT channel_id FROM lanes WHERE channel_id = :x OR name = :x;",
            "parameter :x is used as ['int', 'str']",
        ),
        (
            "-- name: many_returning*!\nDELETE FROM lanes WHERE channel_id = :channel_id RETURNING name;",
            "RETURNING rows are discarded",
        ),
        ("-- name: dup()\nSELECT channel_id, guild_id AS channel_id FROM lanes;", "duplicate result column names"),
        ("-- name: bad_note()\n-- @result channel_id: integer\nSELECT channel_id FROM lanes;", "bad annotation"),
        (
            "-- name: stray_note()\n-- @result nope: int\nSELECT channel_id FROM lanes;",
            "@result for unknown column(s) ['nope']",
        ),
        ("-- name: two_statements()\nSELECT 1 AS a; SELECT 2 AS b;", "exactly one statement"),
        (
            "-- name: by_name(name)\nSELECT channel_id FROM lanes WHERE name = :name;",
            "full table scan of lanes: add an index",
        ),
        (  # the primary key's covering index read from end to end is a scan all the same
            "-- name: by_parity(parity)\nSELECT guild_id FROM lanes WHERE guild_id % 2 = :parity;",
            "scan of every row of lanes USING COVERING INDEX lanes_guild",
        ),
        (  # a join without a filter is linted too
            "-- name: regions()\nSELECT l.guild_id, p.region FROM lanes AS l JOIN prefs AS p ON p.owner_id = l.guild_id;",  # noqa: E501
            "scan of every row of l USING COVERING INDEX lanes_guild",
        ),
    ],
)
def test_check_reports_each_problem(tmp_path: Path, sql: str, message: str) -> None:
    found = problems_of(tmp_path, sql)
    assert any(message in p for p in found), found
    assert all(p.startswith("sql/demo/q.sql:1: demo.") for p in found), found


def test_whole_table_reads_can_be_declared(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "-- name: all_names()\nSELECT name FROM lanes;") == []
    named = "-- name: named()\n-- @scan lanes stays small\nSELECT name FROM lanes WHERE name IS NOT NULL;"
    assert problems_of(tmp_path, named) == []


def test_a_scan_of_a_partial_index_reads_only_its_rows(tmp_path: Path) -> None:
    schema = SCHEMA + "CREATE INDEX lanes_limited ON lanes (channel_id) WHERE user_limit > 0;"
    sql = "-- name: limited()\nSELECT channel_id FROM lanes WHERE user_limit > 0 ORDER BY channel_id;"
    found = [p for p in check(make_project(tmp_path, sql, schema=schema)) if p.query != "generated code"]
    assert found == []


def test_aiosql_load_errors_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="aiosql cannot load"):
        check(make_project(tmp_path, "-- name: nolist^\nSELECT 1 AS a;"))
    with pytest.raises(CodegenError, match="Python identifier"):
        (tmp_path / "sql" / "bad-name").mkdir(parents=True)
        check(make_project(tmp_path, "-- name: ok()\nSELECT 1 AS a;"))


INFERENCE = """
-- name: left_join()
-- @scan
SELECT l.channel_id, p.default_name, p.region FROM lanes AS l LEFT JOIN prefs AS p ON p.owner_id = l.guild_id;

-- name: inner_join()
-- @scan
SELECT l.channel_id, p.default_name FROM lanes AS l JOIN prefs AS p ON p.owner_id = l.guild_id;

-- name: aggregates()^
SELECT COUNT(*) AS n, COUNT(name) AS n_named, CAST(SUM(user_limit) AS BIGINT) AS s, MAX(user_limit) AS mx,
       MIN(name) AS mn, CAST(AVG(user_limit) AS DOUBLE PRECISION) AS av
FROM lanes;

-- name: grouped()
SELECT guild_id, COUNT(*) AS n, MAX(user_limit) AS mx FROM lanes GROUP BY guild_id;

-- name: expressions()
-- @scan
SELECT user_limit + 1 AS lim1, COALESCE(name, 'x') AS nm, name IS NOT NULL AS has_name,
       CASE WHEN user_limit > 4 THEN 'big' END AS size_no_else,
       CASE WHEN user_limit > 4 THEN 'big' ELSE 'small' END AS size, name || '!' AS bang,
       (SELECT COUNT(*) FROM owners AS o WHERE o.channel_id = lanes.channel_id) AS owners
FROM lanes;

-- name: narrowed()
-- @scan
SELECT name FROM lanes WHERE name IS NOT NULL;

-- name: compound()
SELECT channel_id AS id FROM lanes UNION SELECT NULL AS id FROM prefs;

-- name: derived()
SELECT d.total FROM (SELECT guild_id, COUNT(*) AS total FROM lanes GROUP BY guild_id) AS d;

-- name: create_lane(channel_id, guild_id, name)$
INSERT INTO lanes (channel_id, guild_id, name) VALUES (:channel_id, :guild_id, :name)
RETURNING CAST(created_at AS TEXT) AS created_at;

-- name: rename(channel_id, name)^
UPDATE lanes SET name = :name WHERE channel_id = :channel_id RETURNING channel_id, name, user_limit;

-- name: page(guild_id, n)
-- @row LaneName
SELECT channel_id, name FROM lanes WHERE guild_id = :guild_id ORDER BY channel_id LIMIT :n;

-- name: by_ids(a, b)
-- @row LaneName
SELECT channel_id, name FROM lanes WHERE channel_id IN (:a, :b);

-- name: annotated(since)
-- @param since: int | None
-- @result newest: float | int | str | None
-- @scan
SELECT MAX(created_at) AS newest FROM lanes WHERE COALESCE(:since, 0) >= 0;

-- name: bulk*!
INSERT INTO owners (channel_id, owner_id) VALUES (:channel_id, :owner_id);

-- name: ident()<!
INSERT INTO owners (channel_id, owner_id) VALUES (1, 2);
"""


async def test_inferred_types_are_sound(tmp_path: Path) -> None:
    project = make_project(tmp_path, INFERENCE)
    generate(project)
    text = project.output.read_text()
    expected_fields = {
        "LeftJoinRow": ["channel_id: int", "default_name: str | None", "region: str | None"],
        "InnerJoinRow": ["channel_id: int", "default_name: str"],
        "AggregatesRow": [
            "n: int",
            "n_named: int",
            "s: int | None",
            "mx: int | None",
            "mn: str | None",
            "av: float | None",
        ],
        "GroupedRow": ["guild_id: int", "n: int", "mx: int"],
        "ExpressionsRow": [
            "lim1: int",
            "nm: str",
            "has_name: bool",
            "size_no_else: str | None",
            "size: str",
            "bang: str | None",
            "owners: int | None",
        ],
        "NarrowedRow": ["name: str"],
        "CompoundRow": ["id: int | None"],
        "DerivedRow": ["total: int"],
        "RenameRow": ["channel_id: int", "name: str | None", "user_limit: int"],
        "LaneName": ["channel_id: int", "name: str | None"],
        "AnnotatedRow": ["newest: float | int | str | None"],
    }
    for cls, fields in expected_fields.items():
        block = text.split(f"class {cls}:", 1)[1].split("\n\n\n", 1)[0]
        for field in fields:
            assert f"    {field}\n" in block + "\n", (cls, field, block)
    signatures = [
        "async def create_lane(self, conn: WriteConn, *, channel_id: int, guild_id: int, name: str | None)"
        " -> str | None:",
        "async def rename(self, conn: WriteConn, *, channel_id: int, name: str | None) -> RenameRow | None:",
        "async def page(self, conn: AnyConn, *, guild_id: int, n: int) -> list[LaneName]:",
        "async def by_ids(self, conn: AnyConn, *, a: int, b: int) -> list[LaneName]:",
        "async def aggregates(self, conn: AnyConn) -> AggregatesRow:",
        "async def annotated(self, conn: AnyConn, *, since: int | None) -> list[AnnotatedRow]:",
        "async def bulk(self, conn: WriteConn, rows: Iterable[BulkParams]) -> None:",
        "async def ident(self, conn: WriteConn) -> int:",
    ]
    for sig in signatures:
        assert sig in text, sig

    # Run every query on data full of NULLs and unmatched join rows: with BOT_DB_STRICT_ROWS=1
    # a field typed non-null that receives None raises, so these calls prove the inference.
    module = import_generated(project)
    q: Any = module.queries.demo
    async with SqliteDatabase(tmp_path / "demo.sqlite3") as db:
        async with db.write() as conn:
            await as_sqlite(conn).executescript(SCHEMA)
        assert (await q.aggregates(await _reader(db))).n == 0  # empty table: one row of NULL aggregates
        async with db.transaction() as conn:
            assert await q.create_lane(conn, channel_id=1, guild_id=10, name=None) is not None
            await q.create_lane(conn, channel_id=2, guild_id=10, name="two")
            await conn.execute("INSERT INTO prefs VALUES (10, 'DE', 'x')")
            await conn.execute("INSERT INTO lanes (channel_id, guild_id) VALUES (3, 99)")
            await q.bulk(conn, [{"channel_id": 1, "owner_id": 5}, {"channel_id": 1, "owner_id": 6}])
            assert await q.ident(conn) > 0
            renamed = await q.rename(conn, channel_id=2, name=None)
            assert renamed is not None and renamed.name is None
            assert await q.rename(conn, channel_id=404, name="x") is None
        async with db.read() as conn:
            left = await q.left_join(conn)
            assert sorted((r.channel_id, r.default_name) for r in left) == [(1, "x"), (2, "x"), (3, None)]
            assert len(await q.inner_join(conn)) == 2
            agg = await q.aggregates(conn)
            assert (agg.n, agg.n_named, agg.s, agg.mx) == (3, 0, 24, 8)
            assert [r.n for r in await q.grouped(conn)] == [2, 1]
            exprs = await q.expressions(conn)
            first = exprs[0]
            assert (first.nm, first.has_name, first.size, first.owners) == ("x", False, "big", 3)
            assert await q.narrowed(conn) == []
            assert sorted((r.id is None) for r in await q.compound(conn)) == [False, False, False, True]
            assert sorted(r.total for r in await q.derived(conn)) == [1, 2]
            assert [r.channel_id for r in await q.page(conn, guild_id=10, n=1)] == [1]
            assert {r.channel_id for r in await q.by_ids(conn, a=1, b=3)} == {1, 3}
            assert (await q.annotated(conn, since=None))[0].newest is not None


async def _reader(db: Database) -> Any:
    # a read connection outside of `async with`, only for a one-off call in this test
    async with db.read() as conn:
        return conn


def test_generation_is_deterministic(tmp_path: Path) -> None:
    project = make_project(tmp_path, INFERENCE)
    assert render_project(project) == render_project(project)


def test_schema_that_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="does not load into SQLite"):
        check(make_project(tmp_path, "-- name: a()\nSELECT 1 AS a;", schema="CREATE TABLE broken ("))


def test_strict_rows_catch_a_wrong_inference() -> None:
    from bot.db.queries import Lane

    with pytest.raises(TypeError, match="Lane.owner_id is None"):
        Lane(1, 2, None, "Lane 1", 0, 1, 0, None)  # type: ignore[arg-type]


def test_check_on_sqlite_errors_reports_location(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "-- name: ok()\nSELECT 1 AS a;\n\n-- name: broken()\nSELECT FROM;")
    assert any(p.startswith("sql/demo/q.sql:4: demo.broken:") for p in found), found
    assert sqlite3.sqlite_version


def test_the_sql_toolchain_never_imports_the_generated_module() -> None:
    """`deadlock-bot sql generate` must work while bot/db/queries.py is stale (it refuses to load then)."""
    code = "import sys, bot.cli.main, bot.devtools.codegen; print('bot.db.queries' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SOURCE_ROOT)
    assert out.stdout.strip() == "False"

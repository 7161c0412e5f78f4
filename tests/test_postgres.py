"""The PostgreSQL twin of the schema, and every query prepared on a real server.

Runs against DEADLOCK_PG_URL (default: the local server on 127.0.0.1:5432, database test);
skipped with a clear reason where no server is reachable.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from bot.devtools.codegen.postgres import DEFAULT_PG_URL, check_on_postgres, render_pg_migrations
from bot.devtools.codegen.schema_model import SchemaModel
from bot.resources import MIGRATIONS_DIR, SCHEMA_PATH, SQL_DIR

asyncpg = pytest.importorskip("asyncpg")
URL = os.environ.get("DEADLOCK_PG_URL", DEFAULT_PG_URL)


def _reachable() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(URL, timeout=2)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


pytestmark = pytest.mark.skipif(not _reachable(), reason=f"no PostgreSQL server reachable at {URL}")


@pytest.fixture
def pg_schema() -> Iterator[dict[str, list[tuple[str, str, bool]]]]:
    """table -> [(column, type, nullable)] after applying the PostgreSQL migrations."""
    schema = f"deadlock_test_{os.getpid()}"

    async def build() -> dict[str, list[tuple[str, str, bool]]]:
        conn = await asyncpg.connect(URL)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            await conn.execute(f"SET search_path = {schema}")
            for path in sorted((MIGRATIONS_DIR / "postgres").glob("*.sql")):
                await conn.execute(path.read_text())
            rows: list[Any] = await conn.fetch(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
                schema,
            )
            out: dict[str, list[tuple[str, str, bool]]] = {}
            for r in rows:
                out.setdefault(r["table_name"], []).append(
                    (r["column_name"], r["data_type"], r["is_nullable"] == "YES")
                )
            return out
        finally:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.close()

    yield asyncio.run(build())


def test_postgres_schema_matches_schema_sql(pg_schema: dict[str, list[tuple[str, str, bool]]]) -> None:
    sqlite = SchemaModel.from_file(SCHEMA_PATH)
    pk = sqlite3.connect(":memory:")
    pk.executescript(SCHEMA_PATH.read_text())
    try:
        assert set(pg_schema) == set(sqlite.tables)
        expected_types = {"int": "bigint", "str": "text", "float": "double precision", "bytes": "bytea"}
        for table, info in sqlite.tables.items():
            keys = {r[1] for r in pk.execute("SELECT * FROM pragma_table_info(?)", (table,)) if r[5]}
            want = [
                # a primary key column is NOT NULL in PostgreSQL (SQLite lets a TEXT key be NULL)
                (name, expected_types[col.pytype], not (col.not_null or name in keys))
                for name, col in ((c.name, c) for c in info.columns.values())
            ]
            assert pg_schema[table] == want, table
    finally:
        sqlite.close()
        pk.close()


def test_every_query_prepares_on_postgres() -> None:
    failures, line = check_on_postgres(SQL_DIR, MIGRATIONS_DIR, URL)
    assert failures == []
    assert "queries prepared" in line


def test_postgres_migrations_are_generated_from_the_sqlite_ones() -> None:
    rendered = render_pg_migrations(MIGRATIONS_DIR)
    assert [p.name for p in rendered] == [p.name for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    for path, text in rendered.items():
        assert path.read_text() == text
        assert "BIGINT" in text and "STRICT" not in text and "AUTOINCREMENT" not in text


_PG_KEYS_SQL = """
SELECT t.relname AS table_name, ix.indisprimary AS is_primary, ix.indisunique AS is_unique,
       ix.indpred IS NOT NULL AS is_partial,
       array_agg(a.attname::text ORDER BY k.n) AS columns
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE ns.nspname = $1
GROUP BY t.relname, ix.indexrelid, ix.indisprimary, ix.indisunique, ix.indpred
"""

_PG_FKS_SQL = """
SELECT t.relname AS table_name, r.relname AS ref_table, c.confdeltype::text AS on_delete,
       (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
       (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_columns
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class r ON r.oid = c.confrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
WHERE c.contype = 'f' AND ns.nspname = $1
"""

_ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

Keys = dict[str, tuple[tuple[str, ...], set[tuple[tuple[str, ...], bool, bool]], set[tuple[Any, ...]]]]


def _sqlite_keys() -> Keys:
    """table -> (primary key columns, {(columns, unique, partial)} of the other indexes, {foreign keys})."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA_PATH.read_text())
    out: Keys = {}
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            info = conn.execute("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
            pk = tuple(r[0] for r in info)
            indexes = set()
            for name, unique, origin, partial in conn.execute(
                'SELECT name, "unique", origin, partial FROM pragma_index_list(?)', (table,)
            ):
                if origin == "pk":
                    continue
                cols = tuple(r[0] for r in conn.execute(
                    "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)
                ))  # fmt: skip
                indexes.add((cols, bool(unique), bool(partial)))
            fks: dict[int, list[Any]] = {}
            for fk_id, ref, col, ref_col, on_delete in conn.execute(
                'SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
                (table,),
            ):
                entry = fks.setdefault(fk_id, [ref, on_delete, [], []])
                entry[2].append(col)
                entry[3].append(ref_col)
            out[table] = (pk, indexes, {(e[0], e[1], tuple(e[2]), tuple(e[3])) for e in fks.values()})
    finally:
        conn.close()
    return out


def test_postgres_keys_indexes_and_foreign_keys_match_schema_sql() -> None:
    """Primary keys, unique and partial indexes, plain indexes and foreign keys (with ON DELETE)
    of the generated PostgreSQL schema are those of schema.sql, table by table."""
    schema = f"deadlock_keys_{os.getpid()}"

    async def build() -> Keys:
        conn = await asyncpg.connect(URL)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            await conn.execute(f"SET search_path = {schema}")
            for path in sorted((MIGRATIONS_DIR / "postgres").glob("*.sql")):
                await conn.execute(path.read_text())
            out: Keys = {}
            for r in await conn.fetch(_PG_KEYS_SQL, schema):
                _, indexes, fks = out.setdefault(r["table_name"], ((), set(), set()))
                if r["is_primary"]:
                    out[r["table_name"]] = (tuple(r["columns"]), indexes, fks)
                else:
                    indexes.add((tuple(r["columns"]), r["is_unique"], r["is_partial"]))
            for r in await conn.fetch(_PG_FKS_SQL, schema):
                out[r["table_name"]][2].add(
                    (r["ref_table"], _ON_DELETE[r["on_delete"]], tuple(r["columns"]), tuple(r["ref_columns"]))
                )
            return out
        finally:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.close()

    pg = asyncio.run(build())
    sqlite = _sqlite_keys()
    assert set(pg) == set(sqlite)
    for table in sorted(sqlite):
        assert pg[table] == sqlite[table], table

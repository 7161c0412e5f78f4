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

from bot import MIGRATIONS_DIR, SCHEMA_PATH, SQL_DIR
from bot.db.codegen.postgres import DEFAULT_PG_URL, check_on_postgres, render_pg_migrations
from bot.db.codegen.schema_model import SchemaModel

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

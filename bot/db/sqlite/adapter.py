"""The aiosql driver adapter of the SQLite engine: every query is ONE hop to the connection's
thread through aiosqlite's public API (aiosql's stock aiosqlite adapter makes three: execute,
fetch, close).

aiosql loads the named queries with this class (`aiosql.from_path(folder, OneHopAdapter)`);
the generated accessors (bot.db.runtime) call its methods directly with the query's SQL, so
no async generator and no parameter juggling sits between an accessor and its hop. The `conn`
it is handed is the engine's `SqliteConnection` (error accounting, plain-value parameters).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from bot.db.sqlite.connection import Params, SqliteConnection


class OneHopAdapter:
    """aiosql's adapter protocol, each method one aiosqlite call."""

    is_aio_driver = True

    def process_sql(self, query_name: str, op_type: Any, sql: str) -> str:
        return sql  # sqlite3 reads aiosql's :name parameters as they are

    async def fetch_rows(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> list[Any]:
        """All rows as a list (what the accessors use; `select` is aiosql's generator form)."""
        return await conn.fetch_all(sql, parameters)

    async def select(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params, record_class: Any = None
    ) -> AsyncIterator[Any]:
        for row in await conn.fetch_all(sql, parameters):
            yield row

    async def select_one(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params, record_class: Any = None
    ) -> Any:
        rows = await conn.fetch_all(sql, parameters)
        return rows[0] if rows else None

    async def select_value(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> Any:
        rows = await conn.fetch_all(sql, parameters)
        return rows[0][0] if rows else None

    @contextlib.asynccontextmanager
    async def select_cursor(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params
    ) -> AsyncIterator[list[Any]]:
        yield await conn.fetch_all(sql, parameters)

    async def insert_returning(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> Any:
        return (await conn.run_statement(sql, parameters)).lastrowid

    async def insert_update_delete(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> int:
        return (await conn.run_statement(sql, parameters)).rowcount

    async def insert_update_delete_many(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Iterable[Mapping[str, Any]]
    ) -> None:
        await conn.run_many(sql, parameters)

    async def execute_script(self, conn: SqliteConnection, sql: str) -> str:
        await conn.executescript(sql)
        return "DONE"

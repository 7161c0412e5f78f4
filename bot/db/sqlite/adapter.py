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
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any

from bot.db.sqlite.connection import Change, Params, Shape, SqliteConnection


class OneHopAdapter:
    """aiosql's adapter protocol, each method one aiosqlite call. `query_name` is the name the
    query's time and failures are recorded under (the accessors pass "namespace.query").
    The methods hand back the connection's one coroutine: no layer of their own."""

    is_aio_driver = True

    def process_sql(self, query_name: str, op_type: Any, sql: str) -> str:
        return sql  # sqlite3 reads aiosql's :name parameters as they are

    def fetch_rows(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> Awaitable[Any]:
        """All rows as a list (what the accessors use; `select` is aiosql's generator form)."""
        return conn.query(sql, parameters, Shape.ROWS, query_name)

    async def select(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params, record_class: Any = None
    ) -> AsyncIterator[Any]:
        for row in await conn.query(sql, parameters, Shape.ROWS, query_name):
            yield row

    def select_one(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params, record_class: Any = None
    ) -> Awaitable[Any]:
        return conn.query(sql, parameters, Shape.ROW, query_name)

    def select_value(self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params) -> Awaitable[Any]:
        return conn.query(sql, parameters, Shape.VALUE, query_name)

    @contextlib.asynccontextmanager
    async def select_cursor(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params
    ) -> AsyncIterator[list[Any]]:
        yield await conn.query(sql, parameters, Shape.ROWS, query_name)

    def insert_returning(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params
    ) -> Awaitable[int | None]:
        return conn.change(sql, parameters, Change.LASTROWID, query_name)

    def insert_update_delete(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Params
    ) -> Awaitable[int | None]:
        return conn.change(sql, parameters, Change.ROWCOUNT, query_name)

    def insert_update_delete_many(
        self, conn: SqliteConnection, query_name: str, sql: str, parameters: Iterable[Mapping[str, Any]]
    ) -> Awaitable[None]:
        return conn.run_many(sql, parameters, query_name)

    async def execute_script(self, conn: SqliteConnection, sql: str) -> str:
        await conn.executescript(sql)
        return "DONE"

"""One PostgreSQL connection with the data layer's API, and the named queries it runs.

Statements go through asyncpg; with the statement cache off (PgBouncer in transaction
pooling) `prepare` uses the unnamed statement, which lives only until the next statement of
the same transaction: every unit of work is a transaction (bot/db/postgres/engine.py), so a
prepare and its execution always meet the same server connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosql
import asyncpg

from bot.db.connections import EngineConnection, Result, Rows
from bot.db.errors import IntegrityError
from bot.db.sqlite.maintenance import quote_ident
from bot.resources import SQL_DIR


class PgQueries:
    """aiosql's asyncpg functions per namespace, loaded once from the same sql/ folders."""

    def __init__(self, sql_dir: Path = SQL_DIR) -> None:
        self.sql_dir = sql_dir
        self._loaded: dict[str, Any] = {}

    def get(self, namespace: str, name: str) -> Any:
        q = self._loaded.get(namespace)
        if q is None:
            q = self._loaded[namespace] = aiosql.from_path(self.sql_dir / namespace, "asyncpg")
        return getattr(q, name)


PG_QUERIES = PgQueries()


def _rowcount(status: str) -> int:
    """asyncpg's command status ('UPDATE 3', 'INSERT 0 1') as a row count."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@contextlib.contextmanager
def _mapped(conn: PgConnection) -> Generator[None, None, None]:
    try:
        yield
    except asyncpg.PostgresError as e:
        conn.failed_statements += 1  # inside a transaction, PostgreSQL has now aborted it
        if isinstance(e, asyncpg.IntegrityConstraintViolationError):
            raise IntegrityError(str(e)) from e
        raise


class PgConnection(EngineConnection):
    """One pooled asyncpg connection with the data layer's API."""

    def __init__(self, raw: asyncpg.Connection, queries: PgQueries = PG_QUERIES) -> None:
        self.raw = raw
        self.queries = queries
        self.failed_statements = 0  # compared around a unit of work (bot/db/unit.py)

    async def control(self, sql: str) -> str:
        with _mapped(self):
            return str(await self.raw.execute(sql))

    async def _execute(self, sql: str, parameters: Sequence[Any]) -> Rows:
        with _mapped(self):
            stmt = await self.raw.prepare(sql)
            if stmt.get_attributes():  # the statement returns rows
                rows = await stmt.fetch(*parameters)
                return Rows([tuple(r) for r in rows], len(rows))
            status = await self.raw.execute(sql, *parameters)
            return Rows([], _rowcount(status))

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Result:
        return Result(self._execute(sql, parameters))

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Any:
        with _mapped(self):
            await self.raw.executemany(sql, list(seq))

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.is_in_transaction())

    # -- catalog (engine-neutral tools) ----------------------------------------------------

    def placeholder(self, index: int) -> str:
        return f"${index}"

    async def table_names(self) -> set[str]:
        rows = await self.raw.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {str(r[0]) for r in rows}

    async def identity_high_water(self, table: str, column: str) -> int:
        value = await self.raw.fetchval(
            "SELECT s.last_value FROM pg_sequences s "
            "WHERE quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) = pg_get_serial_sequence($1, $2)",
            table,
            column,
        )
        return int(value) if value is not None else 0  # NULL: no id handed out yet

    async def set_identity_high_water(self, table: str, column: str, value: int) -> None:
        # explicit ids do not move an identity's sequence: set it past them and past `value`
        highest = f"(SELECT COALESCE(MAX({quote_ident(column)}), 0) FROM {quote_ident(table)})"
        with _mapped(self):
            await self.raw.execute(
                f"SELECT setval(pg_get_serial_sequence($1, $2), GREATEST($3::bigint, {highest}, 1), "
                f"GREATEST($3::bigint, {highest}) > 0)",
                table,
                column,
                value,
            )

    async def run_query(self, namespace: str, name: str, params: dict[str, Any], kind: str) -> Any:
        """A named query (called by the generated accessors)."""
        fn = self.queries.get(namespace, name)
        with _mapped(self):
            if kind == "all":
                return [tuple(r) async for r in fn(self.raw, **params)]
            if kind == "many":
                await fn(self.raw, params["rows"])
                return None
            result = await fn(self.raw, **params)
        operation = fn.operation.name
        if operation == "INSERT_UPDATE_DELETE":  # '!': asyncpg gives the command status
            return _rowcount(str(result))
        if operation == "SELECT_ONE" and result is not None:  # '^': a row, read by position
            return tuple(result)
        return result

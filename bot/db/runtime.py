"""What the generated bot/db/queries.py builds on: loading, the stale guard, timing."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import aiosql
from aiosql.types import SQLOperationType

from bot.db.connections import EngineConnection
from bot.db.errors import StaleQueriesError
from bot.db.metrics import METRICS
from bot.db.sqlite.adapter import OneHopAdapter
from bot.db.sqlite.connection import SqliteConnection

#: (adapter method, the query's SQL, metrics name)
_Plan = tuple[Callable[[SqliteConnection, str, str, Any], Awaitable[Any]], str, str]

#: In tests (BOT_DB_STRICT_ROWS=1) every generated row checks its non-null fields, so a
#: wrong nullability inference fails loudly instead of lying to mypy.
STRICT_ROWS = os.environ.get("BOT_DB_STRICT_ROWS") == "1"


def sql_sha256(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def check_not_null(row: object, fields: Sequence[str]) -> None:
    for field in fields:
        if getattr(row, field) is None:
            raise TypeError(f"{type(row).__name__}.{field} is None although the generator inferred NOT NULL")


def load_namespace(sql_dir: Path, namespace: str, expected: Mapping[str, str]) -> Any:
    """Load one folder of queries with aiosql and refuse if it differs from generation time."""
    folder = sql_dir / namespace
    try:
        # the SQLite engine's one-hop adapter (its methods return what the accessors need, so
        # they are narrower than aiosql's protocol: hence the cast)
        q = aiosql.from_path(folder, cast(Any, OneHopAdapter))
    except Exception as e:
        raise StaleQueriesError(f"cannot load the queries in {folder}: {e}") from e
    found = {}
    for name in q.available_queries:
        if name.endswith("_cursor") and name[: -len("_cursor")] in q.available_queries:
            continue
        found[name] = sql_sha256(getattr(q, name).sql)
    if found != dict(expected):
        changed = sorted(set(found) ^ set(expected) | {n for n in found if expected.get(n) != found[n]})
        raise StaleQueriesError(
            f"bot/db/queries.py is stale: the queries in {folder} changed ({', '.join(changed)}). "
            "Run `deadlock-bot sql generate`."
        )
    return q


class QueryNamespace:
    """Base of each generated namespace. Kept flat, this is every query's hot path: the
    accessor awaits the one coroutine the adapter method of its operation hands back, which
    runs the query's SQL in one hop through aiosqlite and records its time into the metrics."""

    __slots__ = ("_plans", "_q")
    NAMESPACE = ""

    def __init__(self, q: Any) -> None:
        self._q = q
        self._plans: dict[str, _Plan] = {}

    def _plan(self, name: str) -> _Plan:
        plan = self._plans.get(name)
        if plan is None:
            fn = getattr(self._q, name)
            adapter: OneHopAdapter = self._q.driver_adapter
            run = {
                SQLOperationType.SELECT: adapter.fetch_rows,
                SQLOperationType.SELECT_ONE: adapter.select_one,
                SQLOperationType.SELECT_VALUE: adapter.select_value,
                SQLOperationType.INSERT_RETURNING: adapter.insert_returning,
                SQLOperationType.INSERT_UPDATE_DELETE: adapter.insert_update_delete,
                SQLOperationType.INSERT_UPDATE_DELETE_MANY: adapter.insert_update_delete_many,
            }[fn.operation]
            plan = self._plans[name] = (run, fn.sql, f"{self.NAMESPACE}.{name}")
        return plan

    # plain functions handing back the one coroutine that runs the query: no extra layer
    def _call(self, name: str, conn: EngineConnection, params: dict[str, Any]) -> Awaitable[Any]:
        if type(conn) is not SqliteConnection:
            return self._on_other_engine(name, conn, params, "call")
        run, sql, metric = self._plan(name)
        return run(conn, metric, sql, params)

    def _all(self, name: str, conn: EngineConnection, params: dict[str, Any]) -> Awaitable[list[Any]]:
        if type(conn) is not SqliteConnection:
            return self._on_other_engine(name, conn, params, "all")
        run, sql, metric = self._plan(name)
        return run(conn, metric, sql, params)

    def _many(self, name: str, conn: EngineConnection, rows: Iterable[Mapping[str, Any]]) -> Awaitable[None]:
        batch = list(rows)
        if type(conn) is not SqliteConnection:
            return self._on_other_engine(name, conn, {"rows": batch}, "many")
        run, sql, metric = self._plan(name)
        return run(conn, metric, sql, batch)

    async def _on_other_engine(self, name: str, conn: EngineConnection, params: dict[str, Any], kind: str) -> Any:
        """Queries on another engine's connection (PostgreSQL): that connection runs them."""
        runner = getattr(conn, "run_query", None)
        if runner is None:
            raise TypeError(f"{type(conn).__name__} cannot run named queries")
        start = time.perf_counter()
        failed = True
        try:
            result = await runner(self.NAMESPACE, name, params, kind)
            failed = False
            return result
        finally:
            METRICS.record(f"{self.NAMESPACE}.{name}", time.perf_counter() - start, failed=failed)

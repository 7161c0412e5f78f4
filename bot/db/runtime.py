"""What the generated bot/db/queries.py builds on: loading, the stale guard, timing."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosql

from bot.db.connections import EngineConnection
from bot.db.errors import StaleQueriesError
from bot.db.metrics import METRICS
from bot.db.sqlite.driver import Connection

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
        q = aiosql.from_path(folder, "sqlite3")  # sync functions, run whole inside the driver's thread
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
    """Base of each generated namespace: runs aiosql's (sync) function as one job in the
    connection's thread. Kept flat, this is every query's hot path: `_call`/`_all`/`_many`
    are plain functions handing back the driver's future (no coroutine of their own), and
    the driver times the query in its thread and records it when it delivers the result."""

    __slots__ = ("_fns", "_q")
    NAMESPACE = ""

    def __init__(self, q: Any) -> None:
        self._q = q
        self._fns: dict[str, tuple[Any, str]] = {}  # query -> (aiosql function, metrics name)

    def _fn(self, name: str) -> tuple[Any, str]:
        found = self._fns.get(name)
        if found is None:
            found = self._fns[name] = (getattr(self._q, name), f"{self.NAMESPACE}.{name}")
        return found

    def _call(self, name: str, conn: EngineConnection, params: dict[str, Any]) -> Awaitable[Any]:
        if not isinstance(conn, Connection):
            return self._on_other_engine(name, conn, params, "call")
        fn, metric = self._fn(name)
        return conn.submit(lambda c: fn(c, **params), metric)

    def _all(self, name: str, conn: EngineConnection, params: dict[str, Any]) -> Awaitable[list[Any]]:
        if not isinstance(conn, Connection):
            return self._on_other_engine(name, conn, params, "all")
        fn, metric = self._fn(name)
        return conn.submit(lambda c: list(fn(c, **params)), metric)

    def _many(self, name: str, conn: EngineConnection, rows: Iterable[Mapping[str, Any]]) -> Awaitable[None]:
        batch = list(rows)
        if not isinstance(conn, Connection):
            return self._on_other_engine(name, conn, {"rows": batch}, "many")
        fn, metric = self._fn(name)
        return conn.submit(lambda c: fn(c, batch), metric)

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

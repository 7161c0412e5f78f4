"""A test's own SQL on either engine: `{}` marks each parameter and becomes the engine's
placeholder (`?` on SQLite, `$1` on PostgreSQL). For checking and preparing what no query of
the bot reads or writes (sql/ holds only what the bot uses)."""

from __future__ import annotations

from typing import Any

from bot.db.connections import EngineConnection


def _text(conn: EngineConnection, sql: str, n: int) -> str:
    return sql.format(*(conn.placeholder(i) for i in range(1, n + 1)))


async def fetch_all(conn: EngineConnection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    async with conn.execute(_text(conn, sql, len(args)), args) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def fetch_one(conn: EngineConnection, sql: str, *args: Any) -> tuple[Any, ...] | None:
    rows = await fetch_all(conn, sql, *args)
    return rows[0] if rows else None


async def execute(conn: EngineConnection, sql: str, *args: Any) -> int:
    """A write; returns the rowcount."""
    async with conn.execute(_text(conn, sql, len(args)), args) as cur:
        return int(cur.rowcount)

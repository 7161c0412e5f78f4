"""Rows that other programs write into the shared file: the Steam cogs (steam_links) and the Node
presence service (live_player_state). The bot only reads these tables, so sql/ has no query
that writes them; tests write them here, on either engine."""

from __future__ import annotations

from typing import Any

from bot.db.connections import EngineConnection
from tests.raw_sql import execute


async def upsert_row(conn: EngineConnection, table: str, key: tuple[str, ...], **values: Any) -> None:
    cols = list(values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in key)
    await execute(
        conn,
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('{}' for _ in cols)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        *values.values(),
    )


async def upsert_steam_link(conn: EngineConnection, **values: Any) -> None:
    """A Steam account link as the Steam cogs write it."""
    values.setdefault("created_at", values.get("updated_at"))
    await upsert_row(conn, "steam_links", ("user_id", "steam_id"), **values)


async def upsert_presence(conn: EngineConnection, **values: Any) -> None:
    """Live presence of a Steam account as the Node presence service writes it."""
    await upsert_row(conn, "live_player_state", ("steam_id",), **values)

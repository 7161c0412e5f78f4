"""The voice-status pass and the privacy queries cost O(active members), not O(everyone who
ever linked Steam): with 100k steam_links rows no plan scans steam_links, with or without
the planner's statistics (PRAGMA optimize gathers them at open and close)."""

from __future__ import annotations

import pytest

from bot.db import SqliteDatabase
from bot.db.queries import CoreQueries, VoiceStatusQueries
from bot.db.runtime import load_namespace
from bot.db.sqlite.connection import as_sqlite
from bot.resources import SQL_DIR

LINKS = 100_000
MEMBERS = 50

PLANS = [
    ("voice_status", VoiceStatusQueries.SQL_SHA256, ("refresh_watch", "prune_watch", "list_presence")),
    ("core", CoreQueries.SQL_SHA256, ("forget_presence", "forget_watch_entries")),
]
#: tables (by their alias in the queries) that hold only the active members: scanning them is the point
ACTIVE_ONLY = {"m", "deadlock_voice_watch"}


def _steam_id(user_id: int) -> str:
    return f"7656{user_id:013d}"


async def _fill(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO steam_links (user_id, steam_id) VALUES (?, ?)",
            [(u, _steam_id(u)) for u in range(1, LINKS + 1)],
        )
        await conn.executemany(
            "INSERT INTO live_player_state (steam_id) VALUES (?)", [(_steam_id(u),) for u in range(1, LINKS + 1, 3)]
        )
        members = [(u * 997 % LINKS + 1, u % 5) for u in range(MEMBERS)]
        await conn.executemany(
            "INSERT INTO voice_status_members (user_id, guild_id, channel_id, seen_at) VALUES (?, 1, ?, 1)", members
        )
        await conn.executemany(
            "INSERT INTO deadlock_voice_watch (steam_id, guild_id, channel_id, updated_at) VALUES (?, 1, 1, 1)",
            [(_steam_id(u),) for u in {u for u, _ in members} | set(range(1, 200))],
        )


async def _scans(db: SqliteDatabase) -> dict[str, list[str]]:
    found = {}
    async with db.write() as conn:
        for namespace, hashes, names in PLANS:
            q = load_namespace(SQL_DIR, namespace, hashes)
            for name in names:
                rows = await as_sqlite(conn).fetch_all(
                    "EXPLAIN QUERY PLAN " + getattr(q, name).sql, {"updated_at": 1, "user_id": 7}
                )
                plan = [str(r[3]) for r in rows]
                found[f"{namespace}.{name}"] = [
                    line for line in plan if line.startswith("SCAN ") and line.split()[1] not in ACTIVE_ONLY
                ]
    return found


@pytest.mark.parametrize("statistics", [False, True], ids=["no statistics", "analyzed"])
async def test_no_plan_scans_steam_links_at_100k_rows(db: SqliteDatabase, statistics: bool) -> None:
    await _fill(db)
    if statistics:
        async with db.write() as conn:
            await conn.execute("ANALYZE")
    scans = await _scans(db)
    assert scans == {name: [] for name in scans}
    assert len(scans) == 5

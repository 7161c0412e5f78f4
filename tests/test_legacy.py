"""Upgrading databases of the old bot: every row carried over, other programs' tables untouched."""

from __future__ import annotations

import calendar
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.db import MigrationError, SqliteDatabase
from bot.db.legacy import OWN_TABLES
from bot.db.sqlite.maintenance import check_database
from bot.db.sqlite.migrations import UpgradeReport, latest_version, upgrade
from tests.legacy_shapes import DDL_31743C2, DDL_OLD, ROWS_31743C2, ROWS_OLD, SHAPES, SNOW, SNOW2, old_bot_session

Dump = dict[str, dict[str, Any]]


def build(path: Path, ddl: str, rows: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # as the old bot and the Node service ran it
    conn.executescript(ddl + rows)
    conn.close()


def dump(path: Path) -> Dump:
    conn = sqlite3.connect(path)
    out: Dump = {}
    tables = "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    for name, sql in conn.execute(tables):
        cols = [r[1] for r in conn.execute("SELECT * FROM pragma_table_xinfo(?)", (name,))]
        info = [tuple(r[1:]) for r in conn.execute("SELECT * FROM pragma_table_xinfo(?)", (name,))]
        rows = [dict(zip(cols, r, strict=True)) for r in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid')]
        indexes = sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='index' AND tbl_name=?", (name,))
        )
        out[name] = {"sql": sql, "info": info, "rows": rows, "indexes": indexes}
    conn.close()
    return out


def project(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    return [{c: r[c] for c in columns} for r in rows]


def unix(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


async def run_upgrade(path: Path, **kw: Any) -> UpgradeReport:
    async with SqliteDatabase(path, max_schema_version=latest_version(), **kw) as db:
        return await upgrade(db)


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_legacy_database_is_adopted_with_nothing_lost(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(path, *SHAPES[shape])
    before = dump(path)

    report = await run_upgrade(path)
    assert report.from_version == 0 and report.to_version == latest_version()
    assert report.adoption is not None and "adopted a database of the old bot" in report.describe()
    assert report.backup is not None and report.backup.exists()
    after = dump(path)

    for table, old in before.items():
        new = after[table]
        if table in ("coaching_sessions",) or (table == "tempvoice_interface" and shape == "old"):
            continue  # rebuilt from a legacy key shape: checked below
        old_cols = [i[0] for i in old["info"]]
        # every column that existed keeps its name, type, NOT NULL, default and key position
        assert [i for i in new["info"] if i[0] in old_cols] == old["info"], table
        # and every row keeps every value (19-digit snowflakes, NULLs, unicode, unix seconds)
        assert project(new["rows"], old_cols) == old["rows"], table
        if table not in OWN_TABLES:
            assert set(old["indexes"]) <= set(new["indexes"]), table
        if table not in {
            *OWN_TABLES,
            "kv_store",
            "steam_links",
            "live_player_state",
            "deadlock_voice_watch",
            "user_ranks",
            "voice_stats",
        }:
            assert new == old, f"{table} belongs to another program and must stay exactly as it was"

    async with SqliteDatabase(path) as db:
        check = await check_database(db, latest_version())
    assert check.ok, check.describe()

    again = await run_upgrade(path)
    assert again.applied == () and again.backup is None
    assert dump(path) == after  # a second run does nothing

    assert dump(report.backup) == before  # the backup holds the old file's data


def build_with_old_bot_sessions(path: Path) -> None:
    """A 31743c2 file whose coaching rows the old wizard wrote: sessions closed (finish or timeout)
    at every stage, and open ones."""
    build(path, DDL_31743C2, "")
    conn = sqlite3.connect(path)
    for i, stage in enumerate(("rank", "subrank", "hero", "comment", "finish")):
        old_bot_session(conn, 10 + i, stage, close=True)
        old_bot_session(conn, 20 + i, stage, close=False)
    old_bot_session(conn, 30, "hero", close=True)
    old_bot_session(conn, 30, "subrank", close=True)  # a new session overwrote the old one's row
    conn.close()


def legacy_timestamp(unix_seconds: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix_seconds))


@pytest.mark.parametrize("shape", ["31743c2 sessions", "old"])
async def test_every_original_value_survives_a_rebuild(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "deadlock.sqlite3"
    if shape == "old":
        build(path, DDL_OLD, ROWS_OLD)
    else:
        build_with_old_bot_sessions(path)
    before = dump(path)
    report = await run_upgrade(path)
    assert report.adoption is not None
    after = dump(path)
    rebuilt = [t for t in before if f"rebuilt {t} in the current shape" in report.describe()]
    assert rebuilt == (["tempvoice_interface"] if shape == "old" else ["coaching_sessions"])
    for table in rebuilt:
        old_info = {i[0]: i for i in before[table]["info"]}
        new_info = {i[0]: i for i in after[table]["info"]}
        key = [name for name, info in old_info.items() if info[4]]  # the legacy primary key
        new_rows = {tuple(r[k] for k in key): r for r in after[table]["rows"]}
        assert len(new_rows) == len(before[table]["rows"]), table
        for old in before[table]["rows"]:
            new = new_rows[tuple(old[k] for k in key)]
            for column, value in old.items():
                if new_info[column][1] == old_info[column][1]:
                    assert new[column] == value, (table, column, old)
                else:  # re-encoded: the old bot's UTC text timestamp -> unix seconds, and back
                    assert (old_info[column][1], new_info[column][1]) == ("TIMESTAMP", "INTEGER")
                    assert isinstance(new[column], int) and legacy_timestamp(new[column]) == value, (column, old)
    if shape != "old":
        sessions = {r["user_id"]: r for r in after["coaching_sessions"]["rows"]}
        closed = [sessions[u] for u in (10, 11, 12, 13, 14, 30)]
        assert [s["step"] for s in closed] == ["rank", "subrank", "hero", "comment", "finish", "subrank"]
        assert all(s["is_active"] == 0 and s["closed_at"] == s["updated_at"] for s in closed)
        assert all(sessions[u]["is_active"] == 1 and sessions[u]["closed_at"] is None for u in range(20, 25))


async def test_31743c2_details(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(path, DDL_31743C2, ROWS_31743C2)
    await run_upgrade(path)
    after = dump(path)

    sessions = {r["user_id"]: r for r in after["coaching_sessions"]["rows"]}
    active = sessions[SNOW]
    assert (active["step"], active["is_active"], active["match_id"], active["subrank"], active["comment"]) == (
        "finish",
        1,
        "match 12345 🎯",
        "✶",
        "@everyone gg",
    )
    assert active["created_at"] == unix("2025-03-01 12:00:00") and active["updated_at"] == unix("2025-03-01 12:05:00")
    assert active["guild_id"] == 0 and active["thread_id"] == 500
    closed = sessions[6]
    assert (closed["step"], closed["is_active"], closed["closed_at"]) == ("rank", 0, unix("2025-03-01 12:00:00"))
    empty = sessions[7]
    assert (empty["step"], empty["is_active"], empty["created_at"]) == ("rank", 1, 0)

    lanes = {r["channel_id"]: r for r in after["tempvoice_lanes"]["rows"]}
    assert lanes[200]["lane_number"] == 1  # two lanes named "Lane 1": the older channel keeps the number
    assert lanes[SNOW2]["lane_number"] is None
    assert lanes[202]["lane_number"] == 12 and lanes[201]["lane_number"] is None and lanes[203]["lane_number"] is None
    assert all(r["min_rank"] == 0 for r in lanes.values())

    panels = {r["message_id"]: r for r in after["tempvoice_interface"]["rows"]}
    assert panels[SNOW2]["lane_id"] is None and panels[303]["lane_id"] == 202  # global panels keep their messages
    anchors = after["voice_channel_anchors"]["rows"]
    assert [(a["allowed_min"], a["allowed_max"], a["anchor_subrank"]) for a in anchors] == [(10, 11, 3)]
    assert after["deadlock_voice_watch"]["rows"][0]["updated_at"] == 1764000000  # unix seconds stay


async def test_old_interface_shape_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(path, *SHAPES["old"])
    await run_upgrade(path)
    after = dump(path)
    (panel,) = after["tempvoice_interface"]["rows"]
    assert (panel["guild_id"], panel["channel_id"], panel["message_id"], panel["lane_id"]) == (SNOW, 42, SNOW2, None)
    assert panel["created_at"] == panel["updated_at"] == "2025-05-05 05:05:05"
    assert after["live_player_state"]["rows"][0]["deadlock_minutes"] is None  # added columns start empty
    assert after["voice_stats"]["rows"][0]["total_points"] == 0


async def test_shared_table_of_unexpected_shape_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(
        path,
        "CREATE TABLE steam_links (user_id INTEGER NOT NULL, steam_id INTEGER NOT NULL);"
        "CREATE TABLE tempvoice_bans (owner_id INTEGER, banned_id INTEGER);",
        "INSERT INTO steam_links VALUES (1, 2); INSERT INTO tempvoice_bans VALUES (1, 2);",
    )
    before = dump(path)
    with pytest.raises(
        MigrationError, match=r"steam_links is shared with other programs .*\(columns user_id, steam_id\)"
    ):
        await run_upgrade(path)
    assert dump(path) == before
    backups = list(tmp_path.glob("deadlock.backup-*.sqlite3"))
    assert len(backups) == 1 and dump(backups[0]) == before


async def test_failure_half_way_rolls_back_everything(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    # rank_name was nullable in this file and holds a NULL the current schema forbids
    build(
        path,
        "CREATE TABLE voice_channel_anchors (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
        "user_id INTEGER NOT NULL, rank_name TEXT, rank_value INTEGER NOT NULL, allowed_min INTEGER NOT NULL, "
        "allowed_max INTEGER NOT NULL);",
        "INSERT INTO voice_channel_anchors VALUES (1, 2, 3, NULL, 4, 3, 5);",
    )
    before = dump(path)
    with pytest.raises(MigrationError, match="failed at 'rebuild voice_channel_anchors: copy the rows'.*NOT NULL"):
        await run_upgrade(path)
    assert dump(path) == before  # tables created before the failing step are gone again
    async with SqliteDatabase(path) as db:
        assert await db.user_version() == 0


def _hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO kv_store VALUES ('node', 'busy', '1')")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


async def test_upgrade_waits_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(path, *SHAPES["old"])
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.5, locked))
    holder.start()
    locked.wait()
    report = await run_upgrade(path, busy_timeout_ms=10_000)
    holder.join()
    assert report.to_version == latest_version()
    assert {"ns": "node", "k": "busy", "v": "1"} in dump(path)["kv_store"]["rows"]


async def test_upgrade_gives_up_clearly_when_the_file_stays_locked(tmp_path: Path) -> None:
    path = tmp_path / "deadlock.sqlite3"
    build(path, *SHAPES["old"])
    before = dump(path)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, locked))
    holder.start()
    locked.wait()
    try:
        with pytest.raises(MigrationError, match="database is locked.*another program.*not changed"):
            await run_upgrade(path, busy_timeout_ms=200)
    finally:
        holder.join()
    after = dump(path)
    after["kv_store"]["rows"].remove({"ns": "node", "k": "busy", "v": "1"})  # the other program's own write
    assert after == before

"""DDL and rows of the old bot's database in the shapes found in the wild (original_spec.md §3)."""

from __future__ import annotations

import sqlite3

SNOW = 1_234_567_890_123_456_789  # 19-digit snowflakes must survive exactly
SNOW2 = 9_223_372_036_854_775_807  # the largest SQLite integer

# 31743c2: what service/db.py and the cogs create (current tempvoice_interface shape).
DDL_31743C2 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE kv_store (ns TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (ns, k));
CREATE TABLE steam_links (
    user_id INTEGER NOT NULL, steam_id TEXT NOT NULL, name TEXT, verified INTEGER DEFAULT 0,
    primary_account INTEGER DEFAULT 0, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (user_id, steam_id));
CREATE INDEX idx_steam_links_user ON steam_links (user_id);
CREATE INDEX idx_steam_links_steam ON steam_links (steam_id);
CREATE TABLE live_player_state (
    steam_id TEXT PRIMARY KEY, last_gameid TEXT, last_server_id TEXT, last_seen_ts INTEGER,
    in_deadlock_now INTEGER DEFAULT 0, in_match_now_strict INTEGER DEFAULT 0, deadlock_stage TEXT,
    deadlock_minutes INTEGER, deadlock_localized TEXT, deadlock_hero TEXT, deadlock_party_hint TEXT,
    deadlock_updated_at INTEGER);
CREATE TABLE deadlock_voice_watch (steam_id TEXT PRIMARY KEY, guild_id INTEGER, channel_id INTEGER,
    updated_at INTEGER NOT NULL);
CREATE TABLE voice_stats (user_id INTEGER PRIMARY KEY, total_seconds INTEGER NOT NULL DEFAULT 0,
    total_points INTEGER NOT NULL DEFAULT 0, last_update DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX idx_voice_stats_leaderboard ON voice_stats (total_points DESC, total_seconds DESC);
CREATE INDEX idx_voice_stats_user_lookup ON voice_stats (user_id, total_seconds, total_points);
CREATE TABLE voice_session_log (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, display_name TEXT,
    guild_id INTEGER, channel_id INTEGER, channel_name TEXT, started_at DATETIME NOT NULL, ended_at DATETIME NOT NULL,
    duration_seconds INTEGER NOT NULL DEFAULT 0, points INTEGER NOT NULL DEFAULT 0, peak_users INTEGER,
    user_counts_json TEXT);
CREATE TABLE steam_tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT,
    status TEXT NOT NULL DEFAULT 'PENDING', result TEXT, error TEXT,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')), updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
    started_at INTEGER, finished_at INTEGER);
CREATE INDEX idx_steam_tasks_status ON steam_tasks (status, id);
CREATE TABLE user_data (user_id INTEGER PRIMARY KEY, rank TEXT, opted_in INTEGER);
CREATE TABLE tempvoice_lanes (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, owner_id INTEGER NOT NULL,
    base_name TEXT NOT NULL, category_id INTEGER NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX idx_tempvoice_lanes_guild ON tempvoice_lanes (guild_id, channel_id);
CREATE TABLE tempvoice_bans (owner_id INTEGER NOT NULL, banned_id INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (owner_id, banned_id));
CREATE TABLE tempvoice_owner_prefs (owner_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL CHECK (region IN ('DE', 'EU')), updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE tempvoice_interface (guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL,
    category_id INTEGER, lane_id INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (guild_id, message_id), UNIQUE (lane_id));
CREATE TABLE voice_channel_settings (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1, created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE voice_channel_anchors (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    rank_name TEXT NOT NULL, rank_value INTEGER NOT NULL, allowed_min INTEGER NOT NULL, allowed_max INTEGER NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP, updated_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE coaching_sessions (user_id INTEGER PRIMARY KEY, thread_id INTEGER, match_id TEXT, rank TEXT, subrank TEXT,
    hero TEXT, comment TEXT, step TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active INTEGER DEFAULT 1);
CREATE INDEX idx_coaching_thread ON coaching_sessions (thread_id);
"""

ROWS_31743C2 = f"""
INSERT INTO schema_version VALUES (1);
INSERT INTO kv_store VALUES ('tempvoice', 'x', 'ü∆'), ('twitch', 'cursor', '');
INSERT INTO steam_links VALUES ({SNOW}, '76561198000000001', 'Ünïcødé 🎮', 1, 1, '2025-01-02 03:04:05', NULL),
                               ({SNOW}, '76561198000000002', NULL, 0, 0, NULL, NULL),
                               ({SNOW2}, '76561198000000003', 'top', NULL, NULL, '2025-06-01 00:00:00', '2025-06-01 00:00:00');
INSERT INTO live_player_state VALUES ('76561198000000001', '1422450', 'srv', 1764000000, 1, 1, 'match', 23,
                                      'Deadlock: Im Match (23 Min.)', 'Haze', 'party:4', 1764000000),
                                     ('76561198000000003', NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO deadlock_voice_watch VALUES ('76561198000000001', {SNOW}, {SNOW2}, 1764000000);
INSERT INTO voice_stats VALUES ({SNOW}, 3600, 42, '2025-01-01 00:00:00'), (5, 0, 0, NULL);
INSERT INTO voice_session_log (user_id, display_name, guild_id, started_at, ended_at)
    VALUES ({SNOW}, 'Läne', 1, '2025-01-01 00:00:00', '2025-01-01 01:00:00');
INSERT INTO steam_tasks (type, payload, created_at, updated_at) VALUES ('AUTH', '{{"a": 1}}', 1, 2);
INSERT INTO user_data VALUES ({SNOW}, 'Eternus', 1);
INSERT INTO tempvoice_lanes VALUES ({SNOW2}, {SNOW}, {SNOW}, 'Lane 1', {SNOW}, '2025-01-01 10:00:00'),
                                   (200, {SNOW}, 7, 'Lane 1', {SNOW}, NULL),
                                   (201, {SNOW}, 8, 'Duo Call', 0, '2025-01-01 10:00:00'),
                                   (202, {SNOW}, 9, 'Lane 12', {SNOW}, '2025-01-01 10:00:00'),
                                   (203, {SNOW}, 9, 'Läne ☕ 3', {SNOW}, NULL);
INSERT INTO tempvoice_bans VALUES ({SNOW}, {SNOW2}, '2025-01-01 00:00:00'), (7, {SNOW}, NULL);
INSERT INTO tempvoice_owner_prefs VALUES ({SNOW}, 'DE', '2025-01-01 00:00:00'), (7, 'EU', NULL);
INSERT INTO tempvoice_interface VALUES ({SNOW}, 300, {SNOW2}, NULL, NULL, '2025-01-01 00:00:00', '2025-01-02 00:00:00'),
                                       ({SNOW}, 301, 302, NULL, NULL, NULL, NULL),
                                       ({SNOW}, 202, 303, {SNOW}, 202, NULL, NULL);
INSERT INTO voice_channel_settings VALUES (400, {SNOW}, 0, '2025-01-01 00:00:00', NULL), (401, {SNOW}, 1, NULL, NULL);
INSERT INTO voice_channel_anchors VALUES (400, {SNOW}, {SNOW}, 'Eternus', 11, 10, 11, '2025-01-01 00:00:00', NULL);
INSERT INTO coaching_sessions VALUES ({SNOW}, 500, 'match 12345 🎯', 'eternus', '✶', 'lady_geist', '@everyone gg',
                                      'finish', '2025-03-01 12:00:00', '2025-03-01 12:05:00', 1),
                                     (6, 501, NULL, NULL, NULL, NULL, NULL, 'rank', '2025-03-01 12:00:00',
                                      '2025-03-01 12:00:00', 0),
                                     (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

# Before 2025-09 and older: interface keyed by guild, presence without the deadlock_* columns,
# voice_stats without total_points, no coaching or rank tables at all.
DDL_OLD = """
CREATE TABLE kv_store (ns TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (ns, k));
CREATE TABLE steam_links (
    user_id INTEGER NOT NULL, steam_id TEXT NOT NULL, name TEXT, verified INTEGER DEFAULT 0,
    primary_account INTEGER DEFAULT 0, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (user_id, steam_id));
CREATE TABLE live_player_state (steam_id TEXT PRIMARY KEY, last_gameid TEXT, last_server_id TEXT, last_seen_ts INTEGER,
    in_deadlock_now INTEGER DEFAULT 0, in_match_now_strict INTEGER DEFAULT 0);
CREATE TABLE deadlock_voice_watch (steam_id TEXT PRIMARY KEY, guild_id INTEGER, channel_id INTEGER,
    updated_at INTEGER NOT NULL);
CREATE TABLE voice_stats (user_id INTEGER PRIMARY KEY, total_seconds INTEGER NOT NULL DEFAULT 0,
    last_update DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE tempvoice_lanes (channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, owner_id INTEGER NOT NULL,
    base_name TEXT NOT NULL, category_id INTEGER NOT NULL, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE tempvoice_bans (owner_id INTEGER NOT NULL, banned_id INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (owner_id, banned_id));
CREATE TABLE tempvoice_owner_prefs (owner_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL CHECK (region IN ('DE', 'EU')), updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE tempvoice_interface (guild_id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, message_id INTEGER NOT NULL,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE steam_rich_presence (steam_id TEXT PRIMARY KEY, app_id INTEGER, status TEXT, raw_json TEXT);
"""

ROWS_OLD = f"""
INSERT INTO kv_store VALUES ('a', 'b', 'c');
INSERT INTO steam_links (user_id, steam_id, name) VALUES ({SNOW}, '76561198000000001', 'Ä');
INSERT INTO live_player_state VALUES ('76561198000000001', '1422450', NULL, 1700000000, 1, 0);
INSERT INTO deadlock_voice_watch VALUES ('76561198000000001', {SNOW}, 5, 1700000000);
INSERT INTO voice_stats VALUES ({SNOW}, 120, NULL);
INSERT INTO tempvoice_lanes VALUES (100, {SNOW}, {SNOW2}, 'Lane 2', 0, NULL);
INSERT INTO tempvoice_bans VALUES ({SNOW2}, {SNOW}, NULL);
INSERT INTO tempvoice_owner_prefs VALUES ({SNOW2}, 'DE', NULL);
INSERT INTO tempvoice_interface VALUES ({SNOW}, 42, {SNOW2}, '2025-05-05 05:05:05');
INSERT INTO steam_rich_presence VALUES ('76561198000000001', 1422450, 'ok', '{{"x": "ü"}}');
"""

# Only the Node presence service ran against the file so far.
DDL_NODE_ONLY = """
CREATE TABLE live_player_state (steam_id TEXT PRIMARY KEY, last_gameid TEXT, last_server_id TEXT, last_seen_ts INTEGER,
    in_deadlock_now INTEGER DEFAULT 0, in_match_now_strict INTEGER DEFAULT 0, deadlock_stage TEXT,
    deadlock_minutes INTEGER, deadlock_localized TEXT, deadlock_hero TEXT, deadlock_party_hint TEXT,
    deadlock_updated_at INTEGER);
CREATE TABLE deadlock_voice_watch (steam_id TEXT PRIMARY KEY, guild_id INTEGER, channel_id INTEGER,
    updated_at INTEGER NOT NULL);
CREATE TABLE steam_rich_presence (steam_id TEXT PRIMARY KEY, app_id INTEGER, status TEXT, raw_json TEXT);
"""

ROWS_NODE_ONLY = """
INSERT INTO live_player_state (steam_id, in_deadlock_now) VALUES ('76561198000000009', 1);
INSERT INTO deadlock_voice_watch VALUES ('76561198000000009', NULL, NULL, 1700000000);
INSERT INTO steam_rich_presence VALUES ('76561198000000009', 1422450, NULL, NULL);
"""

SHAPES = {
    "31743c2": (DDL_31743C2, ROWS_31743C2),
    "old": (DDL_OLD, ROWS_OLD),
    "node_only": (DDL_NODE_ONLY, ROWS_NODE_ONLY),
}


# -- the old bot's coaching wizard (cogs/dl_coaching.py at 31743c2), as it wrote its table ------

_OLD_STAGES = ("rank", "subrank", "hero", "comment", "finish")
_OLD_ANSWERS = {"rank": ("rank", "eternus"), "subrank": ("subrank", "✶"), "hero": ("hero", "lady_geist"),
                "comment": ("comment", "@everyone gg 🎯")}  # fmt: skip


def old_bot_upsert(conn: sqlite3.Connection, user_id: int, **fields: object) -> None:
    """`_db_upsert`: UPDATE the fields plus updated_at, INSERT when no row changed, commit."""
    sets = ", ".join(f"{k} = ?" for k in fields)
    cur = conn.execute(
        f"UPDATE coaching_sessions SET {sets}, updated_at = CURRENT_TIMESTAMP WHERE user_id = ?",
        (*fields.values(), user_id),
    )
    if cur.rowcount == 0:
        cols = ", ".join(["user_id", *fields])
        conn.execute(
            f"INSERT INTO coaching_sessions ({cols}) VALUES ({', '.join('?' * (len(fields) + 1))})",
            (user_id, *fields.values()),
        )
    conn.commit()


def old_bot_close(conn: sqlite3.Connection, user_id: int) -> None:
    """`_db_close_session` (finish clicked, or the timeout loop): only is_active is cleared."""
    conn.execute("UPDATE coaching_sessions SET is_active = 0 WHERE user_id = ?", (user_id,))
    conn.commit()


def old_bot_session(conn: sqlite3.Connection, user_id: int, reach: str, *, close: bool) -> None:
    """A user's session driven through the old wizard up to the stage `reach`, then closed
    (finish or timeout) or left open."""
    old_bot_upsert(conn, user_id, thread_id=user_id + 1000, match_id=f"m-{user_id}", step="rank", is_active=1)
    for stage in _OLD_STAGES[: _OLD_STAGES.index(reach)]:
        column, value = _OLD_ANSWERS[stage]
        old_bot_upsert(conn, user_id, **{column: value, "step": _OLD_STAGES[_OLD_STAGES.index(stage) + 1]})
    if close:
        old_bot_close(conn, user_id)

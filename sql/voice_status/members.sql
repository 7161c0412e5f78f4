-- One voice-status pass, in one transaction: clear_voice_members (one row per guild whose
-- lease this process holds), add_voice_members, list_presence, refresh_watch, prune_watch.
-- The scratch rows of guilds another process passes stay.

-- name: clear_voice_members*!
-- @scan
-- One batch: per guild whose lease this process holds, its rows, and the rows no process
-- refreshed for a while (a guild nobody passes any more; guild_id 0 names no guild, for a
-- pass that holds none). The table only holds the members in monitored voice right now: a
-- scan is cheap.
DELETE FROM voice_status_members WHERE guild_id = :guild_id OR seen_at < :seen_before;

-- name: add_voice_members*!
-- A member moved to a guild another process passes replaces their old row.
INSERT INTO voice_status_members (user_id, guild_id, channel_id, seen_at)
VALUES (:user_id, :guild_id, :channel_id, :seen_at)
ON CONFLICT (user_id) DO UPDATE SET
    guild_id = excluded.guild_id, channel_id = excluded.channel_id, seen_at = excluded.seen_at;

-- name: list_presence()
-- @row PresenceRow
-- @scan voice_status_members holds only the members in monitored voice right now
-- Every linked Steam account of every member in monitored voice, with its live presence
-- (NULL columns when the presence service has no row for it). CROSS JOIN: SQLite drives
-- from the members, a lookup each, never from all of steam_links.
SELECT m.guild_id, m.channel_id, m.user_id, sl.steam_id,
       lps.in_match_now_strict, lps.in_deadlock_now, lps.deadlock_stage, lps.deadlock_minutes,
       lps.deadlock_localized, lps.deadlock_party_hint, lps.last_server_id,
       lps.last_seen_ts, lps.deadlock_updated_at
FROM voice_status_members AS m
CROSS JOIN steam_links AS sl
LEFT JOIN live_player_state AS lps ON lps.steam_id = sl.steam_id
WHERE sl.user_id = m.user_id
ORDER BY m.channel_id, m.user_id, sl.steam_id;

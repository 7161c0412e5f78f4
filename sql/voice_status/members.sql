-- The scratch rows of one voice-status pass: who is in monitored voice right now, per guild.
-- Only the holder of a guild's lease writes its rows, and only what changed since its last
-- pass (read back on a reader first): a quiet pass writes none of them. The rows of guilds
-- another process passes stay; a guild that nobody passes any more is cleared.

-- name: list_voice_members(guild_id)
-- @row VoiceMember
-- The guild's rows as its last pass left them.
SELECT user_id, channel_id FROM voice_status_members WHERE guild_id = :guild_id ORDER BY user_id;

-- name: list_voice_member_guilds(now)
-- @row VoiceMemberGuild
-- @scan voice_status_members holds only the members in monitored voice right now
-- Every guild with rows, and whether a live lease says a process passes it (the lease is
-- named as in bot.features.voice_status.service.lease_name).
SELECT DISTINCT m.guild_id,
       CASE WHEN EXISTS (
           SELECT 1 FROM leases AS l WHERE l.name = 'voice_status:' || m.guild_id AND l.expires_at > :now
       ) THEN 1 ELSE 0 END AS passed
FROM voice_status_members AS m
ORDER BY m.guild_id;

-- name: remove_voice_members*!
-- Members who left the guild's monitored voice since its last pass.
DELETE FROM voice_status_members WHERE user_id = :user_id AND guild_id = :guild_id;

-- name: clear_guild_voice_members*!
-- A guild nobody passes any more.
DELETE FROM voice_status_members WHERE guild_id = :guild_id;

-- name: add_voice_members*!
-- Members who joined (or moved within) the guild's monitored voice since its last pass. A
-- member who moved to a guild another process passes replaces their old row.
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

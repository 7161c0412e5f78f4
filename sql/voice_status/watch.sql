-- The watch list tells the Node presence service whom to poll. Its contract: same
-- columns as the old bot, updated_at in unix seconds, refreshed every pass.

-- name: refresh_watch(updated_at)!
-- @scan
-- Upsert every Steam account of the members in monitored voice.
INSERT INTO deadlock_voice_watch (steam_id, guild_id, channel_id, updated_at)
SELECT sl.steam_id, MIN(m.guild_id), MIN(m.channel_id), :updated_at
FROM voice_status_members AS m
JOIN steam_links AS sl ON sl.user_id = m.user_id
GROUP BY sl.steam_id
ON CONFLICT (steam_id) DO UPDATE SET
    guild_id = excluded.guild_id, channel_id = excluded.channel_id, updated_at = excluded.updated_at;

-- name: prune_watch()!
-- @scan
-- Drop everyone no longer in monitored voice (everyone, when nobody is).
DELETE FROM deadlock_voice_watch
WHERE steam_id NOT IN (
    SELECT sl.steam_id FROM voice_status_members AS m JOIN steam_links AS sl ON sl.user_id = m.user_id
);

-- name: list_watch()
-- @row WatchEntry
-- @scan
SELECT steam_id, guild_id, channel_id, updated_at FROM deadlock_voice_watch ORDER BY steam_id;

-- The watch list tells the Node presence service whom to poll. Its contract: same
-- columns as the old bot, updated_at in unix seconds, refreshed every pass.

-- name: refresh_watch(updated_at)!
-- @scan voice_status_members holds only the members in monitored voice right now
-- Upsert every Steam account of the members in monitored voice. CROSS JOIN keeps SQLite's
-- planner driving from those members (a lookup per member), never from all of steam_links.
INSERT INTO deadlock_voice_watch (steam_id, guild_id, channel_id, updated_at)
SELECT sl.steam_id, MIN(m.guild_id), MIN(m.channel_id), :updated_at
FROM voice_status_members AS m
CROSS JOIN steam_links AS sl
WHERE sl.user_id = m.user_id
GROUP BY sl.steam_id
ON CONFLICT (steam_id) DO UPDATE SET
    guild_id = excluded.guild_id, channel_id = excluded.channel_id, updated_at = excluded.updated_at;

-- name: prune_watch()!
-- @scan the watch list holds only accounts of members in monitored voice (pruned every pass)
-- Drop everyone no longer in monitored voice (everyone, when nobody is): per watched account
-- one lookup of its links and of their members, whatever the size of steam_links.
DELETE FROM deadlock_voice_watch
WHERE NOT EXISTS (
    SELECT 1
    FROM steam_links AS sl
    CROSS JOIN voice_status_members AS m
    WHERE sl.steam_id = deadlock_voice_watch.steam_id AND m.user_id = sl.user_id
);

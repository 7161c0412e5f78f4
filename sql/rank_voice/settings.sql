-- name: get_channel_enabled(channel_id)$
-- 1 or 0 when set; None means the default (enabled).
SELECT enabled FROM voice_channel_settings WHERE channel_id = :channel_id;

-- name: set_channel_enabled(channel_id, guild_id, enabled, updated_at)!
INSERT INTO voice_channel_settings (channel_id, guild_id, enabled, created_at, updated_at)
VALUES (:channel_id, :guild_id, :enabled, :updated_at, :updated_at)
ON CONFLICT (channel_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at;

-- name: delete_channel_settings(channel_id)!
DELETE FROM voice_channel_settings WHERE channel_id = :channel_id;

-- name: get_panel(guild_id)^
-- @row CoachingPanel
SELECT guild_id, channel_id, message_id FROM coaching_panels WHERE guild_id = :guild_id;

-- name: set_panel(guild_id, channel_id, message_id, updated_at)!
INSERT INTO coaching_panels (guild_id, channel_id, message_id, updated_at)
VALUES (:guild_id, :channel_id, :message_id, :updated_at)
ON CONFLICT (guild_id) DO UPDATE SET
    channel_id = excluded.channel_id, message_id = excluded.message_id, updated_at = excluded.updated_at;

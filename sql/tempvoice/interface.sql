-- name: insert_global_panel(guild_id, channel_id, message_id, updated_at)!
-- A panel posted by !tvpanel (lane_id NULL). Delete the channel's old ones first: one per channel.
INSERT INTO tempvoice_interface (guild_id, channel_id, message_id, category_id, lane_id, created_at, updated_at)
VALUES (:guild_id, :channel_id, :message_id, NULL, NULL, :updated_at, :updated_at);

-- name: list_global_panels_in_channel(channel_id)
-- @row GlobalPanel
SELECT guild_id, channel_id, message_id
FROM tempvoice_interface
WHERE channel_id = :channel_id AND lane_id IS NULL
ORDER BY message_id;

-- name: delete_global_panels_in_channel(channel_id)!
DELETE FROM tempvoice_interface WHERE channel_id = :channel_id AND lane_id IS NULL;

-- name: upsert_lane_panel(guild_id, channel_id, message_id, lane_id, updated_at)!
-- The panel inside a lane's voice chat; one per lane.
INSERT INTO tempvoice_interface (guild_id, channel_id, message_id, category_id, lane_id, created_at, updated_at)
VALUES (:guild_id, :channel_id, :message_id, NULL, :lane_id, :updated_at, :updated_at)
ON CONFLICT (lane_id) DO UPDATE SET
    guild_id = excluded.guild_id,
    channel_id = excluded.channel_id,
    message_id = excluded.message_id,
    updated_at = excluded.updated_at;

-- name: get_lane_panel(lane_id)^
-- @row LanePanel
SELECT guild_id, channel_id, message_id, lane_id FROM tempvoice_interface WHERE lane_id = :lane_id;

-- name: delete_lane_panel(lane_id)!
DELETE FROM tempvoice_interface WHERE lane_id = :lane_id;

-- name: insert_lane(channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank, source_staging_id, created_at)!
-- Record a lane the bot just created. The unique (guild, category, lane_number) index
-- makes two lanes claiming the same "Lane N" fail loudly.
INSERT INTO tempvoice_lanes
    (channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank,
     initial_owner_id, source_staging_id, created_at)
VALUES
    (:channel_id, :guild_id, :owner_id, :base_name, :category_id, :lane_number, :min_rank,
     :owner_id, :source_staging_id, :created_at);

-- name: get_lane(channel_id)^
-- @row Lane
-- created_at is the legacy TIMESTAMP column (NUMERIC affinity on SQLite: numeric-looking text
-- would come back as a number): read as text on both engines.
SELECT channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank,
       CAST(created_at AS TEXT) AS created_at
FROM tempvoice_lanes
WHERE channel_id = :channel_id;

-- name: get_lane_state(channel_id, member_id)
-- @row LaneState
-- What a join or a leave needs in one read: the lane, whether its owner banned :member_id,
-- and its recorded members in join order (one row each; member_user_id NULL when there is
-- none). No row: the channel is not a lane.
SELECT l.channel_id, l.guild_id, l.owner_id, l.base_name, l.category_id, l.lane_number, l.min_rank,
       CAST(l.created_at AS TEXT) AS created_at,
       EXISTS (
           SELECT 1 FROM tempvoice_bans AS b WHERE b.owner_id = l.owner_id AND b.banned_id = :member_id
       ) AS banned,
       m.user_id AS member_user_id
FROM tempvoice_lanes AS l
LEFT JOIN tempvoice_lane_members AS m ON m.channel_id = l.channel_id
WHERE l.channel_id = :channel_id
ORDER BY m.join_seq;

-- name: list_lanes_by_guild(guild_id)
-- @row Lane
SELECT channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank,
       CAST(created_at AS TEXT) AS created_at
FROM tempvoice_lanes
WHERE guild_id = :guild_id
ORDER BY channel_id;

-- name: list_lanes_by_owner(owner_id)
-- @row Lane
SELECT channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank,
       CAST(created_at AS TEXT) AS created_at
FROM tempvoice_lanes
WHERE owner_id = :owner_id
ORDER BY channel_id;

-- name: set_lane_owner(channel_id, owner_id)!
UPDATE tempvoice_lanes SET owner_id = :owner_id WHERE channel_id = :channel_id;

-- name: set_lane_base_name(channel_id, base_name, lane_number)!
UPDATE tempvoice_lanes SET base_name = :base_name, lane_number = :lane_number WHERE channel_id = :channel_id;

-- name: set_lane_min_rank(channel_id, min_rank)!
UPDATE tempvoice_lanes SET min_rank = :min_rank WHERE channel_id = :channel_id;

-- name: delete_lane(channel_id)!
-- Join order rows go with it (ON DELETE CASCADE); the lane panel row is deleted by delete_lane_panel.
DELETE FROM tempvoice_lanes WHERE channel_id = :channel_id;

-- name: get_lane_with_owner_settings(channel_id)
-- @row LaneWithSettings
-- A new lane read again under its lock, with its owner's settings in the same read: a row per
-- ban of the owner (banned_id), or one row with banned_id NULL when they banned nobody; region
-- NULL when the owner never chose one (EU). No row: the lane is gone.
SELECT l.channel_id, l.guild_id, l.owner_id, l.base_name, l.category_id, l.lane_number, l.min_rank,
       CAST(l.created_at AS TEXT) AS created_at, p.region, b.banned_id
FROM tempvoice_lanes AS l
LEFT JOIN tempvoice_owner_prefs AS p ON p.owner_id = l.owner_id
LEFT JOIN tempvoice_bans AS b ON b.owner_id = l.owner_id
WHERE l.channel_id = :channel_id
ORDER BY b.banned_id;

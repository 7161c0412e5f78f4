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

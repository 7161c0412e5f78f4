-- name: upsert_anchor(channel_id, guild_id, user_id, rank_name, rank_value, anchor_subrank, allowed_min, allowed_max, score_min, score_max, updated_at)!
-- The first joiner of an empty channel anchors its rank window.
INSERT INTO voice_channel_anchors
    (channel_id, guild_id, user_id, rank_name, rank_value, anchor_subrank, allowed_min, allowed_max,
     score_min, score_max, created_at, updated_at)
VALUES
    (:channel_id, :guild_id, :user_id, :rank_name, :rank_value, :anchor_subrank, :allowed_min, :allowed_max,
     :score_min, :score_max, :updated_at, :updated_at)
ON CONFLICT (channel_id) DO UPDATE SET
    guild_id = excluded.guild_id,
    user_id = excluded.user_id,
    rank_name = excluded.rank_name,
    rank_value = excluded.rank_value,
    anchor_subrank = excluded.anchor_subrank,
    allowed_min = excluded.allowed_min,
    allowed_max = excluded.allowed_max,
    score_min = excluded.score_min,
    score_max = excluded.score_max,
    updated_at = excluded.updated_at;

-- name: get_anchor(channel_id)^
-- @row Anchor
SELECT channel_id, guild_id, user_id, rank_name, rank_value, anchor_subrank, allowed_min, allowed_max, score_min, score_max
FROM voice_channel_anchors
WHERE channel_id = :channel_id;

-- name: list_anchors(guild_id)
-- @row Anchor
SELECT channel_id, guild_id, user_id, rank_name, rank_value, anchor_subrank, allowed_min, allowed_max, score_min, score_max
FROM voice_channel_anchors
WHERE guild_id = :guild_id
ORDER BY channel_id;

-- name: delete_anchor(channel_id)!
DELETE FROM voice_channel_anchors WHERE channel_id = :channel_id;

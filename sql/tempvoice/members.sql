-- name: add_lane_member(channel_id, user_id, joined_at)!
-- Remember when a member joined a lane. A repeated join event keeps the first position.
INSERT INTO tempvoice_lane_members (channel_id, user_id, joined_at, join_seq)
VALUES (
    :channel_id, :user_id, :joined_at,
    COALESCE((SELECT MAX(m.join_seq) FROM tempvoice_lane_members AS m WHERE m.channel_id = :channel_id), 0) + 1
)
ON CONFLICT (channel_id, user_id) DO NOTHING;

-- name: remove_lane_member(channel_id, user_id)!
DELETE FROM tempvoice_lane_members WHERE channel_id = :channel_id AND user_id = :user_id;

-- name: list_lane_members(channel_id)
-- @row LaneMember
-- Members in join order, earliest first.
SELECT user_id, joined_at, join_seq
FROM tempvoice_lane_members
WHERE channel_id = :channel_id
ORDER BY join_seq;

-- name: remove_member_permit(channel_id, member_id)!
-- The owner kicked the member: their access to the lane (from being inside when it was
-- locked or hidden, or a permit) is gone. Returns 0 when they had none.
DELETE FROM tempvoice_lane_permits
WHERE channel_id = :channel_id AND target_kind = 'member' AND target_id = :member_id;

-- name: get_lane_access(channel_id)^
-- @row LaneAccess
-- A lane's lock and hide state; no row means open and visible.
SELECT channel_id, locked, hidden FROM tempvoice_lane_access WHERE channel_id = :channel_id;

-- name: set_lane_access(channel_id, locked, hidden, updated_at)!
INSERT INTO tempvoice_lane_access (channel_id, locked, hidden, updated_at)
VALUES (:channel_id, :locked, :hidden, :updated_at)
ON CONFLICT (channel_id) DO UPDATE SET
    locked = excluded.locked, hidden = excluded.hidden, updated_at = excluded.updated_at;

-- name: add_lane_permit(channel_id, target_kind, target_id, created_at)!
-- Returns 0 when the member or role was already permitted.
INSERT INTO tempvoice_lane_permits (channel_id, target_kind, target_id, created_at)
VALUES (:channel_id, :target_kind, :target_id, :created_at)
ON CONFLICT (channel_id, target_kind, target_id) DO NOTHING;

-- name: list_lane_permits(channel_id)
-- @row LanePermit
SELECT target_kind, target_id FROM tempvoice_lane_permits WHERE channel_id = :channel_id
ORDER BY target_kind, target_id;

-- name: get_preset(owner_id)^
-- @row LanePreset
-- The owner's saved lane settings, applied to their next lane.
SELECT owner_id, name, user_limit, locked, hidden, min_rank FROM tempvoice_presets WHERE owner_id = :owner_id;

-- name: save_preset(owner_id, name, user_limit, locked, hidden, min_rank, saved_at)!
INSERT INTO tempvoice_presets (owner_id, name, user_limit, locked, hidden, min_rank, saved_at)
VALUES (:owner_id, :name, :user_limit, :locked, :hidden, :min_rank, :saved_at)
ON CONFLICT (owner_id) DO UPDATE SET
    name = excluded.name,
    user_limit = excluded.user_limit,
    locked = excluded.locked,
    hidden = excluded.hidden,
    min_rank = excluded.min_rank,
    saved_at = excluded.saved_at;

-- name: delete_preset(owner_id)!
DELETE FROM tempvoice_presets WHERE owner_id = :owner_id;

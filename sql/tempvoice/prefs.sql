-- name: get_region(owner_id)$
-- 'DE' or 'EU'; None means the default (EU).
SELECT region FROM tempvoice_owner_prefs WHERE owner_id = :owner_id;

-- name: set_region(owner_id, region, updated_at)!
INSERT INTO tempvoice_owner_prefs (owner_id, region, updated_at) VALUES (:owner_id, :region, :updated_at)
ON CONFLICT (owner_id) DO UPDATE SET region = excluded.region, updated_at = excluded.updated_at;

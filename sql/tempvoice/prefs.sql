-- name: get_region(owner_id)$
-- 'DE' or 'EU'; None means the default (EU).
SELECT region FROM tempvoice_owner_prefs WHERE owner_id = :owner_id;

-- name: set_region(owner_id, region, updated_at)!
INSERT INTO tempvoice_owner_prefs (owner_id, region, updated_at) VALUES (:owner_id, :region, :updated_at)
ON CONFLICT (owner_id) DO UPDATE SET region = excluded.region, updated_at = excluded.updated_at;

-- name: get_owner_settings(owner_id, previous_owner_id)
-- @row OwnerSetting
-- The region and bans of a lane's owner and of its previous owner (the same id for a new
-- lane) in one read: a row per owner who chose a region (banned_id None), then a row per ban
-- (region None). No row for an owner: region EU, nobody banned.
SELECT owner_id, region, CAST(NULL AS INTEGER) AS banned_id
FROM tempvoice_owner_prefs
WHERE owner_id IN (:owner_id, :previous_owner_id)
UNION ALL
SELECT owner_id, CAST(NULL AS TEXT) AS region, banned_id
FROM tempvoice_bans
WHERE owner_id IN (:owner_id, :previous_owner_id)
ORDER BY owner_id, banned_id;

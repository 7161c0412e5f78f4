-- name: add_ban(owner_id, banned_id, created_at)!
-- Returns 0 when the ban already existed.
INSERT INTO tempvoice_bans (owner_id, banned_id, created_at) VALUES (:owner_id, :banned_id, :created_at)
ON CONFLICT (owner_id, banned_id) DO NOTHING;

-- name: remove_ban(owner_id, banned_id)!
DELETE FROM tempvoice_bans WHERE owner_id = :owner_id AND banned_id = :banned_id;

-- name: list_bans(owner_id)
SELECT banned_id FROM tempvoice_bans WHERE owner_id = :owner_id ORDER BY banned_id;

-- name: is_banned(owner_id, banned_id)$
SELECT EXISTS (
    SELECT 1 FROM tempvoice_bans WHERE owner_id = :owner_id AND banned_id = :banned_id
) AS banned;

-- name: list_owners_banning(banned_id)
-- Owners who banned this member: their lanes get the deny re-applied when the member rejoins.
SELECT owner_id FROM tempvoice_bans WHERE banned_id = :banned_id ORDER BY owner_id;

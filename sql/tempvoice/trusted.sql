-- name: add_trusted(owner_id, trusted_id, created_at)!
-- Returns 0 when the member was already trusted.
INSERT INTO tempvoice_trusted (owner_id, trusted_id, created_at) VALUES (:owner_id, :trusted_id, :created_at)
ON CONFLICT (owner_id, trusted_id) DO NOTHING;

-- name: remove_trusted(owner_id, trusted_id)!
DELETE FROM tempvoice_trusted WHERE owner_id = :owner_id AND trusted_id = :trusted_id;

-- name: list_trusted(owner_id)
-- The owner's trusted members, in the order they were added.
SELECT trusted_id FROM tempvoice_trusted WHERE owner_id = :owner_id ORDER BY created_at, trusted_id;

-- name: count_trusted(owner_id)$
SELECT COUNT(*) AS trusted FROM tempvoice_trusted WHERE owner_id = :owner_id;

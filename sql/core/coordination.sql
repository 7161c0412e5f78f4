-- name: acquire_lease(name, holder, now, expires_at)$
-- The holder when this process holds the lease from now until expires_at (taken, renewed, or
-- taken over after the previous holder's ran out); None while another process holds it.
INSERT INTO leases (name, holder, acquired_at, expires_at)
VALUES (:name, :holder, :now, :expires_at)
ON CONFLICT (name) DO UPDATE SET
    holder = excluded.holder,
    expires_at = excluded.expires_at,
    acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
WHERE leases.holder = excluded.holder OR leases.expires_at <= :now
RETURNING holder;

-- name: release_lease(name, holder)!
-- Give the lease up at once (a clean shutdown): another process takes it at its next try.
DELETE FROM leases WHERE name = :name AND holder = :holder;

-- name: claim_event(event_id, kind, claimer, claimed_at)!
-- 1 when this process is the first to claim the Discord event (and acts on it), else 0.
INSERT INTO event_claims (event_id, kind, claimer, claimed_at)
VALUES (:event_id, :kind, :claimer, :claimed_at)
ON CONFLICT (event_id) DO NOTHING;

-- name: prune_event_claims(claimed_before)!
DELETE FROM event_claims WHERE claimed_at < :claimed_before;

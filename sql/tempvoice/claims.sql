-- name: claim_creation(guild_id, member_id, claimer, claimed_at, stale_before)!
-- 1 when this process may create the member's lane now: nobody claimed it, or only long ago.
INSERT INTO tempvoice_creation_claims (guild_id, member_id, claimer, claimed_at)
VALUES (:guild_id, :member_id, :claimer, :claimed_at)
ON CONFLICT (guild_id, member_id) DO UPDATE SET claimer = excluded.claimer, claimed_at = excluded.claimed_at
WHERE tempvoice_creation_claims.claimed_at < :stale_before;

-- name: release_creation(guild_id, member_id, claimer)!
DELETE FROM tempvoice_creation_claims
WHERE guild_id = :guild_id AND member_id = :member_id AND claimer = :claimer;

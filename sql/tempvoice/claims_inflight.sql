-- name: list_creations_in_flight(guild_id, fresh_after)
-- The members of a guild whose lane some bot process is creating right now: a creation claim
-- taken at or after :fresh_after (an older one belongs to a process that died). Their lane may
-- exist before its creator is moved in: the reconcile leaves it alone until then.
SELECT member_id
FROM tempvoice_creation_claims
WHERE guild_id = :guild_id AND claimed_at >= :fresh_after
ORDER BY member_id;

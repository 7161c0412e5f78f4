-- name: claim_creation(guild_id, member_id, claimer, claimed_at, stale_before)!
-- 1 when this process may create the member's lane now: nobody claimed it, or only long ago.
INSERT INTO tempvoice_creation_claims (guild_id, member_id, claimer, claimed_at)
VALUES (:guild_id, :member_id, :claimer, :claimed_at)
ON CONFLICT (guild_id, member_id) DO UPDATE SET claimer = excluded.claimer, claimed_at = excluded.claimed_at
WHERE tempvoice_creation_claims.claimed_at < :stale_before;

-- name: release_creation(guild_id, member_id, claimer)!
DELETE FROM tempvoice_creation_claims
WHERE guild_id = :guild_id AND member_id = :member_id AND claimer = :claimer;

-- name: list_taken_numbers(guild_id, category_id, stale_before)
-- Lane numbers in one category that are in use or being created (reservations not stale).
SELECT lane_number
FROM tempvoice_lanes
WHERE guild_id = :guild_id AND category_id = :category_id AND lane_number IS NOT NULL
UNION
SELECT lane_number
FROM tempvoice_number_reservations
WHERE guild_id = :guild_id AND category_id = :category_id AND reserved_at >= :stale_before
ORDER BY lane_number;

-- name: reserve_number(guild_id, category_id, lane_number, claimer, reserved_at, stale_before)!
-- 1 when "Lane N" is this process's to create now (free, or only reserved long ago).
INSERT INTO tempvoice_number_reservations (guild_id, category_id, lane_number, claimer, reserved_at)
VALUES (:guild_id, :category_id, :lane_number, :claimer, :reserved_at)
ON CONFLICT (guild_id, category_id, lane_number) DO UPDATE SET
    claimer = excluded.claimer, reserved_at = excluded.reserved_at
WHERE tempvoice_number_reservations.reserved_at < :stale_before;

-- name: release_number(guild_id, category_id, lane_number, claimer)!
DELETE FROM tempvoice_number_reservations
WHERE guild_id = :guild_id AND category_id = :category_id AND lane_number = :lane_number AND claimer = :claimer;

-- name: claim_creation(guild_id, member_id, claimer, claimed_at, stale_before)!
-- 1 when this process may create the member's lane now: nobody claimed it, or only long ago
-- (a stale claim is taken over with no number).
INSERT INTO tempvoice_creation_claims (guild_id, member_id, claimer, claimed_at, category_id, lane_number)
VALUES (:guild_id, :member_id, :claimer, :claimed_at, NULL, NULL)
ON CONFLICT (guild_id, member_id) DO UPDATE SET
    claimer = excluded.claimer, claimed_at = excluded.claimed_at, category_id = NULL, lane_number = NULL
WHERE tempvoice_creation_claims.claimed_at < :stale_before;

-- name: claim_lane_number(guild_id, member_id, claimer, category_id, stale_before)$
-- The lowest "Lane N" of the category that no lane has and no other live claim holds,
-- recorded in this member's claim in the same statement (run it under the category's number
-- lock, which all processes share). None when the claim is no longer this process's.
UPDATE tempvoice_creation_claims
SET category_id = :category_id,
    lane_number = (
        SELECT MIN(n.candidate)
        FROM (
            SELECT 1 AS candidate
            UNION ALL
            SELECT l.lane_number + 1 FROM tempvoice_lanes AS l
            WHERE l.guild_id = :guild_id AND l.category_id = :category_id AND l.lane_number IS NOT NULL
            UNION ALL
            SELECT c.lane_number + 1 FROM tempvoice_creation_claims AS c
            WHERE c.guild_id = :guild_id AND c.category_id = :category_id AND c.lane_number IS NOT NULL
              AND c.member_id <> :member_id AND c.claimed_at >= :stale_before
        ) AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM tempvoice_lanes AS l
            WHERE l.guild_id = :guild_id AND l.category_id = :category_id AND l.lane_number = n.candidate
        ) AND NOT EXISTS (
            SELECT 1 FROM tempvoice_creation_claims AS c
            WHERE c.guild_id = :guild_id AND c.category_id = :category_id AND c.lane_number = n.candidate
              AND c.member_id <> :member_id AND c.claimed_at >= :stale_before
        )
    )
WHERE guild_id = :guild_id AND member_id = :member_id AND claimer = :claimer
RETURNING lane_number;

-- name: take_lane_number(channel_id, guild_id, category_id, stale_before)$
-- A lane going back to "Lane N": the lowest free number of its category (no lane has it, no
-- live claim holds it) becomes its own in one statement (under the category's number lock).
UPDATE tempvoice_lanes
SET lane_number = (
    SELECT MIN(n.candidate)
    FROM (
        SELECT 1 AS candidate
        UNION ALL
        SELECT l.lane_number + 1 FROM tempvoice_lanes AS l
        WHERE l.guild_id = :guild_id AND l.category_id = :category_id AND l.lane_number IS NOT NULL
        UNION ALL
        SELECT c.lane_number + 1 FROM tempvoice_creation_claims AS c
        WHERE c.guild_id = :guild_id AND c.category_id = :category_id AND c.lane_number IS NOT NULL
          AND c.claimed_at >= :stale_before
    ) AS n
    WHERE NOT EXISTS (
        SELECT 1 FROM tempvoice_lanes AS l
        WHERE l.guild_id = :guild_id AND l.category_id = :category_id AND l.lane_number = n.candidate
    ) AND NOT EXISTS (
        SELECT 1 FROM tempvoice_creation_claims AS c
        WHERE c.guild_id = :guild_id AND c.category_id = :category_id AND c.lane_number = n.candidate
          AND c.claimed_at >= :stale_before
    )
)
WHERE channel_id = :channel_id
RETURNING lane_number;

-- name: release_creation(guild_id, member_id, claimer)!
-- The lane row exists (or the creation gave up): the claim and its number go.
DELETE FROM tempvoice_creation_claims
WHERE guild_id = :guild_id AND member_id = :member_id AND claimer = :claimer;

-- name: record_result(match_id, guild_id, outcome, recorded_by, recorded_at)$
-- The first result of a match, numbered after the guild's last one; None when the match has a
-- result already (or another process took the same number at the same moment: try again).
INSERT INTO balancer_results (match_id, guild_id, seq, outcome, recorded_by, recorded_at)
SELECT :match_id, :guild_id, COALESCE(MAX(r.seq), 0) + 1, :outcome, :recorded_by, :recorded_at
FROM balancer_results AS r
WHERE r.guild_id = :guild_id
ON CONFLICT DO NOTHING
RETURNING seq;

-- name: correct_result(match_id, outcome, recorded_by, corrected_at)!
-- A host's correction keeps the result's place in the order (its seq).
UPDATE balancer_results
SET outcome = :outcome, recorded_by = :recorded_by, corrected_at = :corrected_at
WHERE match_id = :match_id;

-- name: get_result(match_id)^
-- @row MatchResult
SELECT match_id, guild_id, seq, outcome, recorded_by, recorded_at, corrected_at
FROM balancer_results
WHERE match_id = :match_id;

-- name: set_match_winner(match_id, winner)!
-- The winning team on the match itself (NULL for an aborted match).
UPDATE balancer_matches SET winner = :winner WHERE match_id = :match_id;

-- name: list_rated_guilds()
-- Guilds with at least one result, for a rebuild of every guild.
SELECT DISTINCT guild_id FROM balancer_results ORDER BY guild_id;

-- name: list_rated_slots(guild_id)
-- @row RatedSlot
-- Every playing slot of the guild's rated matches in the order the results were recorded:
-- what a rebuild replays. mu_before/sigma_before: the stored snapshot, if any.
SELECT r.seq, r.match_id, r.outcome, p.user_id, p.team, p.rank_value, p.rank_subtier,
       c.mu_before, c.sigma_before
FROM balancer_results AS r
JOIN balancer_match_players AS p ON p.match_id = r.match_id
LEFT JOIN balancer_rating_changes AS c ON c.match_id = p.match_id AND c.user_id = p.user_id
WHERE r.guild_id = :guild_id AND r.outcome <> 'aborted' AND p.team <> 'bench'
ORDER BY r.seq, p.team, p.user_id;

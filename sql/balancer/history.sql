-- name: list_player_history(guild_id, user_id, limit, offset)
-- @row HistoryEntry
-- A player's matches, newest first, with the result and their rating change (if rated).
SELECT m.match_id, m.started_at, m.state, p.team, r.outcome,
       c.mu_before, c.sigma_before, c.mu_after, c.sigma_after
FROM balancer_match_players AS p
JOIN balancer_matches AS m ON m.match_id = p.match_id
LEFT JOIN balancer_results AS r ON r.match_id = m.match_id
LEFT JOIN balancer_rating_changes AS c ON c.match_id = p.match_id AND c.user_id = p.user_id
WHERE m.guild_id = :guild_id AND p.user_id = :user_id
ORDER BY m.match_id DESC
LIMIT :limit OFFSET :offset;

-- name: count_player_matches(guild_id, user_id)$
SELECT COUNT(*) AS matches
FROM balancer_match_players AS p
JOIN balancer_matches AS m ON m.match_id = p.match_id
WHERE m.guild_id = :guild_id AND p.user_id = :user_id;

-- name: list_guild_history(guild_id, limit, offset)
-- @row GuildHistoryEntry
-- The guild's matches, newest first, with their result.
SELECT m.match_id, m.started_at, m.state, r.outcome
FROM balancer_matches AS m
LEFT JOIN balancer_results AS r ON r.match_id = m.match_id
WHERE m.guild_id = :guild_id
ORDER BY m.match_id DESC
LIMIT :limit OFFSET :offset;

-- name: count_guild_matches(guild_id)$
SELECT COUNT(*) AS matches FROM balancer_matches WHERE guild_id = :guild_id;

-- name: list_match_changes(match_id)
-- @row RatingChange
SELECT user_id, mu_before, sigma_before, mu_after, sigma_after
FROM balancer_rating_changes
WHERE match_id = :match_id
ORDER BY user_id;

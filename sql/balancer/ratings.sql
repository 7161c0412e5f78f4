-- name: get_rating(guild_id, user_id)^
-- @row PlayerRating
SELECT user_id, mu, sigma, games, wins, updated_at
FROM balancer_ratings
WHERE guild_id = :guild_id AND user_id = :user_id;

-- name: upsert_ratings*!
-- A player's rating after a match (or after a rebuild).
INSERT INTO balancer_ratings (guild_id, user_id, mu, sigma, games, wins, updated_at)
VALUES (:guild_id, :user_id, :mu, :sigma, :games, :wins, :updated_at)
ON CONFLICT (guild_id, user_id) DO UPDATE SET
    mu = excluded.mu, sigma = excluded.sigma, games = excluded.games, wins = excluded.wins,
    updated_at = excluded.updated_at;

-- name: add_rating_changes*!
INSERT INTO balancer_rating_changes (match_id, user_id, mu_before, sigma_before, mu_after, sigma_after)
VALUES (:match_id, :user_id, :mu_before, :sigma_before, :mu_after, :sigma_after);

-- name: delete_guild_ratings(guild_id)!
DELETE FROM balancer_ratings WHERE guild_id = :guild_id;

-- name: delete_guild_rating_changes(guild_id)!
-- Before a rebuild writes them again.
DELETE FROM balancer_rating_changes
WHERE match_id IN (SELECT m.match_id FROM balancer_matches AS m WHERE m.guild_id = :guild_id);

-- name: list_leaderboard(guild_id, min_games, k, limit, offset)
-- @row PlayerRating
-- Players with at least min_games rated matches, best conservative rating (mu - k*sigma) first.
SELECT user_id, mu, sigma, games, wins, updated_at
FROM balancer_ratings
WHERE guild_id = :guild_id AND games >= :min_games
ORDER BY mu - :k * sigma DESC, user_id
LIMIT :limit OFFSET :offset;

-- name: count_leaderboard(guild_id, min_games)$
SELECT COUNT(*) AS players FROM balancer_ratings WHERE guild_id = :guild_id AND games >= :min_games;

-- name: list_guild_ratings(guild_id)
-- @row PlayerRating
SELECT user_id, mu, sigma, games, wins, updated_at
FROM balancer_ratings
WHERE guild_id = :guild_id
ORDER BY user_id;

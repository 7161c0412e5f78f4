-- name: create_match(guild_id, host_id, origin_channel_id, seed, started_at)$
-- A new match id: AUTOINCREMENT never hands out an id twice, across restarts too.
INSERT INTO balancer_matches (guild_id, host_id, origin_channel_id, seed, state, started_at)
VALUES (:guild_id, :host_id, :origin_channel_id, :seed, 'active', :started_at)
RETURNING match_id;

-- name: set_match_channels(match_id, team_a_channel_id, team_b_channel_id)!
UPDATE balancer_matches
SET team_a_channel_id = :team_a_channel_id, team_b_channel_id = :team_b_channel_id
WHERE match_id = :match_id;

-- name: start_debrief(match_id, debrief_channel_id)!
-- Only an active match can move to its debrief.
UPDATE balancer_matches
SET state = 'debrief', debrief_channel_id = :debrief_channel_id
WHERE match_id = :match_id AND state = 'active';

-- name: finish_match(match_id, state, winner, ended_at)!
-- End or cancel a running match; returns 0 when it was already over. A recorded winner stays
-- when :winner is NULL.
UPDATE balancer_matches
SET state = :state, winner = COALESCE(:winner, winner), ended_at = :ended_at
WHERE match_id = :match_id AND state IN ('active', 'debrief');

-- name: get_match(match_id)^
-- @row Match
SELECT match_id, guild_id, host_id, origin_channel_id, team_a_channel_id, team_b_channel_id,
       debrief_channel_id, state, winner, seed, started_at, ended_at
FROM balancer_matches
WHERE match_id = :match_id;

-- name: list_running_matches(guild_id)
-- @row Match
-- Active matches and matches in their debrief, oldest first.
SELECT match_id, guild_id, host_id, origin_channel_id, team_a_channel_id, team_b_channel_id,
       debrief_channel_id, state, winner, seed, started_at, ended_at
FROM balancer_matches
WHERE guild_id = :guild_id AND state IN ('active', 'debrief')
ORDER BY match_id;

-- name: add_match_players*!
-- Players with the rank they had when the match started.
INSERT INTO balancer_match_players (match_id, user_id, team, rank_value, rank_subtier, rank_name)
VALUES (:match_id, :user_id, :team, :rank_value, :rank_subtier, :rank_name);

-- name: list_match_players(match_id)
-- @row MatchPlayer
SELECT p.user_id, p.team, p.rank_value, p.rank_subtier, p.rank_name
FROM balancer_match_players AS p
WHERE p.match_id = :match_id
ORDER BY p.team, p.rank_value DESC, p.user_id;

-- Personal data of one person, removed by `deadlock-bot db forget-user`.

-- name: forget_steam_links(user_id)!
DELETE FROM steam_links WHERE user_id = :user_id;

-- name: forget_bans(user_id)!
-- Bans the person issued and bans they received.
DELETE FROM tempvoice_bans WHERE owner_id = :user_id OR banned_id = :user_id;

-- name: forget_owner_prefs(user_id)!
DELETE FROM tempvoice_owner_prefs WHERE owner_id = :user_id;

-- name: forget_coaching_sessions(user_id)!
DELETE FROM coaching_sessions WHERE user_id = :user_id;

-- name: forget_user_rank(user_id)!
DELETE FROM user_ranks WHERE user_id = :user_id;

-- name: forget_voice_stats(user_id)!
DELETE FROM voice_stats WHERE user_id = :user_id;

-- name: forget_watch_entries(user_id)!
-- The person's Steam accounts leave the presence watch list (unless another member linked them too).
DELETE FROM deadlock_voice_watch
WHERE steam_id IN (SELECT sl.steam_id FROM steam_links AS sl WHERE sl.user_id = :user_id)
  AND NOT EXISTS (
      SELECT 1 FROM steam_links AS o WHERE o.steam_id = deadlock_voice_watch.steam_id AND o.user_id <> :user_id
  );

-- name: forget_presence(user_id)!
-- Live presence of the person's Steam accounts (unless another member linked them too).
DELETE FROM live_player_state
WHERE steam_id IN (SELECT sl.steam_id FROM steam_links AS sl WHERE sl.user_id = :user_id)
  AND NOT EXISTS (
      SELECT 1 FROM steam_links AS o WHERE o.steam_id = live_player_state.steam_id AND o.user_id <> :user_id
  );

-- name: forget_lane_memberships(user_id)!
DELETE FROM tempvoice_lane_members WHERE user_id = :user_id;

-- name: forget_match_players(user_id)!
-- The person's match slots stay as anonymous players (negative ids, one per slot of a match),
-- so the other players' histories and a ratings rebuild still add up; their rating changes
-- follow by ON UPDATE CASCADE.
UPDATE balancer_match_players
SET user_id = -(1 + (SELECT COUNT(*) FROM balancer_match_players AS o
                     WHERE o.match_id = balancer_match_players.match_id AND o.user_id < 0))
WHERE user_id = :user_id;

-- name: forget_ratings(user_id)!
-- @scan
-- The person leaves every leaderboard (a rare admin command: a full scan is fine).
DELETE FROM balancer_ratings WHERE user_id = :user_id;

-- name: forget_match_hosting(user_id)!
-- @scan
-- Matches they hosted keep no trace of who hosted them.
UPDATE balancer_matches SET host_id = 0 WHERE host_id = :user_id;

-- name: forget_result_recordings(user_id)!
-- @scan
UPDATE balancer_results SET recorded_by = 0 WHERE recorded_by = :user_id;

-- name: forget_voice_presence(user_id)!
DELETE FROM voice_status_members WHERE user_id = :user_id;

-- name: forget_overwrite_wishes(user_id)!
-- Features' connect/view wishes about the person (a ban's member deny, a permit).
-- @scan
DELETE FROM channel_overwrite_wishes WHERE target_kind = 'member' AND target_id = :user_id;

-- name: forget_overwrite_baselines(user_id)!
-- @scan
DELETE FROM channel_overwrite_baselines WHERE target_kind = 'member' AND target_id = :user_id;

-- name: forget_trusted(user_id)!
-- The person's trusted list and their place on other owners' trusted lists.
DELETE FROM tempvoice_trusted WHERE owner_id = :user_id OR trusted_id = :user_id;

-- name: forget_preset(user_id)!
DELETE FROM tempvoice_presets WHERE owner_id = :user_id;

-- name: forget_lane_permits(user_id)!
DELETE FROM tempvoice_lane_permits WHERE target_kind = 'member' AND target_id = :user_id;

-- name: forget_balancer_panels(user_id)!
-- @scan
-- Open selection and preview panels (15 minutes at most) that the person opened or is listed in.
DELETE FROM balancer_panels
WHERE owner_id = :user_id
   OR panel_id IN (SELECT p.panel_id FROM balancer_panel_players AS p WHERE p.user_id = :user_id);

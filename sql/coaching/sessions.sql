-- Coaching sessions move forward one step at a time. Each step's UPDATE names the step
-- it expects, so a stale or repeated click changes nothing (rowcount 0).

-- name: create_session(user_id, guild_id, match_id, created_at)$
-- Fails on the unique index when the user already has an active session.
INSERT INTO coaching_sessions (user_id, guild_id, match_id, step, is_active, created_at, updated_at)
VALUES (:user_id, :guild_id, :match_id, 'rank', 1, :created_at, :created_at)
RETURNING session_id;

-- name: get_session(session_id)^
-- @row CoachingSession
SELECT session_id, user_id, guild_id, thread_id, match_id, rank, subrank, hero, comment, step,
       is_active, close_reason, created_at, updated_at, closed_at
FROM coaching_sessions
WHERE session_id = :session_id;

-- name: get_active_session(user_id)^
-- @row CoachingSession
SELECT session_id, user_id, guild_id, thread_id, match_id, rank, subrank, hero, comment, step,
       is_active, close_reason, created_at, updated_at, closed_at
FROM coaching_sessions
WHERE user_id = :user_id AND is_active = 1;

-- name: set_session_thread(session_id, thread_id, updated_at)!
UPDATE coaching_sessions SET thread_id = :thread_id, updated_at = :updated_at
WHERE session_id = :session_id AND is_active = 1;

-- name: set_session_rank(session_id, rank, updated_at)!
UPDATE coaching_sessions SET rank = :rank, step = 'subrank', updated_at = :updated_at
WHERE session_id = :session_id AND is_active = 1 AND step = 'rank';

-- name: set_session_subrank(session_id, subrank, updated_at)!
UPDATE coaching_sessions SET subrank = :subrank, step = 'hero', updated_at = :updated_at
WHERE session_id = :session_id AND is_active = 1 AND step = 'subrank';

-- name: set_session_hero(session_id, hero, updated_at)!
UPDATE coaching_sessions SET hero = :hero, step = 'comment', updated_at = :updated_at
WHERE session_id = :session_id AND is_active = 1 AND step = 'hero';

-- name: set_session_comment(session_id, comment, updated_at)!
UPDATE coaching_sessions SET comment = :comment, step = 'finish', updated_at = :updated_at
WHERE session_id = :session_id AND is_active = 1 AND step = 'comment';

-- name: close_session(session_id, close_reason, closed_at)!
-- Returns 0 when the session was already closed, so a close happens once. is_active = 0 is
-- "closed"; step keeps the stage the session reached (as the old bot left it).
UPDATE coaching_sessions
SET is_active = 0, close_reason = :close_reason, closed_at = :closed_at, updated_at = :closed_at
WHERE session_id = :session_id AND is_active = 1;

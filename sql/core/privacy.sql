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

-- Steam links and live presence are written by the Steam cogs and the Node service;
-- these writes exist for linking commands, imports and tests.

-- name: upsert_steam_link(user_id, steam_id, name, verified, primary_account, updated_at)!
INSERT INTO steam_links (user_id, steam_id, name, verified, primary_account, created_at, updated_at)
VALUES (:user_id, :steam_id, :name, :verified, :primary_account, :updated_at, :updated_at)
ON CONFLICT (user_id, steam_id) DO UPDATE SET
    name = excluded.name,
    verified = excluded.verified,
    primary_account = excluded.primary_account,
    updated_at = excluded.updated_at;

-- name: list_steam_links(user_id)
-- @row SteamLink
SELECT user_id, steam_id, name, verified, primary_account
FROM steam_links
WHERE user_id = :user_id
ORDER BY primary_account DESC, steam_id;

-- name: upsert_presence(steam_id, in_deadlock_now, in_match_now_strict, deadlock_stage, deadlock_minutes, deadlock_localized, deadlock_party_hint, last_server_id, last_seen_ts, deadlock_updated_at)!
INSERT INTO live_player_state
    (steam_id, in_deadlock_now, in_match_now_strict, deadlock_stage, deadlock_minutes, deadlock_localized,
     deadlock_party_hint, last_server_id, last_seen_ts, deadlock_updated_at)
VALUES
    (:steam_id, :in_deadlock_now, :in_match_now_strict, :deadlock_stage, :deadlock_minutes, :deadlock_localized,
     :deadlock_party_hint, :last_server_id, :last_seen_ts, :deadlock_updated_at)
ON CONFLICT (steam_id) DO UPDATE SET
    in_deadlock_now = excluded.in_deadlock_now,
    in_match_now_strict = excluded.in_match_now_strict,
    deadlock_stage = excluded.deadlock_stage,
    deadlock_minutes = excluded.deadlock_minutes,
    deadlock_localized = excluded.deadlock_localized,
    deadlock_party_hint = excluded.deadlock_party_hint,
    last_server_id = excluded.last_server_id,
    last_seen_ts = excluded.last_seen_ts,
    deadlock_updated_at = excluded.deadlock_updated_at;

-- name: get_user_rank(user_id)$
-- The rank name the standalone rank bot stored (fallback when a member has no rank role).
SELECT rank FROM user_ranks WHERE user_id = :user_id;

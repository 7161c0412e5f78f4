-- name: create_panel(guild_id, kind, owner_id, created_at, expires_at)$
-- A new selection or preview panel; its id goes into the custom ids of its buttons.
INSERT INTO balancer_panels (guild_id, kind, owner_id, revision, created_at, expires_at)
VALUES (:guild_id, :kind, :owner_id, 0, :created_at, :expires_at)
RETURNING panel_id;

-- name: add_panel_players*!
INSERT INTO balancer_panel_players (panel_id, user_id, position, chosen, team)
VALUES (:panel_id, :user_id, :position, :chosen, :team);

-- name: get_panel(panel_id)^
-- @row BalancerPanel
SELECT panel_id, guild_id, kind, owner_id, revision, created_at, expires_at
FROM balancer_panels
WHERE panel_id = :panel_id;

-- name: list_panel_players(panel_id)
-- @row PanelPlayer
SELECT user_id, position, chosen, team
FROM balancer_panel_players
WHERE panel_id = :panel_id
ORDER BY position;

-- name: bump_panel(panel_id)!
-- The first write of every change to a panel: it locks the panel's row until the change
-- commits (PostgreSQL) or holds the write lock (SQLite); 0 when the panel is gone.
UPDATE balancer_panels SET revision = revision + 1 WHERE panel_id = :panel_id;

-- name: set_panel_chosen*!
-- Selection: picked or not.
UPDATE balancer_panel_players SET chosen = :chosen WHERE panel_id = :panel_id AND user_id = :user_id;

-- name: set_panel_teams*!
-- Preview: the team and place of each player in the split now shown.
UPDATE balancer_panel_players SET team = :team, position = :position
WHERE panel_id = :panel_id AND user_id = :user_id;

-- name: delete_panel(panel_id)!
-- The panel is used up (the match starts); 0 when someone else started it first.
DELETE FROM balancer_panels WHERE panel_id = :panel_id;

-- name: delete_expired_panels(now)!
DELETE FROM balancer_panels WHERE expires_at <= :now;

-- Migration 0008: the balancer's selection and preview panels survive a restart.

-- The host's selection (more than 12 players) and the preview under `!balance auto`: their
-- buttons carry the panel id (bal:sel:<panel>:..., bal:prev:<panel>:...) and the panel's state
-- lives here, so the buttons keep working after a restart. A panel expires 15 minutes after it
-- was opened (`expires_at`); expired panels are deleted when the next one is opened. `revision`
-- is bumped first in every change, so changes to one panel wait for each other on either engine.
CREATE TABLE balancer_panels (
    panel_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('select', 'preview')),
    owner_id INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_balancer_panels_expires ON balancer_panels (expires_at);

-- A panel's players in the order they are shown: `chosen` (selection: picked to play) and
-- `team` (preview: the team of the split shown).
CREATE TABLE balancer_panel_players (
    panel_id INTEGER NOT NULL REFERENCES balancer_panels (panel_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    chosen INTEGER NOT NULL DEFAULT 0 CHECK (chosen IN (0, 1)),
    team TEXT CHECK (team IN ('amber', 'sapphire', 'bench')),
    PRIMARY KEY (panel_id, user_id)
) STRICT;

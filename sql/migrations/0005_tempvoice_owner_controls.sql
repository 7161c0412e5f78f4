-- Migration 0005: what a lane owner controls beyond the old panel. Trusted members per owner
-- (they may always join the owner's lanes), a lane's lock and hide state, members and roles
-- the owner permitted into one lane, and the owner's saved preset for their next lane.

CREATE TABLE tempvoice_trusted (
    owner_id INTEGER NOT NULL,
    trusted_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, trusted_id)
) STRICT;
CREATE INDEX idx_tempvoice_trusted_trusted ON tempvoice_trusted (trusted_id);

CREATE TABLE tempvoice_lane_access (
    channel_id INTEGER PRIMARY KEY REFERENCES tempvoice_lanes (channel_id) ON DELETE CASCADE,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE tempvoice_lane_permits (
    channel_id INTEGER NOT NULL REFERENCES tempvoice_lanes (channel_id) ON DELETE CASCADE,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('member', 'role')),
    target_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, target_kind, target_id)
) STRICT;
CREATE INDEX idx_tempvoice_lane_permits_target ON tempvoice_lane_permits (target_id);

CREATE TABLE tempvoice_presets (
    owner_id INTEGER PRIMARY KEY,
    name TEXT,
    user_limit INTEGER,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    min_rank INTEGER NOT NULL DEFAULT 0,
    saved_at INTEGER NOT NULL
) STRICT;

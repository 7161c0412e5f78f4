-- Migration 0004: what several features want of one channel, kept in the database so a
-- restart keeps it: permission overwrites (bot/shared/overwrites.py) and names (bot/shared/rename.py).
-- Overwrite wishes: one feature's explicit allow (1) or deny (0) of one bit (connect, view)
-- for one target (a role or a member) on one channel.
CREATE TABLE channel_overwrite_wishes (
    channel_id INTEGER NOT NULL,
    feature TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('role', 'member')),
    target_id INTEGER NOT NULL,
    bit TEXT NOT NULL CHECK (bit IN ('connect', 'view_channel')),
    allow INTEGER NOT NULL CHECK (allow IN (0, 1)),
    PRIMARY KEY (channel_id, feature, target_kind, target_id, bit)
) STRICT;

-- Gates: a feature that lets only some roles connect (min rank, rank voice). While a channel
-- has a gate, @everyone may not connect; a role may connect when every gate admits it.
CREATE TABLE channel_overwrite_gates (
    channel_id INTEGER NOT NULL,
    feature TEXT NOT NULL,
    PRIMARY KEY (channel_id, feature)
) STRICT;

CREATE TABLE channel_overwrite_gate_roles (
    channel_id INTEGER NOT NULL,
    feature TEXT NOT NULL,
    role_id INTEGER NOT NULL,
    PRIMARY KEY (channel_id, feature, role_id),
    FOREIGN KEY (channel_id, feature) REFERENCES channel_overwrite_gates (channel_id, feature) ON DELETE CASCADE
) STRICT;

-- The value a bit had before any feature wished something for it (1 allow, 0 deny, NULL
-- inherit): put back when the last wish for it goes.
CREATE TABLE channel_overwrite_baselines (
    channel_id INTEGER NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('role', 'member')),
    target_id INTEGER NOT NULL,
    bit TEXT NOT NULL CHECK (bit IN ('connect', 'view_channel')),
    allow INTEGER CHECK (allow IN (0, 1)),
    PRIMARY KEY (channel_id, target_kind, target_id, bit)
) STRICT;

-- Channel names several features compose (bot/shared/rename.py): each feature's part of the
-- name (base, rank, minrank, status), so a restart knows which suffixes are the bot's.
CREATE TABLE channel_name_parts (
    channel_id INTEGER NOT NULL,
    part TEXT NOT NULL CHECK (part IN ('base', 'rank', 'minrank', 'status')),
    value TEXT NOT NULL,
    PRIMARY KEY (channel_id, part)
) STRICT;

-- The renames Discord confirmed (2 per channel per 10 minutes): the budget survives restarts.
CREATE TABLE channel_renames (
    rename_id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    renamed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_channel_renames_channel ON channel_renames (channel_id, renamed_at);

-- A channel Discord answered a rename with 429 for: no rename before blocked_until.
CREATE TABLE channel_rename_blocks (
    channel_id INTEGER PRIMARY KEY,
    blocked_until INTEGER NOT NULL
) STRICT;

-- Rank voice kept the @everyone connect bit from before an anchor in kv_store; it is now the
-- composer's baseline, and the anchor's gate is the composer's (restored at start).
INSERT INTO channel_overwrite_gates (channel_id, feature)
SELECT a.channel_id, 'rank_voice' FROM voice_channel_anchors AS a;

INSERT INTO channel_overwrite_baselines (channel_id, target_kind, target_id, bit, allow)
SELECT a.channel_id, 'role', a.guild_id, 'connect', CASE kv.v WHEN 'allow' THEN 1 WHEN 'deny' THEN 0 END
FROM kv_store AS kv
JOIN voice_channel_anchors AS a ON CAST(a.channel_id AS TEXT) = kv.k
WHERE kv.ns = 'rank_voice_prior_everyone_connect';

DELETE FROM kv_store WHERE ns = 'rank_voice_prior_everyone_connect';

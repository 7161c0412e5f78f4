-- deadlock-bot: the complete current schema (version 4).
--
-- This file is the reference for `deadlock-bot sql check` (every query is compiled
-- against it) and for the migrations test (empty DB + sql/migrations/* == this file).
--
-- Conventions
-- * Tables another program reads or writes (the Node Steam presence service, the
--   standalone rank bot, dashboards) keep the old bot's names, column names, types
--   and units exactly; they are not STRICT because their writers predate us.
-- * Tables new in this bot are STRICT.
-- * Discord snowflakes are INTEGER (64-bit), Steam IDs are TEXT (SteamID64).
-- * New timestamps are INTEGER unix seconds, passed in by the caller (portable to
--   PostgreSQL); legacy TIMESTAMP columns keep their UTC text default.

-- ---------------------------------------------------------------------------
-- core
-- ---------------------------------------------------------------------------

CREATE TABLE kv_store (
    ns TEXT NOT NULL,
    k TEXT NOT NULL,
    v TEXT NOT NULL,
    PRIMARY KEY (ns, k)
);

-- Persisted timers (coaching inactivity timeouts, delayed clean-ups). One row per
-- (event, key): re-arming a timer moves its due time instead of adding a second one.
CREATE TABLE timers (
    timer_id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    key TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    UNIQUE (event, key)
) STRICT;
CREATE INDEX idx_timers_event_due ON timers (event, due_at);

-- Leases: a feature that must run in exactly one process (the voice status pass of a
-- guild) holds its lease row; with several bot processes on one database only the holder
-- runs it, and the lease of a crashed holder runs out at expires_at.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

-- Event claims: when several processes see the same Discord event (a command message, a
-- modal submission), the one whose claim on the event's snowflake is accepted acts on it.
CREATE TABLE event_claims (
    event_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    claimer TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_event_claims_claimed_at ON event_claims (claimed_at);

-- ---------------------------------------------------------------------------
-- steam / presence: shared with the external Node presence service
-- ---------------------------------------------------------------------------

CREATE TABLE steam_links (
    user_id INTEGER NOT NULL,
    steam_id TEXT NOT NULL,
    name TEXT,
    verified INTEGER DEFAULT 0,
    primary_account INTEGER DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, steam_id)
);
CREATE INDEX idx_steam_links_user ON steam_links (user_id);
CREATE INDEX idx_steam_links_steam ON steam_links (steam_id);

CREATE TABLE live_player_state (
    steam_id TEXT PRIMARY KEY,
    last_gameid TEXT,
    last_server_id TEXT,
    last_seen_ts INTEGER,
    in_deadlock_now INTEGER DEFAULT 0,
    in_match_now_strict INTEGER DEFAULT 0,
    deadlock_stage TEXT,
    deadlock_minutes INTEGER,
    deadlock_localized TEXT,
    deadlock_hero TEXT,
    deadlock_party_hint TEXT,
    deadlock_updated_at INTEGER
);

-- Whom the Node service should poll: refreshed by the voice-status pass every
-- minute; updated_at is unix seconds (the Node reader compares numerically).
CREATE TABLE deadlock_voice_watch (
    steam_id TEXT PRIMARY KEY,
    guild_id INTEGER,
    channel_id INTEGER,
    updated_at INTEGER NOT NULL
);

-- Written by the standalone rank bot; the balancer's fallback when a member has no rank role.
CREATE TABLE user_ranks (
    user_id INTEGER PRIMARY KEY,
    rank TEXT
);

CREATE TABLE voice_stats (
    user_id INTEGER PRIMARY KEY,
    total_seconds INTEGER NOT NULL DEFAULT 0,
    total_points INTEGER NOT NULL DEFAULT 0,
    last_update DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_voice_stats_leaderboard ON voice_stats (total_points DESC, total_seconds DESC);

-- ---------------------------------------------------------------------------
-- shared channel state: overwrites and names several features compose (migration 0004)
-- ---------------------------------------------------------------------------

-- What several features want of one channel, kept so a restart keeps it (bot/shared/overwrites.py).
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

-- ---------------------------------------------------------------------------
-- tempvoice
-- ---------------------------------------------------------------------------

-- One row per lane the bot created. Only channels with a row are ever touched.
CREATE TABLE tempvoice_lanes (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    owner_id INTEGER NOT NULL,
    base_name TEXT NOT NULL,
    category_id INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    lane_number INTEGER,
    min_rank INTEGER NOT NULL DEFAULT 0,
    initial_owner_id INTEGER,
    source_staging_id INTEGER
);
CREATE INDEX idx_tempvoice_lanes_guild ON tempvoice_lanes (guild_id, channel_id);
CREATE INDEX idx_tempvoice_lanes_owner ON tempvoice_lanes (owner_id);
-- Two lanes can never claim the same "Lane N" in one category: a lost race fails loudly.
CREATE UNIQUE INDEX uq_tempvoice_lanes_number
    ON tempvoice_lanes (guild_id, category_id, lane_number) WHERE lane_number IS NOT NULL;

-- A claim per member while their lane is being created: with several bot processes on one
-- database, the one whose claim is accepted creates the lane (migration 0002). It also holds
-- the "Lane N" number being created until the lane row exists (migration 0007), so processes
-- sharing one database pick different numbers; NULL for a lane named by the owner's preset.
CREATE TABLE tempvoice_creation_claims (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    claimer TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    category_id INTEGER,
    lane_number INTEGER,
    PRIMARY KEY (guild_id, member_id)
) STRICT;
CREATE INDEX idx_tempvoice_creation_claims_number
    ON tempvoice_creation_claims (guild_id, category_id, lane_number);

-- Join order per lane, persisted so owner succession survives restarts.
CREATE TABLE tempvoice_lane_members (
    channel_id INTEGER NOT NULL REFERENCES tempvoice_lanes (channel_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    joined_at INTEGER NOT NULL,
    join_seq INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) STRICT;
CREATE INDEX idx_tempvoice_lane_members_user ON tempvoice_lane_members (user_id);

CREATE TABLE tempvoice_bans (
    owner_id INTEGER NOT NULL,
    banned_id INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (owner_id, banned_id)
);
CREATE INDEX idx_tempvoice_bans_banned ON tempvoice_bans (banned_id);

CREATE TABLE tempvoice_owner_prefs (
    owner_id INTEGER PRIMARY KEY,
    region TEXT NOT NULL CHECK (region IN ('DE', 'EU')),
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- What a lane owner controls (migration 0005): trusted members per owner (applied to every
-- lane they own), a lane's lock/hide state and the members/roles permitted into it, and the
-- owner's preset applied to their next lane.
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

-- Panel messages: global panels (lane_id NULL, posted by !tvpanel) and one per lane.
CREATE TABLE tempvoice_interface (
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    category_id INTEGER,
    lane_id INTEGER,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (guild_id, message_id),
    UNIQUE (lane_id)
);
CREATE INDEX idx_tempvoice_interface_channel ON tempvoice_interface (channel_id);

-- ---------------------------------------------------------------------------
-- rank voice
-- ---------------------------------------------------------------------------

CREATE TABLE voice_channel_settings (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_voice_channel_settings_guild ON voice_channel_settings (guild_id);

CREATE TABLE voice_channel_anchors (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    rank_name TEXT NOT NULL,
    rank_value INTEGER NOT NULL,
    allowed_min INTEGER NOT NULL,
    allowed_max INTEGER NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT DEFAULT CURRENT_TIMESTAMP,
    anchor_subrank INTEGER DEFAULT 3,
    score_min INTEGER,
    score_max INTEGER
);
CREATE INDEX idx_voice_channel_anchors_guild ON voice_channel_anchors (guild_id);

-- ---------------------------------------------------------------------------
-- balancer
-- ---------------------------------------------------------------------------

-- AUTOINCREMENT: a match id is never reused, not even after a restart or a delete.
CREATE TABLE balancer_matches (
    match_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    host_id INTEGER NOT NULL,
    origin_channel_id INTEGER,
    team_a_channel_id INTEGER,
    team_b_channel_id INTEGER,
    debrief_channel_id INTEGER,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'debrief', 'ended', 'cancelled')),
    winner TEXT CHECK (winner IN ('amber', 'sapphire')),
    seed INTEGER,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
) STRICT;
CREATE INDEX idx_balancer_matches_guild_state ON balancer_matches (guild_id, state);
CREATE INDEX idx_balancer_matches_state_started ON balancer_matches (state, started_at);

CREATE TABLE balancer_match_players (
    match_id INTEGER NOT NULL REFERENCES balancer_matches (match_id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    team TEXT NOT NULL CHECK (team IN ('amber', 'sapphire', 'bench')),
    rank_value INTEGER NOT NULL,
    rank_subtier INTEGER NOT NULL,
    rank_name TEXT NOT NULL,
    PRIMARY KEY (match_id, user_id)
) STRICT;
CREATE INDEX idx_balancer_match_players_user ON balancer_match_players (user_id);

-- Results and ratings (migration 0006).
-- A match's result is recorded once (a host may correct it): the winning team, or 'aborted'
-- (the match counts for nothing). `seq` numbers a guild's results in the order they were
-- first recorded: replaying the rated results in that order gives the stored ratings
-- (`deadlock-bot ratings rebuild`).
CREATE TABLE balancer_results (
    match_id INTEGER PRIMARY KEY REFERENCES balancer_matches (match_id) ON DELETE CASCADE,
    guild_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('amber', 'sapphire', 'aborted')),
    recorded_by INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    corrected_at INTEGER,
    UNIQUE (guild_id, seq)
) STRICT;

-- Each rated player's rating before and after the match (OpenSkill mu and sigma), so any
-- match can be explained. A forgotten player's row keeps an anonymous (negative) user id,
-- carried over from the roster by ON UPDATE CASCADE.
CREATE TABLE balancer_rating_changes (
    match_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    mu_before REAL NOT NULL,
    sigma_before REAL NOT NULL,
    mu_after REAL NOT NULL,
    sigma_after REAL NOT NULL,
    PRIMARY KEY (match_id, user_id),
    FOREIGN KEY (match_id, user_id) REFERENCES balancer_match_players (match_id, user_id)
        ON DELETE CASCADE ON UPDATE CASCADE
) STRICT;
CREATE INDEX idx_balancer_rating_changes_user ON balancer_rating_changes (user_id);

-- One rating per player and guild: the result of all their rated matches.
CREATE TABLE balancer_ratings (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    mu REAL NOT NULL,
    sigma REAL NOT NULL,
    games INTEGER NOT NULL,
    wins INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT;
CREATE INDEX idx_balancer_ratings_guild_games ON balancer_ratings (guild_id, games);

-- Selection and preview panels (migration 0008).
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

-- ---------------------------------------------------------------------------
-- coaching
-- ---------------------------------------------------------------------------

-- Keyed by its own id; at most one active session per user (partial unique index).
-- is_active = 0 means closed; step is the stage the session reached, kept when it closes (also
-- for sessions the old bot closed). 'closed' is only found in rows closed by schema versions 1-3.
CREATE TABLE coaching_sessions (
    session_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,
    thread_id INTEGER,
    match_id TEXT,
    rank TEXT,
    subrank TEXT,
    hero TEXT,
    comment TEXT,
    step TEXT NOT NULL CHECK (step IN ('rank', 'subrank', 'hero', 'comment', 'finish', 'closed')),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    close_reason TEXT CHECK (close_reason IN ('finished', 'timeout', 'replaced', 'cancelled')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX uq_coaching_sessions_active_user ON coaching_sessions (user_id) WHERE is_active = 1;
CREATE INDEX idx_coaching_sessions_user ON coaching_sessions (user_id);
CREATE INDEX idx_coaching_sessions_open ON coaching_sessions (session_id) WHERE is_active = 1;
CREATE INDEX idx_coaching_thread ON coaching_sessions (thread_id);

-- The start message ("Match-Coaching starten") per guild, so it is posted only once.
CREATE TABLE coaching_panels (
    guild_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- ---------------------------------------------------------------------------
-- voice status
-- ---------------------------------------------------------------------------

-- The last decision per monitored channel: rename cooldowns survive restarts and
-- `!dlvs snapshot` can show why a channel has its name.
CREATE TABLE voice_status_channels (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('none', 'lobby', 'match')),
    suffix TEXT,
    match_minutes INTEGER,
    players INTEGER NOT NULL DEFAULT 0,
    slots INTEGER NOT NULL DEFAULT 0,
    last_rename_at INTEGER,
    decided_at INTEGER NOT NULL,
    detail TEXT
) STRICT;
CREATE INDEX idx_voice_status_channels_guild ON voice_status_channels (guild_id);

-- Who is in a monitored voice channel right now, kept by the voice-status passes (a pass
-- writes what changed since the last one).
-- The pass joins it with steam_links/live_player_state and refreshes the watch list
-- from it, so a pass needs a fixed number of statements (no IN lists, no variable limit).
CREATE TABLE voice_status_members (
    user_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_voice_status_members_channel ON voice_status_members (channel_id);
CREATE INDEX idx_voice_status_members_guild ON voice_status_members (guild_id);

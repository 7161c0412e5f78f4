-- Migration 0003: leases, event claims and lane number reservations, for several bot
-- processes on one database.
-- Leases: a feature that must run in exactly one process (the live voice
-- status pass of a guild) takes a lease row before it runs; when several bot processes share
-- one database, only the holder runs it, and a crashed holder's lease runs out.
-- The voice status scratch table is cleared per guild, so two holders of different guilds
-- (shards) do not clear each other's members.

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idx_voice_status_members_guild ON voice_status_members (guild_id);

-- Event claims: when several processes see the same Discord event (a command message, a
-- modal submission), the one whose claim on the event's snowflake the database accepts
-- acts on it; the others stay silent. Claims older than a day are pruned.
CREATE TABLE event_claims (
    event_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    claimer TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_event_claims_claimed_at ON event_claims (claimed_at);

-- "Lane N" numbers being created right now: a creating process reserves the number here until
-- its lane row exists, so processes sharing one database pick different numbers instead of
-- creating a channel twice and deleting one. A crashed process's reservation goes stale.
CREATE TABLE tempvoice_number_reservations (
    guild_id INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    lane_number INTEGER NOT NULL,
    claimer TEXT NOT NULL,
    reserved_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, category_id, lane_number)
) STRICT;

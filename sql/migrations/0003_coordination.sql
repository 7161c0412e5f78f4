-- Migration 0003: leases and event claims, for several bot processes on one database.
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

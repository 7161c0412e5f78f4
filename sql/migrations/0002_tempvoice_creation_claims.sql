-- Migration 0002: a claim per member while their lane is being created. When several bot
-- processes share one (PostgreSQL) database and all see the same staging join, the one
-- whose claim the database accepts creates the lane; a stale claim (a crashed process)
-- can be taken over.

CREATE TABLE tempvoice_creation_claims (
    guild_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    claimer TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, member_id)
) STRICT;

-- Migration 0007: a member's creation claim also holds the "Lane N" number being created.
-- The number is picked and recorded in one statement (under the per-category lock all bot
-- processes share) and goes with the claim once the lane row exists; a lane created with a
-- preset's name claims no number (lane_number NULL). The separate reservation table of
-- migration 0003 is no longer used. Claims live only while a lane is being created (the bot
-- upgrades before it logs in), so the table is created anew rather than altered.

DROP TABLE tempvoice_creation_claims;
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

DROP TABLE tempvoice_number_reservations;

-- Migration 0006: match results and OpenSkill ratings for the team balancer.
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

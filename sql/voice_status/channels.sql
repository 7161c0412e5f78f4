-- name: get_channel_status(channel_id)^
-- @row ChannelStatus
SELECT channel_id, guild_id, state, suffix, match_minutes, players, slots, last_rename_at, decided_at, detail
FROM voice_status_channels
WHERE channel_id = :channel_id;

-- name: list_channel_status(guild_id)
-- @row ChannelStatus
SELECT channel_id, guild_id, state, suffix, match_minutes, players, slots, last_rename_at, decided_at, detail
FROM voice_status_channels
WHERE guild_id = :guild_id
ORDER BY channel_id;

-- name: save_channel_statuses*!
-- All decisions of one pass in one statement batch.
INSERT INTO voice_status_channels
    (channel_id, guild_id, state, suffix, match_minutes, players, slots, last_rename_at, decided_at, detail)
VALUES
    (:channel_id, :guild_id, :state, :suffix, :match_minutes, :players, :slots, :last_rename_at, :decided_at, :detail)
ON CONFLICT (channel_id) DO UPDATE SET
    guild_id = excluded.guild_id,
    state = excluded.state,
    suffix = excluded.suffix,
    match_minutes = excluded.match_minutes,
    players = excluded.players,
    slots = excluded.slots,
    last_rename_at = excluded.last_rename_at,
    decided_at = excluded.decided_at,
    detail = excluded.detail;

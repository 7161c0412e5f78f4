-- name: list_name_parts()
-- @row NamePart
-- @scan
-- Every feature's part of every managed channel name.
SELECT channel_id, part, value FROM channel_name_parts ORDER BY channel_id, part;

-- name: upsert_name_part(channel_id, part, value)!
INSERT INTO channel_name_parts (channel_id, part, value) VALUES (:channel_id, :part, :value)
ON CONFLICT (channel_id, part) DO UPDATE SET value = excluded.value;

-- name: get_base_name(channel_id)$
-- The channel's base name, or None: the one wished or adopted for it, else, for a TempVoice
-- lane, its row's (saved in the lane's creating transaction, so a lane's base is never
-- stored twice and never learned from the name Discord shows).
SELECT COALESCE(
    (SELECT value FROM channel_name_parts WHERE channel_id = :channel_id AND part = 'base'),
    (SELECT base_name FROM tempvoice_lanes WHERE channel_id = :channel_id)
) AS base_name;

-- name: delete_name_part(channel_id, part)!
DELETE FROM channel_name_parts WHERE channel_id = :channel_id AND part = :part;

-- name: delete_channel_name_parts(channel_id)!
DELETE FROM channel_name_parts WHERE channel_id = :channel_id;

-- name: insert_rename(channel_id, name, renamed_at)!
-- A rename Discord confirmed.
INSERT INTO channel_renames (channel_id, name, renamed_at) VALUES (:channel_id, :name, :renamed_at);

-- name: prune_renames(before)!
-- Renames older than the budget window count no more.
-- @scan
DELETE FROM channel_renames WHERE renamed_at < :before;

-- name: list_renames_since(since)
-- @row RenameRecord
-- @scan
-- The confirmed renames still inside the budget window, oldest first.
SELECT channel_id, name, renamed_at FROM channel_renames WHERE renamed_at >= :since ORDER BY renamed_at, rename_id;

-- name: delete_channel_renames(channel_id)!
DELETE FROM channel_renames WHERE channel_id = :channel_id;

-- name: upsert_rename_block(channel_id, blocked_until)!
-- Discord answered 429: no rename of this channel before blocked_until.
INSERT INTO channel_rename_blocks (channel_id, blocked_until) VALUES (:channel_id, :blocked_until)
ON CONFLICT (channel_id) DO UPDATE SET blocked_until = excluded.blocked_until;

-- name: list_rename_blocks(now)
-- @row RenameBlock
-- @scan
SELECT channel_id, blocked_until FROM channel_rename_blocks WHERE blocked_until > :now ORDER BY channel_id;

-- name: delete_rename_block(channel_id)!
DELETE FROM channel_rename_blocks WHERE channel_id = :channel_id;

-- name: list_overwrite_wishes(channel_id)
-- @row OverwriteWish
-- Every feature's explicit allow/deny bits on one channel.
SELECT feature, target_kind, target_id, bit, allow
FROM channel_overwrite_wishes
WHERE channel_id = :channel_id
ORDER BY feature, target_kind, target_id, bit;

-- name: upsert_overwrite_wish(channel_id, feature, target_kind, target_id, bit, allow)!
INSERT INTO channel_overwrite_wishes (channel_id, feature, target_kind, target_id, bit, allow)
VALUES (:channel_id, :feature, :target_kind, :target_id, :bit, :allow)
ON CONFLICT (channel_id, feature, target_kind, target_id, bit) DO UPDATE SET allow = excluded.allow;

-- name: delete_overwrite_wish(channel_id, feature, target_kind, target_id, bit)!
DELETE FROM channel_overwrite_wishes
WHERE channel_id = :channel_id AND feature = :feature AND target_kind = :target_kind
    AND target_id = :target_id AND bit = :bit;

-- name: delete_feature_wishes(channel_id, feature)!
-- One feature's allow/deny bits on one channel (its gate is kept).
DELETE FROM channel_overwrite_wishes WHERE channel_id = :channel_id AND feature = :feature;

-- name: list_overwrite_gates(channel_id)
-- @row GateRole
-- The gates on one channel with the roles each admits (role_id NULL: a gate admitting no role).
SELECT g.feature, r.role_id
FROM channel_overwrite_gates AS g
LEFT JOIN channel_overwrite_gate_roles AS r ON r.channel_id = g.channel_id AND r.feature = g.feature
WHERE g.channel_id = :channel_id
ORDER BY g.feature, r.role_id;

-- name: insert_overwrite_gate(channel_id, feature)!
INSERT INTO channel_overwrite_gates (channel_id, feature) VALUES (:channel_id, :feature)
ON CONFLICT (channel_id, feature) DO NOTHING;

-- name: insert_gate_role(channel_id, feature, role_id)!
INSERT INTO channel_overwrite_gate_roles (channel_id, feature, role_id) VALUES (:channel_id, :feature, :role_id)
ON CONFLICT (channel_id, feature, role_id) DO NOTHING;

-- name: delete_overwrite_gate(channel_id, feature)!
-- Its roles go with it (ON DELETE CASCADE).
DELETE FROM channel_overwrite_gates WHERE channel_id = :channel_id AND feature = :feature;

-- name: list_overwrite_baselines(channel_id)
-- @row OverwriteBaseline
-- The bits as they were before any feature wished something for them.
SELECT target_kind, target_id, bit, allow
FROM channel_overwrite_baselines
WHERE channel_id = :channel_id
ORDER BY target_kind, target_id, bit;

-- name: insert_overwrite_baseline(channel_id, target_kind, target_id, bit, allow)!
INSERT INTO channel_overwrite_baselines (channel_id, target_kind, target_id, bit, allow)
VALUES (:channel_id, :target_kind, :target_id, :bit, :allow)
ON CONFLICT (channel_id, target_kind, target_id, bit) DO NOTHING;

-- name: delete_overwrite_baseline(channel_id, target_kind, target_id, bit)!
DELETE FROM channel_overwrite_baselines
WHERE channel_id = :channel_id AND target_kind = :target_kind AND target_id = :target_id AND bit = :bit;

-- name: delete_channel_overwrites(channel_id)!
-- The channel is gone: every wish, gate and baseline of it.
DELETE FROM channel_overwrite_wishes WHERE channel_id = :channel_id;

-- name: delete_channel_gates(channel_id)!
DELETE FROM channel_overwrite_gates WHERE channel_id = :channel_id;

-- name: delete_channel_baselines(channel_id)!
DELETE FROM channel_overwrite_baselines WHERE channel_id = :channel_id;

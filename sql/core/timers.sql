-- name: schedule_timer(event, key, due_at, payload, created_at)$
-- Arm a timer; re-arming the same (event, key) moves it instead of adding a second one.
INSERT INTO timers (event, key, due_at, payload, created_at)
VALUES (:event, :key, :due_at, :payload, :created_at)
ON CONFLICT (event, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload
RETURNING timer_id;

-- name: cancel_timer(event, key)!
DELETE FROM timers WHERE event = :event AND key = :key;

-- name: list_due_timers(event, now, max_count)
-- @row Timer
-- Timers of one event whose time has come, oldest first.
SELECT timer_id, event, key, due_at, payload, created_at
FROM timers
WHERE event = :event AND due_at <= :now
ORDER BY due_at, timer_id
LIMIT :max_count;

-- name: next_timer_due(event)$
-- When the next timer of this event fires, or None without one.
SELECT MIN(due_at) AS due_at FROM timers WHERE event = :event;

-- name: claim_timer(timer_id)!
-- Deleting the row is the claim: only one caller gets rowcount 1, so a timer fires once.
DELETE FROM timers WHERE timer_id = :timer_id;

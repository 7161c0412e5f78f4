-- name: get_kv(ns, k)$
-- The value stored under (ns, k), or None.
SELECT v FROM kv_store WHERE ns = :ns AND k = :k;

-- name: set_kv(ns, k, v)!
-- Insert or overwrite one key.
INSERT INTO kv_store (ns, k, v) VALUES (:ns, :k, :v)
ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v;


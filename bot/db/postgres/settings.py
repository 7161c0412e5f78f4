"""How one bot process uses PostgreSQL: its connection budget and whether PgBouncer sits in between.

* `DEADLOCK_PG_MAX_CONNECTIONS` (default 8, at least 2): every connection the process opens,
  for writes, reads and shared locks together. Work beyond it waits for a free connection.
  Several processes on one server: processes x budget + reserve <= max_connections.
* `DEADLOCK_PG_PGBOUNCER=1`: the URL points at PgBouncer in transaction pooling mode, so
  nothing may outlive a transaction on the server connection: asyncpg's statement cache is
  off and the schema (`?search_path=` of the URL) is set per transaction.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

DEFAULT_MAX_CONNECTIONS = 8
MIN_MAX_CONNECTIONS = 2  # one for a lock holder's block, one for everything else
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class PgSettings:
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    pgbouncer: bool = False

    def __post_init__(self) -> None:
        if self.max_connections < MIN_MAX_CONNECTIONS:
            raise ValueError(f"DEADLOCK_PG_MAX_CONNECTIONS must be at least {MIN_MAX_CONNECTIONS}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PgSettings:
        env = os.environ if env is None else env
        raw = env.get("DEADLOCK_PG_MAX_CONNECTIONS", "").strip()
        try:
            budget = int(raw) if raw else DEFAULT_MAX_CONNECTIONS
        except ValueError:
            raise ValueError(f"DEADLOCK_PG_MAX_CONNECTIONS must be a number, not {raw!r}") from None
        flag = env.get("DEADLOCK_PG_PGBOUNCER", "").strip().lower()
        if flag not in _TRUE + _FALSE:
            raise ValueError(f"DEADLOCK_PG_PGBOUNCER must be 1 or 0, not {flag!r}")
        return cls(max_connections=budget, pgbouncer=flag in _TRUE)

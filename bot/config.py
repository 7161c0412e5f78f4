"""Settings from the environment, with the old bot's variable names kept for its admins."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_DB_FILE = "deadlock.sqlite3"


def resolve_db_path(cli_value: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """`--db`, else DEADLOCK_DB_PATH, else DEADLOCK_DB_DIR/deadlock.sqlite3, else ./data/deadlock.sqlite3."""
    env = os.environ if env is None else env
    if cli_value:
        return Path(cli_value).expanduser()
    if env.get("DEADLOCK_DB_PATH"):
        return Path(env["DEADLOCK_DB_PATH"]).expanduser()
    if env.get("DEADLOCK_DB_DIR"):
        return Path(env["DEADLOCK_DB_DIR"]).expanduser() / DEFAULT_DB_FILE
    return Path("data") / DEFAULT_DB_FILE


def postgres_url(cli_value: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """A PostgreSQL URL from `--db` or DATABASE_URL, if one was given (else SQLite is used)."""
    env = os.environ if env is None else env
    for value in (cli_value, None if cli_value else env.get("DATABASE_URL")):
        if value and value.startswith(("postgresql://", "postgres://")):
            return value
    return None


def busy_timeout_ms(env: Mapping[str, str] | None = None) -> int:
    """DEADLOCK_DB_BUSY_TIMEOUT_MS (default 15000), as in the old bot."""
    env = os.environ if env is None else env
    raw = env.get("DEADLOCK_DB_BUSY_TIMEOUT_MS", "").strip()
    if not raw:
        return 15_000
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"DEADLOCK_DB_BUSY_TIMEOUT_MS must be a number of milliseconds, not {raw!r}") from None
    if value < 0:
        raise ValueError("DEADLOCK_DB_BUSY_TIMEOUT_MS must not be negative")
    return value


def command_prefix(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("COMMAND_PREFIX", "!") or "!"


def auto_upgrade(disabled_by_flag: bool = False, env: Mapping[str, str] | None = None) -> bool:
    """Upgrade the database at start (after a backup)? Off with --no-auto-upgrade or DEADLOCK_DB_AUTO_UPGRADE=0."""
    env = os.environ if env is None else env
    raw = env.get("DEADLOCK_DB_AUTO_UPGRADE", "1").strip().lower()
    if raw not in ("1", "0", "true", "false", "yes", "no", "on", "off", ""):
        raise ValueError(f"DEADLOCK_DB_AUTO_UPGRADE must be 1 or 0, not {raw!r}")
    return not disabled_by_flag and raw not in ("0", "false", "no", "off")

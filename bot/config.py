"""Settings from the environment, with the old bot's variable names kept for its admins.

Every function here raises `ConfigError` (a ValueError) with a one-line message naming the
setting; the command line turns it into exit code 2.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from bot.db.urls import POSTGRES_SCHEMES, redact_url, scheme_of

DEFAULT_DB_FILE = "deadlock.sqlite3"
DEFAULT_DB_PATH = Path("data") / DEFAULT_DB_FILE

#: A database target: an SQLite file, or a postgresql:// URL (normalized, with its password).
DbTarget = Path | str


class ConfigError(ValueError):
    """A setting or command-line value is wrong; the message names it and says what fits."""


def resolve_db_path(cli_value: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """`--db`, else DEADLOCK_DB_PATH, else DEADLOCK_DB_DIR/deadlock.sqlite3, else ./data/deadlock.sqlite3."""
    env = os.environ if env is None else env
    if cli_value:
        return Path(cli_value).expanduser()
    if env.get("DEADLOCK_DB_PATH"):
        return Path(env["DEADLOCK_DB_PATH"]).expanduser()
    if env.get("DEADLOCK_DB_DIR"):
        return Path(env["DEADLOCK_DB_DIR"]).expanduser() / DEFAULT_DB_FILE
    return DEFAULT_DB_PATH


def old_bot_default_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the old bot kept its file when nothing was configured."""
    env = os.environ if env is None else env
    home = Path(env["USERPROFILE"]) if env.get("USERPROFILE") else Path(env.get("HOME") or Path.home())
    return home / "Documents" / "Deadlock" / "service" / DEFAULT_DB_FILE


def resolve_target(cli_value: str | None = None, env: Mapping[str, str] | None = None) -> DbTarget:
    """The database to use: `--db`, else DATABASE_URL, else the SQLite path variables, else
    ./data/deadlock.sqlite3. A value of a form this bot does not read is refused, never
    replaced by the default."""
    env = os.environ if env is None else env
    if cli_value is not None:
        return parse_target(cli_value, "--db")
    if env.get("DATABASE_URL", "").strip():
        return parse_target(env["DATABASE_URL"], "DATABASE_URL")
    for name in ("DEADLOCK_DB_PATH", "DEADLOCK_DB_DIR"):
        if env.get(name, "").strip() and scheme_of(env[name].strip()):
            raise ConfigError(
                f"{name} is a file path, not a URL ({redact_url(env[name].strip())}): put a URL in DATABASE_URL or --db"
            )
    path = resolve_db_path(None, env)
    if path == DEFAULT_DB_PATH and not path.exists():
        old = old_bot_default_path(env)
        if old.is_file():
            raise ConfigError(
                f"the old bot's database {old} exists but no database is configured, and {path} does not "
                f"exist yet: pass --db {old} to use the old file, or --db {path} to start a new one"
            )
    return path


def parse_target(value: str, source: str) -> DbTarget:
    """A database given as a path, `sqlite:///path`, or a PostgreSQL URL (postgres://,
    postgresql://, postgresql+asyncpg://); anything else is refused with a one-line reason."""
    value = value.strip()
    if not value:
        raise ConfigError(f"{source} is empty: give a file path or a postgresql://user@host/database URL")
    scheme = scheme_of(value)
    if scheme is None:
        return Path(value).expanduser()
    if scheme in POSTGRES_SCHEMES:
        return _postgres_url(value, source)
    if scheme == "sqlite":
        return _sqlite_url(value, source)
    raise ConfigError(
        f"{source}: {scheme}:// is not a database this bot can use ({redact_url(value)}); "
        "give a file path, sqlite:///path or postgresql://user@host/database"
    )


def _sqlite_url(value: str, source: str) -> Path:
    rest = value.split("://", 1)[1] if "://" in value else ""
    if not rest.startswith("/") or "?" in rest or len(rest) < 2:
        raise ConfigError(
            f"{source}: {value!r} is not an SQLite URL this bot reads: use sqlite:///relative/file.sqlite3 "
            "or sqlite:////absolute/file.sqlite3 (or just the path)"
        )
    return Path(urllib.parse.unquote(rest[1:])).expanduser()  # sqlite:///x -> x, sqlite:////x -> /x


def _postgres_url(value: str, source: str) -> str:
    url = "postgresql://" + value.split("://", 1)[1]
    shown = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise ConfigError(f"{source}: the port in {shown} is not a number from 1 to 65535") from None
    query = dict(urllib.parse.parse_qsl(parts.query))
    if not host and not query.get("host"):
        raise ConfigError(f"{source}: {shown} names no server; write postgresql://user@host/database")
    if not parts.path.strip("/") and not query.get("dbname"):
        raise ConfigError(f"{source}: {shown} names no database; write postgresql://user@host/database")
    if port == 0:
        raise ConfigError(f"{source}: the port in {shown} is not a number from 1 to 65535")
    return url


def busy_timeout_ms(env: Mapping[str, str] | None = None) -> int:
    """DEADLOCK_DB_BUSY_TIMEOUT_MS (default 15000), as in the old bot."""
    env = os.environ if env is None else env
    raw = env.get("DEADLOCK_DB_BUSY_TIMEOUT_MS", "").strip()
    if not raw:
        return 15_000
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"DEADLOCK_DB_BUSY_TIMEOUT_MS must be a number of milliseconds, not {raw!r}") from None
    if value < 0:
        raise ConfigError("DEADLOCK_DB_BUSY_TIMEOUT_MS must not be negative")
    return value


def command_prefix(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("COMMAND_PREFIX", "!") or "!"


def auto_upgrade(disabled_by_flag: bool = False, env: Mapping[str, str] | None = None) -> bool:
    """Upgrade the database at start (after a backup)? Off with --no-auto-upgrade or DEADLOCK_DB_AUTO_UPGRADE=0."""
    env = os.environ if env is None else env
    raw = env.get("DEADLOCK_DB_AUTO_UPGRADE", "1").strip().lower()
    if raw not in ("1", "0", "true", "false", "yes", "no", "on", "off", ""):
        raise ConfigError(f"DEADLOCK_DB_AUTO_UPGRADE must be 1 or 0, not {raw!r}")
    return not disabled_by_flag and raw not in ("0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class ShardSettings:
    """discord.py sharding: `count` shards in all; this process runs `ids` (None: all of them)."""

    count: int
    ids: tuple[int, ...] | None = None


def shard_settings(env: Mapping[str, str] | None = None) -> ShardSettings | None:
    """SHARD_COUNT (and SHARD_IDS, e.g. "0,1"): N processes split the guilds. None: no sharding."""
    env = os.environ if env is None else env
    raw_count, raw_ids = env.get("SHARD_COUNT", "").strip(), env.get("SHARD_IDS", "").strip()
    if not raw_count:
        if raw_ids:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (how many shards there are in all)")
        return None
    if not raw_count.isdigit() or int(raw_count) < 1:
        raise ValueError(f"SHARD_COUNT must be a positive number, not {raw_count!r}")
    count = int(raw_count)
    if not raw_ids:
        return ShardSettings(count)
    parts = [p.strip() for p in raw_ids.split(",")]
    if not all(p.isdigit() and int(p) < count for p in parts):
        raise ValueError(f"SHARD_IDS must be numbers from 0 to {count - 1} separated by commas, not {raw_ids!r}")
    return ShardSettings(count, tuple(sorted({int(p) for p in parts})))

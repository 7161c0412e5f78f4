"""The discord.py bot: owns the database for its whole life and hands it to the features.

Start-up (run_bot): check every setting of every feature, lock the SQLite file, refuse a
damaged, read-only or incomplete file, open and fully migrate the database, and only then
log in to Discord; setup_hook loads the feature extensions.
Shutdown (close, also on SIGTERM/SIGINT) is staged (bot/discord_glue/shutdown.py): no new
gateway events are handled, the work in flight finishes (at most 8 s), the features unload,
Discord is closed, then the database, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.config import ConfigError, ShardSettings, command_prefix, shard_settings
from bot.db import Database, DatabaseError
from bot.db.engines import migrate, missing_tables, open_database
from bot.db.preflight import SchemaIncompleteError, inspect, require_complete, require_writable
from bot.db.sqlite.instance_lock import InstanceLock
from bot.db.sqlite.migrations import latest_version
from bot.discord_glue import errors
from bot.discord_glue.adapter import DiscordPort
from bot.discord_glue.command_sync import sync_if_changed
from bot.discord_glue.shutdown import EventGate, staged_shutdown
from bot.metrics.collectors import instrument_http, timed_event
from bot.metrics.server import MetricsServer, metrics_address
from bot.shared.deps import Deps
from bot.shared.overwrites import OverwriteComposer
from bot.shared.rank_resolver import RankResolver
from bot.shared.rename import RenameScheduler
from bot.shared.runtime_tuning import freeze_startup_objects
from bot.shared.settings import rank_roles
from bot.shared.timers import TimerService

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

#: The features, each a package whose `feature` module registers it with `setup(bot)`;
#: a feature that is not configured logs how to turn it on and adds nothing.
FEATURES: tuple[str, ...] = (
    "bot.features.tempvoice.feature",
    "bot.features.rank_voice.feature",
    "bot.features.voice_status.feature",
    "bot.features.coaching.feature",
    "bot.features.balancer.feature",
)


def _settings_checks() -> tuple[Callable[[], object], ...]:
    """Every feature's settings function: each reads its variables and raises ValueError on a wrong one."""
    from bot.features.balancer.settings import balancer_config
    from bot.features.coaching.settings import claim_notifier, coaching_enabled
    from bot.features.rank_voice.settings import rank_voice_config
    from bot.features.tempvoice.settings import tempvoice_config
    from bot.features.voice_status.settings import voice_status_config

    def coaching() -> object:
        return claim_notifier() if coaching_enabled() else None

    return (
        command_prefix,
        shard_settings,
        metrics_address,
        rank_roles,
        tempvoice_config,
        rank_voice_config,
        voice_status_config,
        coaching,
        balancer_config,
    )


def validate_settings() -> None:
    """Read every feature's settings now, so a wrong one stops the start before the database
    is opened or Discord contacted (the features read them again when they load)."""
    for check in _settings_checks():
        try:
            check()
        except ConfigError:
            raise
        except ValueError as e:
            raise ConfigError(str(e)) from e


class DeadlockBot(commands.Bot):
    def __init__(self, db: Database, *, auto_upgrade: bool = True, shards: ShardSettings | None = None) -> None:
        # the bot plays no audio: no "PyNaCl/davey is not installed" warnings at start
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        intents.members = True
        intents.voice_states = True
        intents.message_content = True
        super().__init__(
            command_prefix=command_prefix(),
            intents=intents,
            case_insensitive=True,
            # never sleep minutes inside a handler on a rate limit (renames): fail fast instead
            max_ratelimit_timeout=30.0,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,  # discord.py's is English; `!balance` and `!rrang` explain themselves
            **_sharding(shards),
        )
        errors.install(self.tree)
        self.db = db
        self.auto_upgrade = auto_upgrade
        self.timers = TimerService(db)
        self.port = DiscordPort(self)
        self.renamer = RenameScheduler(db, self.port, self.port, ready=self.wait_until_ready)
        self.ranks = RankResolver(db, self.port, rank_roles())  # rank voice and the balancer share it
        self.overwrites = OverwriteComposer(db, self.port, self.port)
        self.deps = Deps(
            db=db, actions=self.port, view=self.port, renamer=self.renamer, overwrites=self.overwrites,
            timers=self.timers, ranks=self.ranks,
        )  # fmt: skip
        self.metrics: MetricsServer | None = None
        self.gate = EventGate()
        self.gate.install(self._connection.parsers)  # every shard's websocket parses through it
        self._shutdown: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        await prepare_database(self.db, auto_upgrade=self.auto_upgrade)  # done already when run_bot started us
        await self.load_features()
        await self.renamer.load()  # the names' parts and the rename budget from before the restart
        await sync_if_changed(self.tree, self.db)  # only when the slash commands changed since the last sync
        self.renamer.start()
        self.timers.start()
        await self._start_metrics()
        freeze_startup_objects()

    async def on_ready(self) -> None:
        # after every start and fresh IDENTIFY: from here the cache holds the guilds, loops run passes
        log.info("ready as %s: %d guild(s)", self.user, len(self.guilds))

    async def on_command_error(self, ctx: commands.Context[Any], error: commands.CommandError, /) -> None:
        """The one error path of every prefix and hybrid command (bot/discord_glue/errors.py)."""
        await errors.on_command_error(ctx, error)

    async def load_features(self) -> None:
        for feature in FEATURES:
            await self.load_extension(feature)

    async def _start_metrics(self) -> None:
        """METRICS_ADDR=host:port: /metrics and /healthz (off by default)."""
        address = metrics_address()
        if address is None:
            return
        instrument_http(self.http)
        self.metrics = MetricsServer(
            self.db,
            lambda: self.is_ready() and not self.is_closed() and self.gate.open,
            host=address[0],
            port=address[1],
        )
        await self.metrics.start()

    async def _run_event(
        self, coro: Callable[..., Coroutine[Any, Any, Any]], event_name: str, *args: Any, **kwargs: Any
    ) -> None:
        await timed_event(super()._run_event(coro, event_name, *args, **kwargs), coro, event_name)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        if self.gate.muted:
            return  # a gateway event arriving during the shutdown starts no handler
        super().dispatch(event_name, *args, **kwargs)

    async def close(self) -> None:
        """The staged shutdown (bot/discord_glue/shutdown.py); a second call waits for the first."""
        if self._shutdown is None:
            self._shutdown = asyncio.create_task(
                staged_shutdown(
                    self.gate,
                    stop_features=self._stop_features,
                    close_discord=super().close,
                    close_database=self.db.close,
                    closer=asyncio.current_task(),  # a command closing the bot is not waited for
                ),
                name="deadlock-bot shutdown",
            )
        await asyncio.shield(self._shutdown)

    async def _stop_features(self) -> None:
        for ext in list(self.extensions):
            try:
                await self.unload_extension(ext)
            except Exception:  # one broken feature must not keep the database open
                log.exception("unloading %s failed", ext)
        await self.timers.stop()
        await self.renamer.stop()
        if self.metrics is not None:
            await self.metrics.stop()


def _sharding(shards: ShardSettings | None) -> dict[str, Any]:
    if shards is None:
        return {}
    return {"shard_count": shards.count, "shard_ids": list(shards.ids) if shards.ids is not None else None}


class ShardedDeadlockBot(DeadlockBot, commands.AutoShardedBot):
    """The bot on the shards SHARD_IDS of SHARD_COUNT (all of them when only the count is given)."""


async def prepare_database(db: Database, *, auto_upgrade: bool) -> None:
    """Open the database and bring it to the current schema (backup first), or refuse when
    automatic upgrades are off and it is behind. Idempotent: a second call finds nothing to do."""
    await db.open()
    if auto_upgrade:
        log.info("%s", await migrate(db))
        return
    version = await db.user_version()
    if version != latest_version():
        raise DatabaseError(
            f"{db.location} is at schema version {version}, this bot needs {latest_version()}; "
            "automatic upgrades are off: run `deadlock-bot db upgrade` (it takes a backup first)"
        )
    missing = await missing_tables(db)
    if missing:
        raise SchemaIncompleteError(
            f"{db.location} is at schema version {version} but lacks the table(s) {', '.join(missing)}: "
            "run `deadlock-bot db upgrade` (it re-creates them after a backup)"
        )


async def run_bot(token: str, target: Path | str, *, busy_timeout_ms: int, auto_upgrade: bool = True) -> None:
    """Run the bot on an SQLite file (a path) or a PostgreSQL server (a postgresql:// URL).

    In this order: every setting is checked; an SQLite file is locked for this one process
    and refused when it is damaged, read-only or lacks tables at the current version (the
    file stays as it was); the database is opened and fully migrated; then Discord is
    contacted. A failed login leaves a migrated database behind, never a half-made one."""
    validate_settings()
    async with contextlib.AsyncExitStack() as stack:
        lock = None
        if isinstance(target, Path):
            lock = InstanceLock(target)
            await asyncio.to_thread(lock.acquire)
            stack.push_async_callback(asyncio.to_thread, lock.release)
            await asyncio.to_thread(_check_file, target, busy_timeout_ms)
        db = open_database(target, busy_timeout_ms=busy_timeout_ms)
        stack.push_async_callback(db.close)
        await prepare_database(db, auto_upgrade=auto_upgrade)
        if lock is not None:
            await asyncio.to_thread(lock.lock_database_file)  # a file created just now
        shards = shard_settings()
        bot = (ShardedDeadlockBot if shards else DeadlockBot)(db, auto_upgrade=auto_upgrade, shards=shards)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        async with bot:
            await bot.start(token)


def _check_file(path: Path, busy_timeout_ms: int) -> None:
    """An existing file must be undamaged, writable and complete at its version."""
    if not path.exists():
        return
    require_writable(path)
    facts = inspect(path, busy_timeout_ms=busy_timeout_ms)
    require_complete(facts, latest_version())

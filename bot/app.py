"""The discord.py bot: owns the database for its whole life and hands it to the features.

Startup (setup_hook): open the database, upgrade it (backup first), load the feature
extensions. Shutdown (close, also on SIGTERM/SIGINT): unload the features, then close
the database exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import discord
from discord.ext import commands

from bot.adapters.discord_port import DiscordPort
from bot.cogs.balancer import BalancerCog
from bot.cogs.coaching import CoachingCog, DiscordCoachingUI
from bot.cogs.rank_voice import RankVoiceCog
from bot.cogs.tempvoice import TempVoiceCog
from bot.cogs.voice_status import VoiceStatusCog
from bot.config import command_prefix
from bot.db import Database, DatabaseError
from bot.db.engines import migrate, open_database
from bot.db.migrations import latest_version
from bot.feature_config import (
    balancer_config,
    claim_notifier,
    coaching_enabled,
    rank_roles,
    rank_voice_config,
    tempvoice_config,
    voice_status_config,
)
from bot.instance_lock import InstanceLock
from bot.runtime_tuning import freeze_startup_objects
from bot.services.balancer import MatchService
from bot.services.coaching import CoachingService
from bot.services.coordination import LeaseKeeper
from bot.services.rank_voice import RankVoiceService
from bot.services.ranks import RankResolver
from bot.services.rename import RenameScheduler
from bot.services.tempvoice import LaneService
from bot.services.timers import TimerService
from bot.services.voice_status import VoiceStatusService

log = logging.getLogger(__name__)

#: Extra extensions (modules with a `setup(bot)`), loaded after the built-in features.
EXTENSIONS: tuple[str, ...] = ()


class DeadlockBot(commands.Bot):
    def __init__(self, db: Database, *, auto_upgrade: bool = True) -> None:
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
        )
        self.db = db
        self.auto_upgrade = auto_upgrade
        self.timers = TimerService(db)
        self.port = DiscordPort(self)
        self.renamer = RenameScheduler(self.port, self.port)

    async def setup_hook(self) -> None:
        await self.db.open()
        if self.auto_upgrade:
            log.info("%s", await migrate(self.db))
        else:
            version = await self.db.user_version()
            if version != latest_version():
                raise DatabaseError(
                    f"{self.db.location} is at schema version {version}, this bot needs {latest_version()}; "
                    "automatic upgrades are off: run `deadlock-bot db upgrade` (it takes a backup first)"
                )
        await self._add_features()
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        self.renamer.start()
        self.timers.start()
        freeze_startup_objects()

    async def _add_features(self) -> None:
        """Build each configured feature's service and cog (services get their dependencies passed in)."""
        tempvoice = tempvoice_config()
        if tempvoice is None:
            log.info("TempVoice is off: set TEMPVOICE_STAGING_CHANNEL_IDS to turn it on")
        else:
            service = LaneService(self.db, self.port, self.port, self.renamer, tempvoice)
            cog = TempVoiceCog(self, service)
            self.port.panel_factory = cog.panel
            await self.add_cog(cog)
        ranks = RankResolver(self.db, self.port, rank_roles())
        rank_voice = rank_voice_config()
        if rank_voice is None:
            log.info("rank voice is off: set RANKVOICE_RANKED_CATEGORY_IDS / RANKVOICE_GRIND_CATEGORY_IDS")
        else:
            await self.add_cog(
                RankVoiceCog(self, RankVoiceService(self.db, self.port, self.port, self.renamer, ranks, rank_voice))
            )
        voice_status = voice_status_config()
        if voice_status is None:
            log.info("voice status is off: set VOICE_STATUS_CATEGORY_IDS")
        else:
            # a guild's pass runs in one process; a crashed holder's lease runs out after 3 passes
            leases = LeaseKeeper(self.db, ttl_seconds=3 * voice_status.interval_seconds)
            status = VoiceStatusService(self.db, self.port, self.renamer, voice_status, leases=leases)
            await self.add_cog(VoiceStatusCog(self, status))
        if coaching_enabled():
            coaching = CoachingService(self.db, DiscordCoachingUI(self), self.timers, claim_notifier())
            await self.add_cog(CoachingCog(self, coaching))
        else:
            log.info("match coaching is off: set COACHING_ENABLED=1")
        balancer = balancer_config()
        if balancer is None:
            log.info("the balancer is off: set BALANCER_MATCH_CATEGORY_IDS")
        else:
            await self.add_cog(
                BalancerCog(self, MatchService(self.db, self.port, self.port, ranks, self.timers, balancer))
            )

    async def close(self) -> None:
        log.info("shutting down")
        for ext in list(self.extensions):
            try:
                await self.unload_extension(ext)
            except Exception:  # one broken feature must not keep the database open
                log.exception("unloading %s failed", ext)
        await self.timers.stop()
        await self.renamer.stop()
        await super().close()
        await self.db.close()


async def run_bot(token: str, target: Path | str, *, busy_timeout_ms: int, auto_upgrade: bool = True) -> None:
    """Run the bot on an SQLite file (a path) or a PostgreSQL server (a postgresql:// URL).

    The database is opened before Discord is contacted: a wrong path, a corrupt file or an
    unreachable server is reported at once. An SQLite file is locked for this one process."""
    async with contextlib.AsyncExitStack() as stack:
        if isinstance(target, Path):
            lock = InstanceLock(target)
            await asyncio.to_thread(lock.acquire)
            stack.push_async_callback(asyncio.to_thread, lock.release)
        db = open_database(target, busy_timeout_ms=busy_timeout_ms)
        stack.push_async_callback(db.close)
        await db.open()
        bot = DeadlockBot(db, auto_upgrade=auto_upgrade)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        async with bot:
            await bot.start(token)

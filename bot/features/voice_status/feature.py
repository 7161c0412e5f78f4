"""The live voice status: registered with the bot through `setup()` (a discord.py extension)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features.voice_status.cog import VoiceStatusCog
from bot.features.voice_status.service import VoiceStatusService
from bot.features.voice_status.settings import voice_status_config
from bot.shared.coordination import LeaseKeeper

if TYPE_CHECKING:
    from bot.app import DeadlockBot

log = logging.getLogger(__name__)


async def setup(bot: DeadlockBot) -> None:
    config = voice_status_config()
    if config is None:
        log.info("voice status is off: set VOICE_STATUS_CATEGORY_IDS")
        return
    # a guild's pass runs in one process; a crashed holder's lease runs out after 3 passes
    leases = LeaseKeeper(bot.db, ttl_seconds=3 * config.interval_seconds)
    service = VoiceStatusService(bot.deps, config, leases=leases)
    await bot.add_cog(VoiceStatusCog(bot, service))

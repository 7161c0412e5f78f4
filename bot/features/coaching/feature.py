"""Match coaching: registered with the bot through `setup()` (a discord.py extension)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features.coaching.cog import CoachingCog, DiscordCoachingUI
from bot.features.coaching.service import CoachingService
from bot.features.coaching.settings import claim_notifier, coaching_enabled

if TYPE_CHECKING:
    from bot.app import DeadlockBot

log = logging.getLogger(__name__)


async def setup(bot: DeadlockBot) -> None:
    if not coaching_enabled():
        log.info("match coaching is off: set COACHING_ENABLED=1")
        return
    service = CoachingService(bot.deps, DiscordCoachingUI(bot), claim_notifier())
    await bot.add_cog(CoachingCog(bot, service))

"""Rank-anchored voice channels: registered with the bot through `setup()` (a discord.py extension)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features.rank_voice.cog import RankVoiceCog
from bot.features.rank_voice.service import RankVoiceService
from bot.features.rank_voice.settings import rank_voice_config

if TYPE_CHECKING:
    from bot.app import DeadlockBot

log = logging.getLogger(__name__)


async def setup(bot: DeadlockBot) -> None:
    config = rank_voice_config()
    if config is None:
        log.info("rank voice is off: set RANKVOICE_RANKED_CATEGORY_IDS / RANKVOICE_GRIND_CATEGORY_IDS")
        return
    service = RankVoiceService(bot.deps, config)
    await bot.add_cog(RankVoiceCog(bot, service))

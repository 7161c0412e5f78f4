"""TempVoice lanes: registered with the bot through `setup()` (a discord.py extension)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features.tempvoice.access_service import LaneAccessService
from bot.features.tempvoice.cog import TempVoiceCog
from bot.features.tempvoice.owner_cog import LaneCommands, LanePanel, owner_picks
from bot.features.tempvoice.owner_service import LaneOwnerService
from bot.features.tempvoice.service import LaneService
from bot.features.tempvoice.settings import owner_actions_config, tempvoice_config

if TYPE_CHECKING:
    from bot.app import DeadlockBot

log = logging.getLogger(__name__)


async def setup(bot: DeadlockBot) -> None:
    config = tempvoice_config()
    if config is None:
        log.info("TempVoice is off: set TEMPVOICE_STAGING_CHANNEL_IDS to turn it on")
        return
    service = LaneService(bot.deps, config)
    access = LaneAccessService(service, owner_actions_config())
    owner = LaneOwnerService(service, access)  # also the lanes' hooks: presets, access of new owners
    cog = TempVoiceCog(bot, service, LanePanel(service, access, owner))
    bot.port.panel_factory = cog.panel
    await bot.add_cog(cog)
    await bot.add_cog(LaneCommands(access, owner))
    for view in owner_picks(access, owner):  # the panel's selects keep answering after a timeout or restart
        bot.add_view(view)

"""The team balancer: registered with the bot through `setup()` (a discord.py extension)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.features.balancer.cog import BalancerCog
from bot.features.balancer.history import HistoryService
from bot.features.balancer.results import ResultService
from bot.features.balancer.service import MatchService
from bot.features.balancer.settings import balancer_config

if TYPE_CHECKING:
    from bot.app import DeadlockBot

log = logging.getLogger(__name__)


async def setup(bot: DeadlockBot) -> None:
    config = balancer_config()
    if config is None:
        log.info("the balancer is off: set BALANCER_MATCH_CATEGORY_IDS")
        return
    service = MatchService(bot.deps, config)
    results = ResultService(bot.deps, service.is_host)
    history = HistoryService(bot.deps.db, rated_games=config.rated_games)
    await bot.add_cog(BalancerCog(bot, service, results=results, history=history))

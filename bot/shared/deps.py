"""What every feature's service is built from: one object instead of six parameters each."""

from __future__ import annotations

import dataclasses

from bot.db import Database
from bot.discord_glue.ports import DiscordActions, GuildView
from bot.shared.clock import Clock, SystemClock
from bot.shared.overwrites import OverwriteComposer
from bot.shared.rank_resolver import RankResolver
from bot.shared.rename import RenameScheduler
from bot.shared.timers import TimerService


@dataclasses.dataclass(frozen=True, kw_only=True)
class Deps:
    """The bot's shared pieces; a service takes what it needs from here."""

    db: Database
    actions: DiscordActions  # Discord side effects
    view: GuildView  # reads from Discord's cache
    renamer: RenameScheduler  # every channel rename goes through it (2 per channel per 10 minutes)
    overwrites: OverwriteComposer  # every connect/view bit goes through it (features' wishes merged)
    timers: TimerService
    ranks: RankResolver
    clock: Clock = dataclasses.field(default_factory=SystemClock)

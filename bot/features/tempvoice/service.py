"""TempVoice: personal voice lanes, created by joining a staging channel.

The service routes Discord's events to its parts, one module per responsibility:

* `lanes.py`     the shared state (dependencies, lane locks) and operations on one lane;
* `creation.py`  a member joins a staging channel: a lane is created and they are moved in;
* `life.py`      joins, leaves, owner succession, bans on rejoin, deletion;
* `reconcile.py` bringing a guild's lanes in line with Discord (at start, then periodically);
* `actions.py`   what the panel's buttons do (`service.panel`), answering with a German text
                 or raising `UserError` with the refusal.

Pure rules (names, numbers, limits, templates) are in `rules.py`.
"""

from __future__ import annotations

from bot.discord_glue.ports import VoiceMove
from bot.features.tempvoice.actions import PanelActions
from bot.features.tempvoice.creation import LaneCreator
from bot.features.tempvoice.lanes import Lanes, TempVoiceConfig
from bot.features.tempvoice.life import LaneLife
from bot.features.tempvoice.reconcile import Reconciler
from bot.shared.deps import Deps

__all__ = ["LaneService", "TempVoiceConfig"]


class LaneService:
    def __init__(self, deps: Deps, config: TempVoiceConfig) -> None:
        self.lanes = Lanes(deps, config)
        self.creator = LaneCreator(self.lanes)
        self.life = LaneLife(self.lanes)
        self.reconciler = Reconciler(self.lanes, self.life)
        self.panel = PanelActions(self.lanes, self.life, self.creator)
        deps.renamer.on_renamed(self.life.renamed)

    @property
    def config(self) -> TempVoiceConfig:
        return self.lanes.config

    @property
    def claimer(self) -> str:
        """This service's name in creation claims (several bot processes may share one database)."""
        return self.lanes.claimer

    async def on_voice_move(self, move: VoiceMove) -> None:
        if move.before == move.after:
            return  # mute, deafen, stream or video toggles are not moves
        member = self.lanes.view.member(move.guild_id, move.member_id)
        if member is not None and member.is_bot:
            return
        if move.before is not None and move.before not in self.config.staging_channel_ids:
            await self.life.left(move.guild_id, move.before, move.member_id)  # a staging channel is never a lane
        if move.after is not None:
            if move.after in self.config.staging_channel_ids:
                await self.creator.create(move.guild_id, move.member_id, move.after)
            else:
                await self.life.joined(move.guild_id, move.after, move.member_id)

    async def on_channel_deleted(self, channel_id: int) -> None:
        await self.life.channel_deleted(channel_id)

    async def on_member_join(self, guild_id: int, member_id: int) -> None:
        await self.life.member_joined_guild(guild_id, member_id)

    async def reconcile(self, guild_id: int) -> int:
        return await self.reconciler.reconcile(guild_id)

    async def restore(self, guild_id: int) -> int:
        """At start: reconcile, then re-edit every lane's panel so the owner it shows is current."""
        return await self.reconciler.restore(guild_id)

    @property
    def lock_count(self) -> int:
        """Locks currently held or awaited (they are dropped when free: no unbounded maps)."""
        return self.creator.lock_count + self.lanes.locks.size

"""Rank-anchored voice channels: the first joiner of an empty channel fixes who may join.

In the configured ranked (+-1) and grind (+-2) categories, the first member to join an
empty channel anchors it: @everyone loses connect, rank roles inside the window get it,
nobody already inside is moved. Only the connect bit of each overwrite is changed (view and
every other bit stay), and the @everyone connect bit from before the anchor is remembered
and put back when the channel empties. The name shows the window as a part given to the
shared rename scheduler. Anchors and the per-channel on/off switch live in the database,
so a restart restores them.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.db.queries import Anchor, queries
from bot.discord_glue.ports import (
    MemberInfo,
    VoiceMove,
)
from bot.features.rank_voice import texts
from bot.features.rank_voice.rules import Mode, name_part, window
from bot.shared.clock import legacy_timestamp
from bot.shared.common import Reply, humans_in
from bot.shared.coordination import CHANNEL_LOCKS, SharedLocks
from bot.shared.deps import Deps
from bot.shared.ranks import RANK_NAMES

log = logging.getLogger(__name__)
T = texts.RankVoice
GATE = "rank_voice"  # its name in the overwrite composer
REASON = "Rang-Sprachkanal"


@dataclasses.dataclass(frozen=True)
class RankVoiceConfig:
    ranked_category_ids: frozenset[int] = frozenset()
    grind_category_ids: frozenset[int] = frozenset()
    excluded_channel_ids: frozenset[int] = frozenset()


class RankVoiceService:
    def __init__(self, deps: Deps, config: RankVoiceConfig) -> None:
        self.db = deps.db
        self.actions = deps.actions
        self.view = deps.view
        self.renamer = deps.renamer
        self.overwrites = deps.overwrites
        self.ranks = deps.ranks
        self.config = config
        self.clock = deps.clock
        # a channel's events one at a time, also across processes sharing the database
        self._locks = SharedLocks(deps.db, CHANNEL_LOCKS)

    def mode_of(self, channel_id: int) -> Mode | None:
        channel = self.view.channel(channel_id)
        if channel is None or channel_id in self.config.excluded_channel_ids:
            return None
        if channel.category_id in self.config.ranked_category_ids:
            return Mode.RANKED
        if channel.category_id in self.config.grind_category_ids:
            return Mode.GRIND
        return None

    async def is_enabled(self, channel_id: int) -> bool:
        async with self.db.read() as conn:
            return (await queries.rank_voice.get_channel_enabled(conn, channel_id=channel_id)) != 0

    # -- voice events ------------------------------------------------------------------

    async def on_voice_move(self, move: VoiceMove) -> None:
        if move.before == move.after:
            return
        if move.before is not None and self.mode_of(move.before) is not None:
            async with self._locks(move.before):
                if not humans_in(self.view, move.before):
                    await self._release(move.before)
        if move.after is not None and self.mode_of(move.after) is not None:
            async with self._locks(move.after):
                if await self.is_enabled(move.after):
                    async with self.db.read() as conn:
                        anchor = await queries.rank_voice.get_anchor(conn, channel_id=move.after)
                    if anchor is None:
                        await self._anchor(move.guild_id, move.after, move.member_id)

    async def on_channel_deleted(self, channel_id: int) -> None:
        async with self.db.transaction() as conn:
            await queries.rank_voice.delete_anchor(conn, channel_id=channel_id)
            await queries.rank_voice.delete_channel_settings(conn, channel_id=channel_id)
        await self.renamer.forget(channel_id)
        await self.overwrites.forget_channel(channel_id)

    # -- anchoring -------------------------------------------------------------------

    def _rank_roles(self, guild_id: int) -> list[tuple[int, int]]:
        """(role id, rank value) of every rank role of the guild."""
        out = []
        for role in self.view.roles(guild_id):
            value = self.ranks.rank_roles.rank_of_role(role.id, role.name)
            if value:
                out.append((role.id, value))
        return out

    async def _anchor(self, guild_id: int, channel_id: int, member_id: int) -> Anchor | None:
        mode = self.mode_of(channel_id)
        channel = self.view.channel(channel_id)
        if mode is None or channel is None:
            return None
        rank = await self.ranks.rank_of(guild_id, member_id)
        low, high = window(rank.value, mode)
        async with self.db.transaction() as conn:
            await queries.rank_voice.upsert_anchor(
                conn, channel_id=channel_id, guild_id=guild_id, user_id=member_id, rank_name=rank.name,
                rank_value=rank.value, anchor_subrank=rank.subtier, allowed_min=low, allowed_max=high,
                score_min=None, score_max=None, updated_at=legacy_timestamp(self.clock),
            )  # fmt: skip
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=channel_id)
        admitted = [role_id for role_id, value in self._rank_roles(guild_id) if low <= value <= high]
        await self.overwrites.set_gate(channel_id, GATE, admitted, reason=REASON)
        await self.renamer.set_part(channel_id, "rank", name_part(rank.value, low, high))
        return anchor

    async def _release(self, channel_id: int) -> None:
        """Nobody left (or switched off): forget the anchor, give the connect bits back."""
        async with self.db.transaction() as conn:
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=channel_id)
            await queries.rank_voice.delete_anchor(conn, channel_id=channel_id)
        if anchor is None:
            return
        await self.overwrites.set_gate(channel_id, GATE, None, reason=REASON)  # the baselines come back
        await self.renamer.set_part(channel_id, "rank", None)

    async def restore(self, guild_id: int) -> int:
        """At startup (once the guild is available): anchors of vanished or empty channels go,
        the others get their name part back. Returns how many anchors were removed."""
        async with self.db.read() as conn:
            anchors = await queries.rank_voice.list_anchors(conn, guild_id=guild_id)
        removed = 0
        for anchor in anchors:
            async with self._locks(anchor.channel_id):
                if self.view.channel(anchor.channel_id) is None:
                    await self.on_channel_deleted(anchor.channel_id)
                    removed += 1
                elif not humans_in(self.view, anchor.channel_id) or not await self.is_enabled(anchor.channel_id):
                    await self._release(anchor.channel_id)
                    removed += 1
                else:
                    await self.renamer.set_part(
                        anchor.channel_id, "rank", name_part(anchor.rank_value, anchor.allowed_min, anchor.allowed_max)
                    )
        return removed

    # -- commands ----------------------------------------------------------------------

    @staticmethod
    def _may_configure(member: MemberInfo | None) -> bool:
        return member is not None and (member.manage_channels or member.manage_guild or member.administrator)

    async def set_enabled(self, guild_id: int, actor_id: int, channel_id: int, enabled: bool) -> Reply:
        if not self._may_configure(self.view.member(guild_id, actor_id)):
            return Reply(False, T.NO_PERMISSION)
        if self.mode_of(channel_id) is None:
            return Reply(False, T.NOT_MANAGED)
        async with self._locks(channel_id):
            async with self.db.transaction() as conn:
                await queries.rank_voice.set_channel_enabled(
                    conn,
                    channel_id=channel_id,
                    guild_id=guild_id,
                    enabled=int(enabled),
                    updated_at=legacy_timestamp(self.clock),
                )
            if not enabled:
                await self._release(channel_id)  # @everyone gets its connect bit back too
            else:
                humans = humans_in(self.view, channel_id)
                if humans:
                    await self._anchor(guild_id, channel_id, humans[0])
        return Reply(True, T.ENABLED if enabled else T.DISABLED)

    async def refresh(self, guild_id: int, actor_id: int, channel_id: int) -> Reply:
        """`!rrang aktualisieren`: anchor again on the first member in the channel."""
        if not self._may_configure(self.view.member(guild_id, actor_id)):
            return Reply(False, T.NO_PERMISSION)
        if self.mode_of(channel_id) is None:
            return Reply(False, T.NOT_MANAGED)
        async with self._locks(channel_id):
            await self._release(channel_id)
            humans = humans_in(self.view, channel_id)
            if humans and await self.is_enabled(channel_id):
                anchor = await self._anchor(guild_id, channel_id, humans[0])
                if anchor is not None:
                    return Reply(True, T.REFRESHED.format(rank=anchor.rank_name, low=RANK_NAMES[anchor.allowed_min],
                                                          high=RANK_NAMES[anchor.allowed_max]))  # fmt: skip
        return Reply(True, T.REFRESHED_EMPTY)

    async def describe_channel(self, channel_id: int) -> str:
        mode = self.mode_of(channel_id)
        if mode is None:
            return T.NOT_MANAGED
        async with self.db.read() as conn:
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=channel_id)
        state = T.STATE_ON if await self.is_enabled(channel_id) else T.STATE_OFF
        if anchor is None:
            return T.CHANNEL_FREE.format(mode=mode.name.lower(), state=state)
        return T.CHANNEL_ANCHORED.format(
            mode=mode.name.lower(), state=state, rank=anchor.rank_name,
            low=RANK_NAMES[anchor.allowed_min], high=RANK_NAMES[anchor.allowed_max], user=anchor.user_id,
        )  # fmt: skip

    async def list_anchors(self, guild_id: int) -> list[Anchor]:
        async with self.db.read() as conn:
            return await queries.rank_voice.list_anchors(conn, guild_id=guild_id)

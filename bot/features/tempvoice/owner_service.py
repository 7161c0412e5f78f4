"""A lane owner's own actions: rename, reject (and un-ban), transfer, and a preset for the next lane.

Built on LaneService (its per-lane locks, owner checks, bans and transfer) and on
LaneAccessService (lock, hide, trust). It is also LaneService's hook: a new lane gets the
owner's preset, a new owner gets their trusted list and lock exceptions.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.db.queries import Lane, LanePreset, queries
from bot.discord_glue.ports import MemberInfo, PortError
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import AccessState
from bot.features.tempvoice.access_service import LaneAccessService
from bot.features.tempvoice.lanes import REASON, LaneHooks
from bot.features.tempvoice.names import NameProblem, NameRefused, is_numbered, validate_lane_name
from bot.features.tempvoice.rules import minrank_suffix
from bot.features.tempvoice.service import LaneService
from bot.shared.common import UserError
from bot.shared.ranks import rank_name

log = logging.getLogger(__name__)

L = texts.LaneOwner
T = texts.TempVoice

_NAME_TEXTS = {
    NameProblem.EMPTY: L.NAME_EMPTY,
    NameProblem.TOO_LONG: L.NAME_TOO_LONG,
    NameProblem.MENTION: L.NAME_MENTION,
    NameProblem.INVITE: L.NAME_INVITE,
    NameProblem.URL: L.NAME_URL,
    NameProblem.BLOCKED_WORD: L.NAME_BLOCKED,
    NameProblem.RESERVED: L.NAME_RESERVED,
}


class LaneOwnerService(LaneHooks):
    def __init__(self, service: LaneService, access: LaneAccessService) -> None:
        self.lanes = lanes = service.lanes
        self.panel = service.panel
        self.life = service.life
        self.access = access
        self.db = lanes.db
        self.view = lanes.view
        self.actions = lanes.actions
        self.renamer = lanes.renamer
        self.clock = lanes.clock
        lanes.hooks = self

    # -- LaneService's hooks -------------------------------------------------------------

    async def lane_preset(self, owner_id: int) -> LanePreset | None:
        async with self.db.read() as conn:
            preset = await queries.tempvoice.get_preset(conn, owner_id=owner_id)
        if preset is not None and preset.name:
            try:  # the rules of now: a word may have been blocked since the preset was saved
                name = validate_lane_name(preset.name, self.access.config.name_blocklist)
            except NameRefused:
                name = None
            preset = dataclasses.replace(preset, name=name)
        return preset

    async def lane_created(self, lane: Lane, preset: LanePreset | None) -> None:
        if preset is not None:
            lane = await self._apply_preset(lane, preset)
        await self.access.apply(lane)

    async def owner_changed(self, lane: Lane, previous_owner: int) -> None:
        await self.access.apply(lane)

    async def bans_changed(self, owner_id: int) -> None:
        await self.access.apply_to_owned(owner_id)  # a banned member loses every allow, an un-banned one gets it back

    async def member_kicked(self, lane: Lane, member_id: int) -> bool:
        return await self.access.revoke(lane, member_id)

    # -- rename ----------------------------------------------------------------------------

    async def rename(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> str:
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id)
        try:
            name = validate_lane_name(raw, self.access.config.name_blocklist)
        except NameRefused as refused:
            raise UserError(_NAME_TEXTS[refused.problem].format(word=refused.detail)) from None
        async with self.lanes.locks(lane.channel_id):
            fresh = await self.lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            await self._set_name(fresh, name)
        return self.when_shown(lane.channel_id, name)

    async def _set_name(self, lane: Lane, name: str) -> None:
        # The database keeps the shown name: LaneLife.renamed records it once Discord confirmed it
        # (only then is the lane's "Lane N" free for another lane).
        await self.renamer.set_part(lane.channel_id, "base", name)

    def when_shown(self, channel_id: int, name: str) -> str:
        due = self.renamer.due_at(channel_id)
        if due is None or due <= self.clock.now():
            return L.RENAMED_NOW.format(name=name)
        return L.RENAMED_LATER.format(name=name, at=int(due))

    # -- reject (ban + disconnect), the ban list, un-ban --------------------------------------

    async def reject(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        """Disconnect and ban (the ban list is the owner's, for all their lanes, stored). Not the
        owner, not a bot: a bot is nobody to keep out, and this bot must keep managing the lane."""
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id, admin_only=True)
        if target_id == lane.owner_id:
            raise UserError(L.REJECT_SELF)
        info = self.view.member(guild_id, target_id)
        if target_id == self.view.own_member_id(guild_id) or (info is not None and info.is_bot):
            raise UserError(L.REJECT_BOT)
        return await self.panel.ban(guild_id, clicker_id, panel_channel_id, str(target_id))

    async def banned(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> list[int]:
        """The owner's ban list, for the un-ban select (the same people as ban and unban)."""
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id, admin_only=True)
        async with self.db.read() as conn:
            return [b.banned_id for b in await queries.tempvoice.list_bans(conn, owner_id=lane.owner_id)]

    async def unban(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        return await self.panel.unban(guild_id, clicker_id, panel_channel_id, str(target_id))

    # -- transfer ----------------------------------------------------------------------------

    async def transfer_candidates(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None
    ) -> list[MemberInfo]:
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id)
        inside = await self.lanes.occupants(guild_id, lane.channel_id)
        found = [self.view.member(guild_id, m) for m in inside if m != lane.owner_id]
        members = [m for m in found if m is not None and not m.is_bot][:25]  # a select holds at most 25
        if not members:
            raise UserError(L.TRANSFER_NOBODY)
        return members

    async def transfer(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id)
        info = self.view.member(guild_id, target_id)
        if info is not None and info.is_bot:
            raise UserError(L.TRANSFER_BOT)
        async with self.lanes.locks(lane.channel_id):
            fresh = await self.lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            if target_id == fresh.owner_id:
                raise UserError(L.TRANSFER_SELF)
            if target_id not in await self.lanes.occupants(guild_id, fresh.channel_id):
                raise UserError(L.TRANSFER_NOT_IN_LANE)
            await self.life.transfer(fresh, target_id)
        return L.TRANSFERRED.format(member=self.lanes.display(guild_id, target_id))

    # -- presets -------------------------------------------------------------------------------

    async def save_preset(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> str:
        lane = await self.panel.resolve_lane(guild_id, clicker_id, panel_channel_id)
        if lane.owner_id != clicker_id:
            raise UserError(L.ONLY_OWNER)
        channel = self.view.channel(lane.channel_id)
        if channel is None:
            raise UserError(T.NOT_A_LANE)
        state = await self.access.state(lane.channel_id)
        base = await self.renamer.base_of(lane.channel_id) or lane.base_name  # also a name still pending
        name = None if is_numbered(base) else base
        async with self.db.transaction() as conn:
            await queries.tempvoice.save_preset(
                conn, owner_id=clicker_id, name=name, user_limit=channel.user_limit, locked=int(state.locked),
                hidden=int(state.hidden), min_rank=lane.min_rank, saved_at=self.clock.now(),
            )  # fmt: skip
            trusted = await queries.tempvoice.count_trusted(conn, owner_id=clicker_id)
            bans = len(await queries.tempvoice.list_bans(conn, owner_id=clicker_id))
        parts = [L.PRESET_NAME.format(name=name)] if name else []
        parts.append(L.PRESET_LIMIT.format(limit=channel.user_limit) if channel.user_limit else L.PRESET_NO_LIMIT)
        parts += [L.PRESET_LOCKED] if state.locked else []
        parts += [L.PRESET_HIDDEN] if state.hidden else []
        parts += [L.PRESET_MINRANK.format(rank=rank_name(lane.min_rank))] if lane.min_rank > 0 else []
        parts += [L.PRESET_TRUSTED.format(count=trusted), L.PRESET_BANS.format(count=bans)]
        return L.PRESET_SAVED.format(summary=", ".join(parts))

    async def reset_preset(self, clicker_id: int) -> str:
        """`/lane reset`: the member's own preset, wherever they are."""
        async with self.db.transaction() as conn:
            removed = await queries.tempvoice.delete_preset(conn, owner_id=clicker_id)
        if not removed:
            raise UserError(L.PRESET_NONE)
        return L.PRESET_RESET

    async def _apply_preset(self, lane: Lane, preset: LanePreset) -> Lane:
        """The owner's preset on their new lane (under its lock), within the category's rules:
        the ranked cap, min rank only where it works and never above the owner's own rank."""
        config = self.lanes.config
        if preset.name and preset.name != lane.base_name:  # a preset's name is given at creation
            try:  # the rules of now: a word may have been blocked since the preset was saved
                await self._set_name(lane, validate_lane_name(preset.name, self.access.config.name_blocklist))
            except NameRefused as refused:
                log.info("the preset's name for lane %s is not allowed now (%s)", lane.channel_id, refused.problem)
        if preset.user_limit is not None:
            limit = preset.user_limit
            if lane.category_id in config.ranked_category_ids:
                limit = min(limit or config.ranked_cap, config.ranked_cap)
            try:
                await self.actions.edit_channel(lane.channel_id, user_limit=limit, reason=f"{REASON}: Vorlage")
            except PortError as e:
                log.warning("the preset's limit on lane %s failed: %s", lane.channel_id, e)
        min_rank = 0
        owner = self.view.member(lane.guild_id, lane.owner_id)
        if preset.min_rank > 0 and lane.category_id in config.minrank_category_ids and owner is not None:
            min_rank = preset.min_rank if owner.administrator else min(preset.min_rank, self.access.member_rank(owner))
        if min_rank > 0:
            async with self.db.transaction() as conn:
                await queries.tempvoice.set_lane_min_rank(conn, channel_id=lane.channel_id, min_rank=min_rank)
            lane = dataclasses.replace(lane, min_rank=min_rank)
            await self.lanes.apply_min_rank(lane, min_rank)
            await self.renamer.set_part(lane.channel_id, "minrank", minrank_suffix(min_rank))
        if preset.locked or preset.hidden:
            await self.access.store_state(lane, AccessState(bool(preset.locked), bool(preset.hidden)))
        return lane

"""What the panel's buttons, selects and modals do to a lane.

Every action returns the German text to answer with, or raises `UserError` with the text
of the refusal (not the lane's owner, no such member, ...); the cog replies with either.
"""

from __future__ import annotations

import contextlib
import logging

from bot.db import IntegrityError
from bot.db.queries import Lane, queries
from bot.discord_glue.ports import Forbidden, MemberInfo, NotFound, PortError
from bot.features.tempvoice import texts
from bot.features.tempvoice.creation import LaneCreator
from bot.features.tempvoice.lanes import REASON, Lanes
from bot.features.tempvoice.life import LaneLife
from bot.features.tempvoice.rules import TEMPLATES, LimitError, lane_name, minrank_suffix, parse_user_limit
from bot.shared.clock import legacy_timestamp
from bot.shared.common import UserError, is_valid_id
from bot.shared.ranks import rank_name

log = logging.getLogger(__name__)
T = texts.TempVoice


class PanelActions:
    def __init__(self, lanes: Lanes, life: LaneLife, creator: LaneCreator) -> None:
        self.lanes = lanes
        self.life = life
        self.creator = creator

    # -- whose lane, who may act -------------------------------------------------------------

    async def resolve_lane(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> Lane:
        """The lane a panel click acts on: the panel's own lane, else the lane the clicker is in."""
        if panel_channel_id is not None:
            lane = await self.lanes.get(panel_channel_id)
            if lane is not None:
                return lane
        current = self.lanes.view.voice_channel_of(guild_id, clicker_id)
        if current is None:
            raise UserError(T.JOIN_LANE_FIRST)
        lane = await self.lanes.get(current)
        if lane is None:
            raise UserError(T.NOT_A_LANE)
        return lane

    async def _guarded(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, *, admin_only: bool = False
    ) -> tuple[Lane, MemberInfo]:
        lane = await self.resolve_lane(guild_id, clicker_id, panel_channel_id)
        member = self.lanes.view.member(guild_id, clicker_id)
        if member is None or not _may_manage(lane, member, admin_only=admin_only):
            raise UserError(T.NOT_OWNER_OR_ADMIN if admin_only else T.NOT_OWNER)
        return lane, member

    def resolve_member(self, guild_id: int, raw: str) -> int:
        """`<@id>`, an id, or an exact (case-insensitive) user, global or display name."""
        text = raw.strip()
        digits = text.removeprefix("<@").removeprefix("!").removesuffix(">")
        if digits.isdigit():
            if not is_valid_id(int(digits)):  # a number beyond any id names nobody
                raise UserError(T.USER_NOT_FOUND)
            return int(digits)
        name = text.removeprefix("@").casefold()
        if not name:
            raise UserError(T.USER_NOT_FOUND)
        hits = [m.id for m in self.lanes.view.members(guild_id) if any(n.casefold() == name for n in m.names)]
        if len(hits) > 1:
            raise UserError(T.USER_AMBIGUOUS)
        if not hits:
            raise UserError(T.USER_NOT_FOUND)
        return hits[0]

    # -- the actions ---------------------------------------------------------------------------

    async def set_region(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, region: str) -> str:
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id)
        region = "DE" if region == "DE" else "EU"
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
            # the preference belongs to the owner, whoever clicked (a moderator may set it for them)
            await queries.tempvoice.set_region(
                conn, owner_id=lane.owner_id, region=region, updated_at=legacy_timestamp(lanes.clock)
            )
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
        for other in owned:
            async with lanes.locks(other.channel_id):
                await lanes.apply_region(other.channel_id, region)
        return T.REGION_DE if region == "DE" else T.REGION_EU

    async def claim(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> str:
        lane = await self.resolve_lane(guild_id, clicker_id, panel_channel_id)
        member = self.lanes.view.member(guild_id, clicker_id)
        if member is None:
            raise UserError(T.NOT_OWNER)
        async with self.lanes.locks(lane.channel_id):
            fresh = await self.lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            if fresh.owner_id == clicker_id:
                raise UserError(T.ALREADY_OWNER)
            present = await self.lanes.occupants(guild_id, fresh.channel_id)
            is_mod = member.manage_channels or member.administrator
            if not is_mod and clicker_id not in present:
                raise UserError(T.JOIN_LANE_FIRST)
            if not is_mod and fresh.owner_id in present:
                raise UserError(T.CLAIM_OWNER_PRESENT)
            await self.life.transfer(fresh, clicker_id)
        return T.CLAIMED

    async def set_limit(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> str:
        try:
            limit = parse_user_limit(raw)
        except LimitError:
            raise UserError(T.LIMIT_INVALID) from None
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id)
        try:
            await self.lanes.actions.edit_channel(lane.channel_id, user_limit=limit, reason=f"{REASON}: Limit")
        except PortError as e:
            log.warning("setting the limit of lane %s failed: %s", lane.channel_id, e)
            raise UserError(T.ERROR) from e
        return T.LIMIT_SET.format(limit=limit) if limit else T.LIMIT_REMOVED

    async def apply_template(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, name: str) -> str:
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id)
        lanes = self.lanes
        base, limit = TEMPLATES[name]
        async with lanes.locks(lane.channel_id):
            if base is None:  # "Normale Lane": back to "Lane N" and the category's default cap
                number = lane.lane_number if lane.lane_number is not None else await self._take_number(lane)
                base = lane_name(number)
            # A template's name frees the lane's number only once Discord shows it (LaneLife.renamed):
            # until then the channel still says "Lane N", and no other lane may get that name.
            if limit is None:
                limit = lanes.cap(lane.category_id)
            try:
                await lanes.actions.edit_channel(lane.channel_id, user_limit=limit, reason=f"{REASON}: Vorlage")
            except PortError as e:
                log.warning("applying a template to lane %s failed: %s", lane.channel_id, e)
                raise UserError(T.ERROR) from e
            await lanes.renamer.set_part(lane.channel_id, "base", base)
        text = (T.TEMPLATE_RESET if name == "reset" else T.TEMPLATE_SET).format(name=base, limit=limit)
        return text + (T.RENAME_PENDING if lanes.renamer.is_pending(lane.channel_id) else "")

    async def _take_number(self, lane: Lane) -> int:
        """A number for a lane going back to "Lane N": its own from now on (the name follows)."""
        try:
            number = await self.creator.take_number(lane)
        except IntegrityError as e:
            raise UserError(T.ERROR) from e
        if number is None:
            raise UserError(T.NOT_A_LANE)
        return number

    async def kick_candidates(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> list[MemberInfo]:
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id)
        view = self.lanes.view
        present = await self.lanes.occupants(guild_id, lane.channel_id)
        members = [view.member(guild_id, m) for m in present if m != clicker_id]
        found = [m for m in members if m is not None][:25]  # a select holds at most 25 options
        if not found:
            raise UserError(T.KICK_NOBODY)
        return found

    async def kick(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if target_id == clicker_id:
            raise UserError(T.KICK_SELF)
        lanes = self.lanes
        async with lanes.locks(lane.channel_id):
            fresh = await lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            if target_id not in await lanes.occupants(guild_id, fresh.channel_id):
                raise UserError(T.KICK_NOT_IN_LANE)
            # the access first, so a locked lane is shut to them before they are out
            trusted = await lanes.hooks.member_kicked(fresh, target_id)
            await lanes.disconnect(guild_id, target_id, fresh.channel_id, inside=True)
        name = lanes.display(guild_id, target_id)
        return T.KICKED.format(member=name) + (T.KICKED_TRUSTED.format(member=name) if trusted else "")

    async def _ban_target(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str
    ) -> tuple[Lane, int]:
        """Ban and unban: the owner (or an admin) and the member they typed."""
        lane, _ = await self._guarded(guild_id, clicker_id, panel_channel_id, admin_only=True)
        return lane, self.resolve_member(guild_id, raw)

    async def ban(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> str:
        lane, target = await self._ban_target(guild_id, clicker_id, panel_channel_id, raw)
        if target == lane.owner_id:
            raise UserError(T.BAN_SELF)
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
            added = await queries.tempvoice.add_ban(
                conn, owner_id=lane.owner_id, banned_id=target, created_at=legacy_timestamp(lanes.clock)
            )
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
        for other in owned:
            async with lanes.locks(other.channel_id):
                await lanes.set_ban(other.channel_id, target, True)
                await lanes.disconnect(guild_id, target, other.channel_id)
        await lanes.hooks.bans_changed(lane.owner_id)
        return (T.BANNED if added else T.ALREADY_BANNED).format(member=lanes.display(guild_id, target))

    async def unban(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> str:
        lane, target = await self._ban_target(guild_id, clicker_id, panel_channel_id, raw)
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
            removed = await queries.tempvoice.remove_ban(conn, owner_id=lane.owner_id, banned_id=target)
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
        for other in owned:
            async with lanes.locks(other.channel_id):
                await lanes.set_ban(other.channel_id, target, False)
        await lanes.hooks.bans_changed(lane.owner_id)
        return (T.UNBANNED if removed else T.NOT_BANNED).format(member=lanes.display(guild_id, target))

    async def set_min_rank(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, min_rank: int) -> str:
        lane, member = await self._guarded(guild_id, clicker_id, panel_channel_id)
        lanes = self.lanes
        if lane.category_id not in lanes.config.minrank_category_ids:
            raise UserError(T.MINRANK_WRONG_CATEGORY)
        roles = {r.id: r.name for r in lanes.view.roles(guild_id)}
        own = lanes.config.rank_roles.member_rank((rid, roles.get(rid, "")) for rid in member.role_ids)
        if min_rank > own and not member.administrator:
            raise UserError(T.MINRANK_ABOVE_OWN.format(rank=rank_name(own)))
        async with lanes.locks(lane.channel_id):
            async with lanes.db.transaction() as conn:
                await queries.tempvoice.set_lane_min_rank(conn, channel_id=lane.channel_id, min_rank=min_rank)
            await lanes.apply_min_rank(lane, min_rank)
            await lanes.renamer.set_part(lane.channel_id, "minrank", minrank_suffix(min_rank))
        return T.MINRANK_CLEARED if min_rank <= 0 else T.MINRANK_SET.format(rank=rank_name(min_rank))

    # -- the global panel ----------------------------------------------------------------------

    async def post_global_panel(self, guild_id: int, channel_id: int) -> int:
        """`!tvpanel`: one panel per channel; posting again replaces the old one."""
        lanes = self.lanes
        async with lanes.locks(("panel", channel_id)):
            async with lanes.db.read() as conn:
                old = await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=channel_id)
            for panel in old:
                with contextlib.suppress(NotFound, Forbidden):  # already gone, or not ours to delete
                    await lanes.actions.delete_message(channel_id, panel.message_id)
            message_id = await lanes.actions.send_panel(channel_id, lane_id=None, owner_id=None)
            async with lanes.db.transaction() as conn:
                await queries.tempvoice.delete_global_panels_in_channel(conn, channel_id=channel_id)
                await queries.tempvoice.insert_global_panel(
                    conn, guild_id=guild_id, channel_id=channel_id, message_id=message_id,
                    updated_at=legacy_timestamp(lanes.clock),
                )  # fmt: skip
        return message_id


def _may_manage(lane: Lane, member: MemberInfo, *, admin_only: bool) -> bool:
    if member.id == lane.owner_id or member.administrator:
        return True
    return not admin_only and member.manage_channels

"""Who may join and see a lane: lock, hide, permit and the owner's trusted list.

Discord-free like LaneService, and built on it (the same per-lane locks and owner checks).
The state is stored (tempvoice_lane_access, tempvoice_lane_permits, tempvoice_trusted) and
the overwrites are always recomputed from it, so a restart changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.db.queries import Anchor, Lane, queries
from bot.discord_glue.ports import MemberInfo
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import ACCESS_WISH, LOCK_GATE, AccessInputs, AccessState, PermitKind, plan
from bot.features.tempvoice.lanes import REASON
from bot.features.tempvoice.service import LaneService
from bot.shared.common import UserError
from bot.shared.ranks import rank_name

log = logging.getLogger(__name__)

L = texts.LaneOwner
T = texts.TempVoice
TRUSTED_LIMIT = 25  # as the best temp-voice bots (and a select's 25 options)


@dataclasses.dataclass(frozen=True)
class OwnerActionsConfig:
    name_blocklist: frozenset[str] = frozenset()
    moderator_role_ids: frozenset[int] = frozenset()


class LaneAccessService:
    def __init__(self, service: LaneService, config: OwnerActionsConfig) -> None:
        self.lanes = lanes = service.lanes
        self.panel = service.panel
        self.config = config
        self.db = lanes.db
        self.view = lanes.view
        self.actions = lanes.actions
        self.clock = lanes.clock
        self.overwrites = lanes.overwrites

    # -- reading -------------------------------------------------------------------------

    async def state(self, channel_id: int) -> AccessState:
        async with self.db.read() as conn:
            row = await queries.tempvoice.get_lane_access(conn, channel_id=channel_id)
        return AccessState(bool(row.locked), bool(row.hidden)) if row else AccessState()

    def member_rank(self, member: MemberInfo) -> int:
        roles = {r.id: r.name for r in self.view.roles(member.guild_id)}
        return self.lanes.config.rank_roles.member_rank((rid, roles.get(rid, "")) for rid in member.role_ids)

    def _is_mod(self, member: MemberInfo) -> bool:
        return member.manage_channels or member.administrator

    def _admissible(self, lane: Lane, member_id: int, window: tuple[int, int] | None) -> bool:
        """May this member get an allow on the lane: not below its min rank, not outside a
        rank-voice window (moderators always)."""
        if lane.min_rank <= 0 and window is None:
            return True
        info = self.view.member(lane.guild_id, member_id)
        if info is None:
            return False
        if self._is_mod(info):
            return True
        rank = self.member_rank(info)
        return rank >= lane.min_rank and (window is None or window[0] <= rank <= window[1])

    async def _inputs(self, lane: Lane) -> AccessInputs:
        async with self.db.read() as conn:
            trusted = [t.trusted_id for t in await queries.tempvoice.list_trusted(conn, owner_id=lane.owner_id)]
            bans = [b.banned_id for b in await queries.tempvoice.list_bans(conn, owner_id=lane.owner_id)]
            permits = await queries.tempvoice.list_lane_permits(conn, channel_id=lane.channel_id)
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=lane.channel_id)
        window = (anchor.allowed_min, anchor.allowed_max) if anchor is not None else None
        members = [p.target_id for p in permits if p.target_kind == PermitKind.MEMBER.value]
        return AccessInputs(
            everyone_id=self.view.everyone_role_id(lane.guild_id),
            owner_id=lane.owner_id,
            moderator_role_ids=self.config.moderator_role_ids,
            trusted=frozenset(t for t in trusted if self._admissible(lane, t, window)),
            permitted_members=frozenset(m for m in members if self._admissible(lane, m, window)),
            permitted_roles=frozenset(p.target_id for p in permits if p.target_kind == PermitKind.ROLE.value),
            banned=frozenset(bans),
        )

    # -- writing the overwrites ----------------------------------------------------------

    async def apply(self, lane: Lane) -> None:
        """Tell the overwrite composer the lane's lock/hide wishes (call under the lane's lock).
        They replace TempVoice's previous ones: an untrusted member or a previous owner loses
        the allow without anything else changing."""
        if self.view.channel(lane.channel_id) is None:
            return
        wanted = plan(await self.state(lane.channel_id), await self._inputs(lane))
        await self.overwrites.set_wishes(lane.channel_id, ACCESS_WISH, wanted.wishes, reason=f"{REASON}: Zugang")
        await self.overwrites.set_gate(lane.channel_id, LOCK_GATE, wanted.gate, reason=f"{REASON}: Sperre")

    async def store_state(self, lane: Lane, state: AccessState) -> None:
        """Record the lock/hide state; when it locks or hides, the members inside are permitted."""
        now = self.clock.now()
        inside = await self.lanes.occupants(lane.guild_id, lane.channel_id)
        async with self.db.transaction() as conn:
            await queries.tempvoice.set_lane_access(
                conn, channel_id=lane.channel_id, locked=int(state.locked), hidden=int(state.hidden), updated_at=now
            )
            if state.restricted:
                for member in inside:
                    await queries.tempvoice.add_lane_permit(
                        conn, channel_id=lane.channel_id, target_kind=PermitKind.MEMBER.value, target_id=member,
                        created_at=now,
                    )  # fmt: skip

    async def revoke(self, lane: Lane, member_id: int) -> bool:
        """Kick (under the lane's lock): the member loses the access the lane gave them (being
        inside when it was locked or hidden, a permit) until the owner permits them again.
        True when the owner's trusted list still lets them into the locked or hidden lane."""
        async with self.db.transaction() as conn:
            removed = await queries.tempvoice.remove_member_permit(
                conn, channel_id=lane.channel_id, member_id=member_id
            )
        if removed:
            await self.apply(lane)
        if not (await self.state(lane.channel_id)).restricted:
            return False
        return member_id in (await self._inputs(lane)).trusted

    # -- panel actions -------------------------------------------------------------------

    async def set_locked(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, locked: bool) -> str:
        return await self._change(guild_id, clicker_id, panel_channel_id, locked=locked)

    async def set_hidden(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, hidden: bool) -> str:
        return await self._change(guild_id, clicker_id, panel_channel_id, hidden=hidden)

    async def toggle_lock(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> str:
        lane = await self.panel.resolve_lane(guild_id, clicker_id, panel_channel_id)
        locked = (await self.state(lane.channel_id)).locked
        return await self._change(guild_id, clicker_id, panel_channel_id, locked=not locked)

    async def toggle_hide(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> str:
        lane = await self.panel.resolve_lane(guild_id, clicker_id, panel_channel_id)
        hidden = (await self.state(lane.channel_id)).hidden
        return await self._change(guild_id, clicker_id, panel_channel_id, hidden=not hidden)

    async def _change(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, *,
        locked: bool | None = None, hidden: bool | None = None,
    ) -> str:  # fmt: skip
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id)
        async with self.lanes.locks(lane.channel_id):
            fresh = await self.lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            old = await self.state(fresh.channel_id)
            if locked is not None and locked == old.locked:
                raise UserError(L.ALREADY_LOCKED if locked else L.ALREADY_UNLOCKED)
            if hidden is not None and hidden == old.hidden:
                raise UserError(L.ALREADY_HIDDEN if hidden else L.ALREADY_SHOWN)
            new = AccessState(old.locked if locked is None else locked, old.hidden if hidden is None else hidden)
            await self.store_state(fresh, new)
            await self.apply(fresh)
        if locked is not None:
            return L.LOCKED if locked else L.UNLOCKED
        return L.HIDDEN if hidden else L.SHOWN

    async def permit(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, kind: PermitKind, target_id: int
    ) -> str:
        lane, _ = await self.panel._guarded(guild_id, clicker_id, panel_channel_id)
        if kind is PermitKind.ROLE:
            label = next((r.name for r in self.view.roles(guild_id) if r.id == target_id), str(target_id))
            await self._check_role_permit(lane, target_id, label)
        else:
            await self._check_permit(lane, target_id)
            label = self.lanes.display(guild_id, target_id)
        async with self.lanes.locks(lane.channel_id):
            fresh = await self.lanes.get(lane.channel_id)
            if fresh is None:
                raise UserError(T.NOT_A_LANE)
            async with self.db.transaction() as conn:
                added = await queries.tempvoice.add_lane_permit(
                    conn, channel_id=fresh.channel_id, target_kind=kind.value, target_id=target_id,
                    created_at=self.clock.now(),
                )  # fmt: skip
            await self.apply(fresh)
        if not added:
            raise UserError(L.ALREADY_PERMITTED.format(member=label))
        return (L.PERMITTED_ROLE if kind is PermitKind.ROLE else L.PERMITTED_MEMBER).format(role=label, member=label)

    async def _check_role_permit(self, lane: Lane, role_id: int, name: str) -> None:
        """Refuse a role permit that would open the lane to everyone (@everyone: that is
        Entsperren) or to a rank the lane's min rank or rank window keeps out."""
        if role_id == self.view.everyone_role_id(lane.guild_id):
            raise UserError(L.PERMIT_EVERYONE)
        rank = self.lanes.config.rank_roles.member_rank([(role_id, name)])
        if rank <= 0:
            return
        async with self.db.read() as conn:
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=lane.channel_id)
        _check_rank(lane, anchor, name, rank)

    async def _check_permit(self, lane: Lane, target_id: int) -> None:
        """Refuse a member permit that the lane's rules forbid: banned, a bot, below the min
        rank, outside the rank window of a rank-anchored channel."""
        info = self.view.member(lane.guild_id, target_id)
        if info is None:
            raise UserError(T.USER_NOT_FOUND)
        name = info.display_name
        if info.is_bot:
            raise UserError(L.PERMIT_BOT)
        async with self.db.read() as conn:
            banned = await queries.tempvoice.is_banned(conn, owner_id=lane.owner_id, banned_id=target_id)
            anchor = await queries.rank_voice.get_anchor(conn, channel_id=lane.channel_id)
        if banned:
            raise UserError(L.PERMIT_BANNED.format(member=name))
        if self._is_mod(info):
            return
        _check_rank(lane, anchor, name, self.member_rank(info))

    # -- the trusted list (per owner, on every lane they own) ---------------------------------

    async def _check_owner(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> None:
        """Only the lane's owner: the trusted list belongs to them alone."""
        lane = await self.panel.resolve_lane(guild_id, clicker_id, panel_channel_id)
        if lane.owner_id != clicker_id:
            raise UserError(L.ONLY_OWNER)

    async def trusted(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> list[int]:
        await self._check_owner(guild_id, clicker_id, panel_channel_id)
        async with self.db.read() as conn:
            return [t.trusted_id for t in await queries.tempvoice.list_trusted(conn, owner_id=clicker_id)]

    async def trust(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        await self._check_owner(guild_id, clicker_id, panel_channel_id)
        info = self.view.member(guild_id, target_id)
        if info is None:
            raise UserError(T.USER_NOT_FOUND)
        if target_id == clicker_id:
            raise UserError(L.TRUST_SELF)
        if info.is_bot:
            raise UserError(L.PERMIT_BOT)
        async with self.db.transaction() as conn:
            if await queries.tempvoice.is_banned(conn, owner_id=clicker_id, banned_id=target_id):
                raise UserError(L.TRUST_BANNED.format(member=info.display_name))
            if (await queries.tempvoice.count_trusted(conn, owner_id=clicker_id)) >= TRUSTED_LIMIT:
                raise UserError(L.TRUST_FULL.format(limit=TRUSTED_LIMIT))
            added = await queries.tempvoice.add_trusted(
                conn, owner_id=clicker_id, trusted_id=target_id, created_at=self.clock.now()
            )
        if not added:
            raise UserError(L.ALREADY_TRUSTED.format(member=info.display_name))
        await self.apply_to_owned(clicker_id)
        return L.TRUSTED.format(member=info.display_name)

    async def untrust(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> str:
        await self._check_owner(guild_id, clicker_id, panel_channel_id)
        async with self.db.transaction() as conn:
            removed = await queries.tempvoice.remove_trusted(conn, owner_id=clicker_id, trusted_id=target_id)
        name = self.lanes.display(guild_id, target_id)
        if not removed:
            raise UserError(L.NOT_TRUSTED.format(member=name))
        await self.apply_to_owned(clicker_id)
        return L.UNTRUSTED.format(member=name)

    async def apply_to_owned(self, owner_id: int) -> None:
        """Recompute the access of every lane the owner holds (trusted list or bans changed)."""
        async with self.db.read() as conn:
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=owner_id)
        for lane in owned:
            async with self.lanes.locks(lane.channel_id):
                fresh = await self.lanes.get(lane.channel_id)
                if fresh is not None:
                    await self.apply(fresh)


def _check_rank(lane: Lane, anchor: Anchor | None, name: str, rank: int) -> None:
    """Refuse a permit of a rank below the lane's min rank or outside its rank window."""
    if rank < lane.min_rank:
        raise UserError(L.PERMIT_BELOW_MINRANK.format(member=name, rank=rank_name(lane.min_rank)))
    if anchor is not None and not anchor.allowed_min <= rank <= anchor.allowed_max:
        raise UserError(L.PERMIT_OUTSIDE_WINDOW.format(
            member=name, low=rank_name(anchor.allowed_min), high=rank_name(anchor.allowed_max)
        ))  # fmt: skip

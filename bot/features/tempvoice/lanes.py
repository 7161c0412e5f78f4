"""What every part of TempVoice shares: its dependencies, the lane locks and the small
operations on one lane (read it, delete it, its owner's settings, its panel).

Discord is reached through the ports (bot/discord_glue/ports.py), the database through the
typed queries. Only channels with a row in tempvoice_lanes are ever touched, whatever their
name. Who may connect is never written here directly: bans, region and min rank are wishes
to the shared overwrite composer (bot/shared/overwrites.py), which merges them with other
features' wishes on the same channel.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.db.queries import Lane, LanePreset, OwnerSetting, queries
from bot.discord_glue.ports import NotFound, PortError, Target, TargetKind
from bot.shared.clock import legacy_timestamp
from bot.shared.common import humans_in, process_name
from bot.shared.coordination import CHANNEL_LOCKS, SharedLocks
from bot.shared.deps import Deps
from bot.shared.overwrites import CONNECT
from bot.shared.ranks import RankRoles

log = logging.getLogger(__name__)

REASON = "TempVoice"
#: TempVoice's names in the overwrite composer
BAN_WISH = "tempvoice.ban"
REGION_WISH = "tempvoice.region"
MINRANK_GATE = "tempvoice.minrank"


@dataclasses.dataclass(frozen=True)
class TempVoiceConfig:
    staging_channel_ids: frozenset[int]
    ranked_category_ids: frozenset[int] = frozenset()
    minrank_category_ids: frozenset[int] = frozenset()
    overflow_category_ids: tuple[int, ...] = ()
    english_only_role_id: int | None = None
    default_cap: int = 8
    ranked_cap: int = 6
    rank_roles: RankRoles = dataclasses.field(default_factory=RankRoles)


@dataclasses.dataclass(frozen=True)
class LaneState:
    """What a join or a leave reads of a lane, in one query."""

    lane: Lane
    banned: bool  # the owner banned the member the event is about
    members: list[int]  # recorded members, in join order


class LaneHooks:
    """What other TempVoice modules add to a lane's life (the owner actions: presets, lock, trust)."""

    async def lane_preset(self, owner_id: int) -> LanePreset | None:
        """The owner's saved preset, read before their new lane is created (its name is the lane's)."""
        return None

    async def lane_created(self, lane: Lane, preset: LanePreset | None) -> None:
        """The owner is inside the new lane; region and bans are applied (under the lane's lock)."""

    async def owner_changed(self, lane: Lane, previous_owner: int) -> None:
        """`lane.owner_id` is the new owner; their region and bans are applied (under the lane's lock)."""

    async def bans_changed(self, owner_id: int) -> None:
        """The owner banned or un-banned someone; the bans are applied to their lanes (no lock held)."""

    async def member_kicked(self, lane: Lane, member_id: int) -> bool:
        """The member is being kicked: their lane-granted access goes (under the lane's lock).
        True when they still may rejoin the locked or hidden lane as one of the owner's trusted."""
        return False


class Lanes:
    """The shared state of one TempVoice service and the operations on one lane."""

    def __init__(self, deps: Deps, config: TempVoiceConfig) -> None:
        self.db = deps.db
        self.actions = deps.actions
        self.view = deps.view
        self.renamer = deps.renamer
        self.overwrites = deps.overwrites
        self.clock = deps.clock
        self.config = config
        # a lane's events are handled one at a time, also across processes sharing the database
        # (the lock rank voice takes for the same channel: the overwrite composer's callers take turns)
        self.locks = SharedLocks(deps.db, CHANNEL_LOCKS)
        #: this service's name in creation claims (several bot processes may share one database)
        self.claimer = process_name(self)
        self.hooks = LaneHooks()

    # -- reading ---------------------------------------------------------------------------

    def present(self, channel_id: int) -> list[int]:
        """Who is in the lane as far as gateway events told us (never right after our own move)."""
        return humans_in(self.view, channel_id)

    async def occupants(
        self, guild_id: int, channel_id: int, *, left: int | None = None, recorded: list[int] | None = None
    ) -> list[int]:
        """Who is in the lane. Two sources: the cache (gateway events) and our records (events
        we handled plus our own moves that Discord confirmed; `recorded` if the caller read
        them). Where both agree, that is the answer; a member only one of them shows is checked
        with a fresh fetch. `left` is the member an event just reported leaving."""
        cached = [m for m in self.present(channel_id) if m != left]
        if recorded is None:
            async with self.db.read() as conn:
                rows = await queries.tempvoice.list_lane_members(conn, channel_id=channel_id)
            recorded = [m.user_id for m in rows]
        present = [m for m in cached if m in recorded]
        for member_id in [m for m in cached if m not in recorded] + [m for m in recorded if m not in cached]:
            if member_id != left and await self._fetched_inside(guild_id, member_id, channel_id):
                present.append(member_id)
        return present

    async def _fetched_inside(self, guild_id: int, member_id: int, channel_id: int) -> bool:
        try:
            return await self.actions.fetch_voice_channel(guild_id, member_id) == channel_id
        except PortError as e:
            log.warning("fetching the voice state of %s failed (%s); counting them as inside", member_id, e)
            return True

    async def get(self, channel_id: int) -> Lane | None:
        async with self.db.read() as conn:
            return await queries.tempvoice.get_lane(conn, channel_id=channel_id)

    async def get_with_owner_settings(self, channel_id: int) -> tuple[Lane, list[OwnerSetting]] | None:
        """The lane and its owner's region and bans, in one read (for `apply_owner_settings`)."""
        async with self.db.read() as conn:
            rows = await queries.tempvoice.get_lane_with_owner_settings(conn, channel_id=channel_id)
        if not rows:
            return None
        r = rows[0]
        lane = Lane(
            r.channel_id, r.guild_id, r.owner_id, r.base_name, r.category_id, r.lane_number, r.min_rank, r.created_at
        )
        settings = [OwnerSetting(lane.owner_id, r.region, None)] if r.region is not None else []
        settings += [OwnerSetting(lane.owner_id, None, row.banned_id) for row in rows if row.banned_id is not None]
        return lane, settings

    async def state(self, channel_id: int, member_id: int) -> LaneState | None:
        """The lane, whether its owner banned `member_id`, and its recorded members (None: not a lane)."""
        async with self.db.read() as conn:
            rows = await queries.tempvoice.get_lane_state(conn, channel_id=channel_id, member_id=member_id)
        if not rows:
            return None
        r = rows[0]
        lane = Lane(
            r.channel_id, r.guild_id, r.owner_id, r.base_name, r.category_id, r.lane_number, r.min_rank, r.created_at
        )
        members = [row.member_user_id for row in rows if row.member_user_id is not None]
        return LaneState(lane, bool(r.banned), members)

    def display(self, guild_id: int, member_id: int) -> str:
        info = self.view.member(guild_id, member_id)
        return info.display_name if info else str(member_id)

    def cap(self, category_id: int | None) -> int:
        ranked = category_id in self.config.ranked_category_ids
        return self.config.ranked_cap if ranked else self.config.default_cap

    # -- deleting --------------------------------------------------------------------------

    async def drop_rows(self, channel_id: int) -> None:
        async with self.db.transaction() as conn:
            await queries.tempvoice.delete_lane_panel(conn, lane_id=channel_id)
            await queries.tempvoice.delete_lane(conn, channel_id=channel_id)
        await self.renamer.forget(channel_id)
        await self.overwrites.forget_channel(channel_id)

    async def delete_channel(self, channel_id: int, why: str) -> bool:
        try:
            await self.actions.delete_channel(channel_id, reason=f"{REASON}: {why}")
        except NotFound:
            return True
        except PortError as e:
            log.error("deleting lane %s failed: %s", channel_id, e)
            return False
        return True

    async def delete(self, channel_id: int, why: str) -> bool:
        """Delete the channel, then its rows (True); if Discord refused, the rows stay so reconcile retries."""
        if not await self.delete_channel(channel_id, why):
            return False
        await self.drop_rows(channel_id)
        return True

    async def disconnect(self, guild_id: int, member_id: int, channel_id: int, *, inside: bool = False) -> None:
        """Move the member out of the lane if they are in it (`inside`: the caller checked)."""
        if not inside and self.view.voice_channel_of(guild_id, member_id) != channel_id:
            return
        try:
            await self.actions.move_member(guild_id, member_id, None, reason=f"{REASON}: gebannt/gekickt")
        except PortError as e:
            log.warning("moving %s out of lane %s failed: %s", member_id, channel_id, e)
            return
        # Discord confirmed it: they are out, whenever (or whether) the voice event comes
        async with self.db.transaction() as conn:
            await queries.tempvoice.remove_lane_member(conn, channel_id=channel_id, user_id=member_id)

    # -- who may connect (wishes to the overwrite composer) --------------------------------

    async def set_ban(self, channel_id: int, member_id: int, banned: bool) -> None:
        await self.overwrites.set_wish(
            channel_id, BAN_WISH, Target(TargetKind.MEMBER, member_id), CONNECT, False if banned else None,
            reason=f"{REASON}: Bann",
        )  # fmt: skip

    async def apply_owner_settings(
        self, lane: Lane, owner_id: int, *, previous: int | None = None, settings: list[OwnerSetting] | None = None
    ) -> None:
        """The owner's region and bans, on this lane. `previous`: the owner whose settings the
        lane carried until now (their bans go); None for a new lane, which carries nothing.
        The lane's region and ban wishes only ever come from its owner's settings, so when
        neither owner has any, there is nothing to write (one read; none when the caller read
        them as `settings`, the rows of `get_owner_settings`)."""
        before = owner_id if previous is None else previous
        rows = settings
        if rows is None:
            async with self.db.read() as conn:
                rows = await queries.tempvoice.get_owner_settings(conn, owner_id=owner_id, previous_owner_id=before)
        regions = {r.owner_id: r.region for r in rows if r.region is not None}
        bans = [r.banned_id for r in rows if r.owner_id == owner_id and r.banned_id not in (None, owner_id)]
        region = regions.get(owner_id, "EU")
        if region == "DE" or (previous is not None and regions.get(previous, "EU") == "DE"):
            await self.apply_region(lane.channel_id, region)
        had_bans = previous is not None and any(r.owner_id == previous and r.banned_id is not None for r in rows)
        if bans or had_bans:
            denied = {(Target(TargetKind.MEMBER, b), CONNECT): False for b in bans}
            await self.overwrites.set_wishes(lane.channel_id, BAN_WISH, denied, reason=f"{REASON}: Bann")
        for banned in bans:
            await self.disconnect(lane.guild_id, banned, lane.channel_id)

    async def apply_region(self, channel_id: int, region: str) -> None:
        role = self.config.english_only_role_id
        if role is None:
            return
        await self.overwrites.set_wish(
            channel_id, REGION_WISH, Target(TargetKind.ROLE, role), CONNECT, False if region == "DE" else None,
            reason=f"{REASON}: Region",
        )  # fmt: skip

    async def apply_min_rank(self, lane: Lane, min_rank: int) -> None:
        """A gate: only rank roles at or above the floor may connect (see bot/shared/overwrites.py)."""
        admitted = None
        if min_rank > 0:
            ranked = ((r.id, self.config.rank_roles.rank_of_role(r.id, r.name)) for r in self.view.roles(lane.guild_id))
            admitted = [role_id for role_id, value in ranked if value is not None and value >= min_rank]
        await self.overwrites.set_gate(lane.channel_id, MINRANK_GATE, admitted, reason=f"{REASON}: Mindest-Rang")

    # -- the lane's own panel ----------------------------------------------------------------

    async def post_panel(self, lane: Lane, *, new: bool = False) -> None:
        """The panel in the lane's own voice chat: edited in place if it exists (a `new` lane has none)."""
        panel = None
        if not new:
            async with self.db.read() as conn:
                panel = await queries.tempvoice.get_lane_panel(conn, lane_id=lane.channel_id)
        try:
            if panel is not None:
                try:
                    await self.actions.edit_panel(
                        panel.channel_id, panel.message_id, lane_id=lane.channel_id, owner_id=lane.owner_id
                    )
                    return
                except NotFound:
                    pass
            message_id = await self.actions.send_panel(lane.channel_id, lane_id=lane.channel_id, owner_id=lane.owner_id)
        except PortError as e:
            log.warning("posting the panel of lane %s failed: %s", lane.channel_id, e)
            return
        async with self.db.write() as conn:
            await queries.tempvoice.upsert_lane_panel(
                conn,
                guild_id=lane.guild_id,
                channel_id=lane.channel_id,
                message_id=message_id,
                lane_id=lane.channel_id,
                updated_at=legacy_timestamp(self.clock),
            )

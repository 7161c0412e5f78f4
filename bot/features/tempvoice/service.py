"""TempVoice: personal voice lanes, created by joining a staging channel.

Discord-free: Discord is reached through the ports (bot/ports.py), the database through the
typed queries. Only channels with a row in tempvoice_lanes are ever touched, whatever
their name. Concurrency rules:

* one lock per member around creation (a duplicate event for the same member is dropped);
* one lock per lane around everything that changes it (leave, succession, panel actions);
* lane numbers are picked under a per-category lock and reserved until the row exists;
  the unique (guild, category, lane_number) index turns a missed race (another process)
  into an IntegrityError, and the service compensates by deleting its channel and retrying;
* after every await that gives the member time to move, their location is checked again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import random
from collections.abc import Iterator

from bot.db import IntegrityError
from bot.db.queries import Lane, queries
from bot.discord_glue.ports import (
    Forbidden,
    LimitReached,
    MemberInfo,
    NotFound,
    PortError,
    Target,
    TargetKind,
    VoiceMove,
)
from bot.features.tempvoice import texts
from bot.features.tempvoice.rules import (
    TEMPLATES,
    LimitError,
    lane_name,
    lowest_free_number,
    minrank_suffix,
    parse_user_limit,
)
from bot.shared.clock import legacy_timestamp
from bot.shared.common import KeyedLocks, Reply, humans_in, process_name
from bot.shared.coordination import SharedLocks
from bot.shared.deps import Deps
from bot.shared.overwrites import CONNECT
from bot.shared.ranks import RankRoles, rank_name

log = logging.getLogger(__name__)

T = texts.TempVoice
CATEGORY_CHANNEL_LIMIT = 50
GUILD_CHANNEL_LIMIT = 500
CREATE_ATTEMPTS = 8
CLAIM_STALE_SECONDS = 60  # a claim older than this belongs to a process that died
RESERVE_ATTEMPTS = 100  # each lost race reveals one more reserved number: this is never reached
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


class LaneService:
    def __init__(self, deps: Deps, config: TempVoiceConfig) -> None:
        self.db = db = deps.db
        self.actions = deps.actions
        self.view = deps.view
        self.renamer = deps.renamer
        self.overwrites = deps.overwrites
        self.config = config
        self.clock = deps.clock
        self._member_locks = KeyedLocks()
        # a lane's events are handled one at a time, also across processes sharing the database
        self._lane_locks = SharedLocks(db, "tempvoice_lane")
        self._number_locks = KeyedLocks()
        # channels being created right now, per category and per guild: counted against the
        # limits so concurrent creations do not overshoot a category and fail one by one
        self._creating: collections.Counter[object] = collections.Counter()
        #: this service's name in creation claims (several bot processes may share one database)
        self.claimer = process_name(self)
        self._jitter = random.Random()

    # -- voice events ------------------------------------------------------------------

    async def on_voice_move(self, move: VoiceMove) -> None:
        if move.before == move.after:
            return  # mute, deafen, stream or video toggles are not moves
        member = self.view.member(move.guild_id, move.member_id)
        if member is not None and member.is_bot:
            return
        if move.before is not None:
            await self._left(move.guild_id, move.before, move.member_id)
        if move.after is not None:
            if move.after in self.config.staging_channel_ids:
                await self._create_lane(move.guild_id, move.member_id, move.after)
            else:
                await self._joined(move.guild_id, move.after, move.member_id)

    async def on_channel_deleted(self, channel_id: int) -> None:
        """A lane deleted by hand (or by anyone): drop its rows."""
        async with self._lane_locks(channel_id):
            await self._drop_rows(channel_id)

    async def on_member_join(self, guild_id: int, member_id: int) -> None:
        """A banned member came back to the server: re-apply the denies on the banners' lanes."""
        async with self.db.read() as conn:
            owners = [o.owner_id for o in await queries.tempvoice.list_owners_banning(conn, banned_id=member_id)]
            lanes = [lane for o in owners for lane in await queries.tempvoice.list_lanes_by_owner(conn, owner_id=o)]
        for lane in lanes:
            if lane.guild_id == guild_id:
                await self._set_member_connect(lane.channel_id, member_id, False)

    # -- creation --------------------------------------------------------------------

    async def _create_lane(self, guild_id: int, member_id: int, staging_id: int) -> None:
        key = (guild_id, member_id)
        if self._member_locks.locked(key):
            return  # a lane for this member is being created right now
        async with self._member_locks(key):
            if self.view.voice_channel_of(guild_id, member_id) != staging_id:
                return
            staging = self.view.channel(staging_id)
            if staging is None:
                return
            if not await self._claim(guild_id, member_id):
                return  # another bot process is creating this member's lane right now
            try:
                if self.view.voice_channel_of(guild_id, member_id) != staging_id:
                    return  # another process created their lane and moved them while we claimed
                for attempt in range(CREATE_ATTEMPTS):
                    created = await self._try_create(guild_id, member_id, staging_id, staging.category_id)
                    if created is not _RETRY:
                        return
                    # another process took the number (or the category filled): let it commit, look again
                    await asyncio.sleep(self._jitter.uniform(0, 0.005 * (attempt + 1)))
                await self.actions.notify_member(guild_id, member_id, T.CREATE_FAILED)
            finally:
                async with self.db.transaction() as conn:
                    await queries.tempvoice.release_creation(
                        conn, guild_id=guild_id, member_id=member_id, claimer=self.claimer
                    )

    async def _claim(self, guild_id: int, member_id: int) -> bool:
        """The database decides which process creates the lane (the process-local lock cannot)."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            claimed = await queries.tempvoice.claim_creation(
                conn, guild_id=guild_id, member_id=member_id, claimer=self.claimer, claimed_at=now,
                stale_before=now - CLAIM_STALE_SECONDS,
            )  # fmt: skip
        return claimed == 1

    def _categories(self, home: int | None) -> Iterator[int | None]:
        yield home
        yield from (c for c in self.config.overflow_category_ids if c != home)

    def _has_room(self, guild_id: int, category_id: int | None) -> bool:
        if self.view.channels_in_guild(guild_id) + self._creating[("guild", guild_id)] >= GUILD_CHANNEL_LIMIT:
            return False
        if category_id is None:
            return True
        return self.view.channels_in_category(category_id) + self._creating[category_id] < CATEGORY_CHANNEL_LIMIT

    def _release_slots(self, slots: tuple[object, ...]) -> None:
        self._creating.subtract(slots)
        self._creating += collections.Counter()  # drop the zero counts

    async def _reserve_number(self, guild_id: int, category_key: int) -> int:
        """The lowest free "Lane N" of the category, reserved in the database until the lane
        row exists: processes sharing the database pick different numbers."""
        async with self._number_locks((guild_id, category_key)):  # one pick at a time in this process
            for _ in range(RESERVE_ATTEMPTS):
                now = self.clock.now()
                async with self.db.read() as conn:
                    taken = {
                        r.lane_number
                        for r in await queries.tempvoice.list_taken_numbers(
                            conn, guild_id=guild_id, category_id=category_key, stale_before=now - CLAIM_STALE_SECONDS
                        )
                    }
                number = lowest_free_number(taken)
                async with self.db.write() as conn:
                    reserved = await queries.tempvoice.reserve_number(
                        conn, guild_id=guild_id, category_id=category_key, lane_number=number, claimer=self.claimer,
                        reserved_at=now, stale_before=now - CLAIM_STALE_SECONDS,
                    )  # fmt: skip
                if reserved:
                    return number
                # another process reserved it between our read and our write: read again
        raise RuntimeError(
            f"no lane number could be reserved in category {category_key} after {RESERVE_ATTEMPTS} tries"
        )

    async def _unreserve(self, guild_id: int, category_key: int, number: int) -> None:
        # after the lane row committed (or the creation gave up): a pick sees the row or this
        async with self.db.write() as conn:
            await queries.tempvoice.release_number(
                conn, guild_id=guild_id, category_id=category_key, lane_number=number, claimer=self.claimer
            )

    async def _try_create(self, guild_id: int, member_id: int, staging_id: int, home: int | None) -> object:
        category = next((c for c in self._categories(home) if self._has_room(guild_id, c)), _FULL)
        if category is _FULL:
            await self.actions.notify_member(guild_id, member_id, T.CATEGORY_FULL)
            return None
        assert category is None or isinstance(category, int)
        category_key = category or 0
        cap = self.config.ranked_cap if category in self.config.ranked_category_ids else self.config.default_cap
        slots = (category, ("guild", guild_id)) if category is not None else (("guild", guild_id),)
        self._creating.update(slots)  # taken in the same step as the room check: no await between
        try:
            number = await self._reserve_number(guild_id, category_key)
        except BaseException:
            self._release_slots(slots)
            raise
        try:
            try:
                try:
                    channel_id = await self.actions.create_voice_channel(
                        guild_id,
                        category_id=category,
                        name=lane_name(number),
                        user_limit=cap,
                        bitrate=self.view.bitrate_limit(guild_id),
                        overwrites=self.view.category_overwrites(category) if category else {},
                        reason=f"{REASON}: Lane für {member_id}",
                    )
                finally:
                    # from here the channel counts in Discord's own numbers (or does not exist)
                    self._release_slots(slots)
            except LimitReached:
                return _RETRY  # the category filled up meanwhile: look again
            except PortError as e:
                log.warning("creating a lane for %s failed: %s", member_id, e)
                await self.actions.notify_member(guild_id, member_id, T.CREATE_FAILED)
                return None
            if self.view.voice_channel_of(guild_id, member_id) != staging_id:
                await self._delete_channel(channel_id, "Ersteller hat Staging verlassen")
                return None
            try:
                async with self.db.transaction() as conn:
                    await queries.tempvoice.insert_lane(
                        conn,
                        channel_id=channel_id,
                        guild_id=guild_id,
                        owner_id=member_id,
                        base_name=lane_name(number),
                        category_id=category_key,
                        lane_number=number,
                        min_rank=0,
                        source_staging_id=staging_id,
                        created_at=legacy_timestamp(self.clock),
                    )
                    await queries.tempvoice.add_lane_member(
                        conn, channel_id=channel_id, user_id=member_id, joined_at=self.clock.now()
                    )
            except IntegrityError:
                # another process took "Lane N" in this category: undo and pick again
                log.warning("lane number %s in category %s was taken concurrently; retrying", number, category_key)
                await self._delete_channel(channel_id, "Lane-Nummer doppelt vergeben")
                return _RETRY
        finally:
            await self._unreserve(guild_id, category_key, number)

        try:
            await self.actions.move_member(guild_id, member_id, channel_id, reason=REASON)
        except PortError as e:
            log.info("moving %s into their new lane failed (%s); removing it", member_id, e)
            await self._delete_lane(channel_id, "Verschieben fehlgeschlagen")
            return None
        async with self._lane_locks(channel_id):
            lane = await self._lane(channel_id)
            if lane is None:
                return None
            if not self._present(channel_id):
                await self._delete_lane(channel_id, "Ersteller ist schon wieder weg")
                return None
            await self._apply_owner_settings(lane, lane.owner_id)
            await self._post_lane_panel(lane)
        return None

    # -- joins, leaves, succession -------------------------------------------------------

    def _present(self, channel_id: int) -> list[int]:
        return humans_in(self.view, channel_id)

    async def _lane(self, channel_id: int) -> Lane | None:
        async with self.db.read() as conn:
            return await queries.tempvoice.get_lane(conn, channel_id=channel_id)

    async def _joined(self, guild_id: int, channel_id: int, member_id: int) -> None:
        async with self._lane_locks(channel_id):
            lane = await self._lane(channel_id)
            if lane is None:
                return  # not ours: never adopt a channel the bot did not create
            async with self.db.read() as conn:
                banned = await queries.tempvoice.is_banned(conn, owner_id=lane.owner_id, banned_id=member_id)
            if banned and member_id != lane.owner_id:
                await self._set_member_connect(channel_id, member_id, False)
                await self._disconnect(guild_id, member_id, channel_id)
                return
            async with self.db.transaction() as conn:
                await queries.tempvoice.add_lane_member(
                    conn, channel_id=channel_id, user_id=member_id, joined_at=self.clock.now()
                )

    async def _left(self, guild_id: int, channel_id: int, member_id: int) -> None:
        async with self._lane_locks(channel_id):
            lane = await self._lane(channel_id)
            if lane is None:
                return
            async with self.db.transaction() as conn:
                await queries.tempvoice.remove_lane_member(conn, channel_id=channel_id, user_id=member_id)
            present = self._present(channel_id)
            if not present:
                await self._delete_lane(channel_id, "Lane ist leer")
            elif lane.owner_id == member_id or lane.owner_id not in present:
                await self._succeed(lane, present)

    async def _succeed(self, lane: Lane, present: list[int]) -> None:
        """Ownership passes to the member who joined earliest (join order is persisted)."""
        async with self.db.read() as conn:
            order = [m.user_id for m in await queries.tempvoice.list_lane_members(conn, channel_id=lane.channel_id)]
        candidates = [m for m in order if m in present and m != lane.owner_id]
        new_owner = candidates[0] if candidates else next(m for m in present if m != lane.owner_id)
        await self._transfer(lane, new_owner)

    async def _transfer(self, lane: Lane, new_owner: int) -> None:
        async with self.db.transaction() as conn:
            await queries.tempvoice.set_lane_owner(conn, channel_id=lane.channel_id, owner_id=new_owner)
            await queries.tempvoice.add_lane_member(
                conn, channel_id=lane.channel_id, user_id=new_owner, joined_at=self.clock.now()
            )
        updated = dataclasses.replace(lane, owner_id=new_owner)
        await self._apply_owner_settings(updated, new_owner)
        await self._post_lane_panel(updated)

    # -- deletion and reconciliation ------------------------------------------------

    async def _drop_rows(self, channel_id: int) -> None:
        async with self.db.transaction() as conn:
            await queries.tempvoice.delete_lane_panel(conn, lane_id=channel_id)
            await queries.tempvoice.delete_lane(conn, channel_id=channel_id)
        self.renamer.forget(channel_id)
        await self.overwrites.forget_channel(channel_id)

    async def _delete_channel(self, channel_id: int, why: str) -> bool:
        try:
            await self.actions.delete_channel(channel_id, reason=f"{REASON}: {why}")
        except NotFound:
            return True
        except PortError as e:
            log.error("deleting lane %s failed: %s", channel_id, e)
            return False
        return True

    async def _delete_lane(self, channel_id: int, why: str) -> None:
        if await self._delete_channel(channel_id, why):
            await self._drop_rows(channel_id)  # if Discord refused, the rows stay so reconcile retries

    async def reconcile(self, guild_id: int) -> int:
        """Bring the lanes of a guild in line with Discord; returns the changes made. Idempotent."""
        changes = 0
        async with self.db.read() as conn:
            lanes = await queries.tempvoice.list_lanes_by_guild(conn, guild_id=guild_id)
        for lane in lanes:
            async with self._lane_locks(lane.channel_id):
                if self.view.channel(lane.channel_id) is None:
                    await self._drop_rows(lane.channel_id)
                    changes += 1
                    continue
                present = self._present(lane.channel_id)
                if not present:
                    await self._delete_lane(lane.channel_id, "leer nach Neustart")
                    changes += 1
                    continue
                async with self.db.transaction() as conn:
                    recorded = [
                        m.user_id for m in await queries.tempvoice.list_lane_members(conn, channel_id=lane.channel_id)
                    ]
                    for gone in set(recorded) - set(present):
                        await queries.tempvoice.remove_lane_member(conn, channel_id=lane.channel_id, user_id=gone)
                    for new in [m for m in present if m not in recorded]:
                        await queries.tempvoice.add_lane_member(
                            conn, channel_id=lane.channel_id, user_id=new, joined_at=self.clock.now()
                        )
                if lane.owner_id not in present:
                    await self._succeed(lane, present)
                    changes += 1
        return changes

    # -- permissions on a lane (wishes to the shared overwrite composer) ----------------

    async def _set_member_connect(self, channel_id: int, member_id: int, value: bool | None) -> None:
        """A ban (False) or its end (None) of one member on one lane."""
        await self.overwrites.set_wish(
            channel_id, BAN_WISH, Target(TargetKind.MEMBER, member_id), CONNECT, value, reason=f"{REASON}: Bann"
        )

    async def _disconnect(self, guild_id: int, member_id: int, channel_id: int) -> None:
        if self.view.voice_channel_of(guild_id, member_id) != channel_id:
            return
        try:
            await self.actions.move_member(guild_id, member_id, None, reason=f"{REASON}: gebannt/gekickt")
        except PortError as e:
            log.warning("moving %s out of lane %s failed: %s", member_id, channel_id, e)

    async def _apply_owner_settings(self, lane: Lane, owner_id: int) -> None:
        """The owner's region and bans, on this lane."""
        async with self.db.read() as conn:
            region = await queries.tempvoice.get_region(conn, owner_id=owner_id) or "EU"
            bans = [b.banned_id for b in await queries.tempvoice.list_bans(conn, owner_id=owner_id)]
        await self._apply_region(lane.channel_id, region)
        denied = {(Target(TargetKind.MEMBER, b), CONNECT): False for b in bans if b != owner_id}
        # replaces the previous owner's bans on this lane
        await self.overwrites.set_wishes(lane.channel_id, BAN_WISH, denied, reason=f"{REASON}: Bann")
        for banned in bans:
            if banned != owner_id:
                await self._disconnect(lane.guild_id, banned, lane.channel_id)

    async def _apply_region(self, channel_id: int, region: str) -> None:
        role = self.config.english_only_role_id
        if role is None:
            return
        await self.overwrites.set_wish(
            channel_id, REGION_WISH, Target(TargetKind.ROLE, role), CONNECT, False if region == "DE" else None,
            reason=f"{REASON}: Region",
        )  # fmt: skip

    async def _apply_min_rank(self, lane: Lane, min_rank: int) -> None:
        """A gate: only rank roles at or above the floor may connect (see bot/shared/overwrites.py)."""
        admitted = None
        if min_rank > 0:
            ranked = ((r.id, self.config.rank_roles.rank_of_role(r.id, r.name)) for r in self.view.roles(lane.guild_id))
            admitted = [role_id for role_id, value in ranked if value is not None and value >= min_rank]
        await self.overwrites.set_gate(lane.channel_id, MINRANK_GATE, admitted, reason=f"{REASON}: Mindest-Rang")

    async def _post_lane_panel(self, lane: Lane) -> None:
        """The panel in the lane's own voice chat: edited in place if it exists."""
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
        async with self.db.transaction() as conn:
            await queries.tempvoice.upsert_lane_panel(
                conn,
                guild_id=lane.guild_id,
                channel_id=lane.channel_id,
                message_id=message_id,
                lane_id=lane.channel_id,
                updated_at=legacy_timestamp(self.clock),
            )

    # -- panel actions -----------------------------------------------------------------

    async def resolve_lane(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> Lane | Reply:
        """The lane a panel click acts on: the panel's own lane, else the lane the clicker is in."""
        if panel_channel_id is not None:
            lane = await self._lane(panel_channel_id)
            if lane is not None:
                return lane
        current = self.view.voice_channel_of(guild_id, clicker_id)
        if current is None:
            return Reply(False, T.JOIN_LANE_FIRST)
        lane = await self._lane(current)
        return lane if lane is not None else Reply(False, T.NOT_A_LANE)

    def _clicker(self, guild_id: int, member_id: int) -> MemberInfo | None:
        return self.view.member(guild_id, member_id)

    def _may_manage(self, lane: Lane, member: MemberInfo | None, *, admin_only: bool = False) -> bool:
        if member is None:
            return False
        if member.id == lane.owner_id or member.administrator:
            return True
        return not admin_only and member.manage_channels

    async def _guarded(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, *, admin_only: bool = False
    ) -> tuple[Lane, MemberInfo] | Reply:
        lane = await self.resolve_lane(guild_id, clicker_id, panel_channel_id)
        if isinstance(lane, Reply):
            return lane
        member = self._clicker(guild_id, clicker_id)
        if member is None or not self._may_manage(lane, member, admin_only=admin_only):
            return Reply(False, T.NOT_OWNER_OR_ADMIN if admin_only else T.NOT_OWNER)
        return lane, member

    async def set_region(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, region: str) -> Reply:
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, _ = guarded
        region = "DE" if region == "DE" else "EU"
        async with self._lane_locks(lane.channel_id):
            async with self.db.transaction() as conn:
                # the preference belongs to the owner, whoever clicked (a moderator may set it for them)
                await queries.tempvoice.set_region(
                    conn, owner_id=lane.owner_id, region=region, updated_at=legacy_timestamp(self.clock)
                )
                owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
            for other in owned:
                await self._apply_region(other.channel_id, region)
        return Reply(True, T.REGION_DE if region == "DE" else T.REGION_EU)

    async def claim(self, guild_id: int, clicker_id: int, panel_channel_id: int | None) -> Reply:
        lane = await self.resolve_lane(guild_id, clicker_id, panel_channel_id)
        if isinstance(lane, Reply):
            return lane
        member = self._clicker(guild_id, clicker_id)
        if member is None:
            return Reply(False, T.NOT_OWNER)
        async with self._lane_locks(lane.channel_id):
            fresh = await self._lane(lane.channel_id)
            if fresh is None:
                return Reply(False, T.NOT_A_LANE)
            if fresh.owner_id == clicker_id:
                return Reply(False, T.ALREADY_OWNER)
            present = self._present(fresh.channel_id)
            is_mod = member.manage_channels or member.administrator
            if not is_mod and clicker_id not in present:
                return Reply(False, T.JOIN_LANE_FIRST)
            if not is_mod and fresh.owner_id in present:
                return Reply(False, T.CLAIM_OWNER_PRESENT)
            await self._transfer(fresh, clicker_id)
        return Reply(True, T.CLAIMED)

    async def set_limit(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> Reply:
        try:
            limit = parse_user_limit(raw)
        except LimitError:
            return Reply(False, T.LIMIT_INVALID)
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, _ = guarded
        try:
            await self.actions.edit_channel(lane.channel_id, user_limit=limit, reason=f"{REASON}: Limit")
        except PortError as e:
            log.warning("setting the limit of lane %s failed: %s", lane.channel_id, e)
            return Reply(False, T.ERROR)
        return Reply(True, T.LIMIT_SET.format(limit=limit) if limit else T.LIMIT_REMOVED)

    async def apply_template(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, name: str) -> Reply:
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, _ = guarded
        base, limit = TEMPLATES[name]
        async with self._lane_locks(lane.channel_id):
            number = lane.lane_number
            if base is None:  # "Normale Lane": back to "Lane N" and the category's default cap
                if number is None:
                    number = await self._reserve_number(lane.guild_id, lane.category_id)
                    await self._unreserve(lane.guild_id, lane.category_id, number)
                base = lane_name(number)
            else:
                number = None  # a template name frees the lane's number
            ranked = lane.category_id in self.config.ranked_category_ids
            if limit is None:
                limit = self.config.ranked_cap if ranked else self.config.default_cap
            try:
                async with self.db.transaction() as conn:
                    await queries.tempvoice.set_lane_base_name(
                        conn, channel_id=lane.channel_id, base_name=base, lane_number=number
                    )
            except IntegrityError:
                return Reply(False, T.ERROR)
            try:
                await self.actions.edit_channel(lane.channel_id, user_limit=limit, reason=f"{REASON}: Vorlage")
            except PortError as e:
                log.warning("applying a template to lane %s failed: %s", lane.channel_id, e)
                return Reply(False, T.ERROR)
            self.renamer.set_part(lane.channel_id, "base", base)
        text = (T.TEMPLATE_RESET if name == "reset" else T.TEMPLATE_SET).format(name=base, limit=limit)
        return Reply(True, text + (T.RENAME_PENDING if self.renamer.is_pending(lane.channel_id) else ""))

    async def kick_candidates(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None
    ) -> list[MemberInfo] | Reply:
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, _ = guarded
        members = [self.view.member(guild_id, m) for m in self._present(lane.channel_id) if m != clicker_id]
        found = [m for m in members if m is not None][:25]  # a select holds at most 25 options
        return found or Reply(False, T.KICK_NOBODY)

    async def kick(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, target_id: int) -> Reply:
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, _ = guarded
        if target_id == clicker_id:
            return Reply(False, T.KICK_SELF)
        if target_id not in self._present(lane.channel_id):
            return Reply(False, T.KICK_NOT_IN_LANE)
        await self._disconnect(guild_id, target_id, lane.channel_id)
        return Reply(True, T.KICKED.format(member=self._display(guild_id, target_id)))

    def _display(self, guild_id: int, member_id: int) -> str:
        info = self.view.member(guild_id, member_id)
        return info.display_name if info else str(member_id)

    def resolve_member(self, guild_id: int, raw: str) -> int | Reply:
        """`<@id>`, an id, or an exact (case-insensitive) user, global or display name."""
        text = raw.strip()
        digits = text.removeprefix("<@").removeprefix("!").removesuffix(">")
        if digits.isdigit():
            return int(digits)
        name = text.removeprefix("@").casefold()
        if not name:
            return Reply(False, T.USER_NOT_FOUND)
        hits = [m.id for m in self.view.members(guild_id) if any(n.casefold() == name for n in m.names)]
        if len(hits) > 1:
            return Reply(False, T.USER_AMBIGUOUS)
        return hits[0] if hits else Reply(False, T.USER_NOT_FOUND)

    async def _ban_target(
        self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str
    ) -> tuple[Lane, int] | Reply:
        """Ban and unban: the owner (or an admin) and the member they typed."""
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id, admin_only=True)
        if isinstance(guarded, Reply):
            return guarded
        target = self.resolve_member(guild_id, raw)
        return target if isinstance(target, Reply) else (guarded[0], target)

    async def ban(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> Reply:
        found = await self._ban_target(guild_id, clicker_id, panel_channel_id, raw)
        if isinstance(found, Reply):
            return found
        lane, target = found
        if target == lane.owner_id:
            return Reply(False, T.BAN_SELF)
        async with self.db.transaction() as conn:
            added = await queries.tempvoice.add_ban(
                conn, owner_id=lane.owner_id, banned_id=target, created_at=legacy_timestamp(self.clock)
            )
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
        for other in owned:
            async with self._lane_locks(other.channel_id):
                await self._set_member_connect(other.channel_id, target, False)
                await self._disconnect(guild_id, target, other.channel_id)
        name = self._display(guild_id, target)
        return Reply(True, (T.BANNED if added else T.ALREADY_BANNED).format(member=name))

    async def unban(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, raw: str) -> Reply:
        found = await self._ban_target(guild_id, clicker_id, panel_channel_id, raw)
        if isinstance(found, Reply):
            return found
        lane, target = found
        async with self.db.transaction() as conn:
            removed = await queries.tempvoice.remove_ban(conn, owner_id=lane.owner_id, banned_id=target)
            owned = await queries.tempvoice.list_lanes_by_owner(conn, owner_id=lane.owner_id)
        for other in owned:
            async with self._lane_locks(other.channel_id):
                await self._set_member_connect(other.channel_id, target, None)  # only the connect deny
        name = self._display(guild_id, target)
        return Reply(True, (T.UNBANNED if removed else T.NOT_BANNED).format(member=name))

    async def set_min_rank(self, guild_id: int, clicker_id: int, panel_channel_id: int | None, min_rank: int) -> Reply:
        guarded = await self._guarded(guild_id, clicker_id, panel_channel_id)
        if isinstance(guarded, Reply):
            return guarded
        lane, member = guarded
        if lane.category_id not in self.config.minrank_category_ids:
            return Reply(False, T.MINRANK_WRONG_CATEGORY)
        roles = {r.id: r.name for r in self.view.roles(guild_id)}
        own = self.config.rank_roles.member_rank((rid, roles.get(rid, "")) for rid in member.role_ids)
        if min_rank > own and not member.administrator:
            return Reply(False, T.MINRANK_ABOVE_OWN.format(rank=rank_name(own)))
        async with self._lane_locks(lane.channel_id):
            async with self.db.transaction() as conn:
                await queries.tempvoice.set_lane_min_rank(conn, channel_id=lane.channel_id, min_rank=min_rank)
            await self._apply_min_rank(lane, min_rank)
            self.renamer.set_part(lane.channel_id, "minrank", minrank_suffix(min_rank))
        if min_rank <= 0:
            return Reply(True, T.MINRANK_CLEARED)
        return Reply(True, T.MINRANK_SET.format(rank=rank_name(min_rank)))

    # -- the global panel ----------------------------------------------------------------

    async def post_global_panel(self, guild_id: int, channel_id: int) -> int:
        """`!tvpanel`: one panel per channel; posting again replaces the old one."""
        async with self._lane_locks(("panel", channel_id)):
            async with self.db.read() as conn:
                old = await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=channel_id)
            for panel in old:
                with contextlib.suppress(NotFound, Forbidden):  # already gone, or not ours to delete
                    await self.actions.delete_message(channel_id, panel.message_id)
            message_id = await self.actions.send_panel(channel_id, lane_id=None, owner_id=None)
            async with self.db.transaction() as conn:
                await queries.tempvoice.delete_global_panels_in_channel(conn, channel_id=channel_id)
                await queries.tempvoice.insert_global_panel(
                    conn,
                    guild_id=guild_id,
                    channel_id=channel_id,
                    message_id=message_id,
                    updated_at=legacy_timestamp(self.clock),
                )
        return message_id

    @property
    def lock_count(self) -> int:
        """Locks currently held or awaited (they are dropped when free: no unbounded maps)."""
        return self._member_locks.size + self._lane_locks.size + self._number_locks.size


_RETRY = object()
_FULL = object()

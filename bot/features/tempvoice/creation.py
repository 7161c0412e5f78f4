"""Creating a lane when a member joins a staging channel.

Concurrency rules:

* one lock per member around creation (a duplicate event for the same member is dropped);
  with several bot processes on one database, a claim row decides which one creates;
* a lane number is picked and recorded in the member's claim in one statement, under a
  per-category lock shared by all processes; the claim holds it until the lane row exists;
  the unique (guild, category, lane_number) index turns a missed race (another process)
  into an IntegrityError, and the creator deletes its channel and tries again;
* a lane of an owner with a preset name is created with that name directly (no number);
* the new lane's lock is taken after the owner's move (a lock held across it would make
  another process's reconcile wait for Discord), and the row is read once more under it,
  together with the owner's region and bans (one query);
* Discord does not order gateway events with HTTP responses: once moving the member into
  the new lane succeeded, the member is in the lane, whatever the cache says. Only a later
  event that says they left (handled by lane life) removes the lane.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import random
from collections.abc import Iterator

from bot.db import IntegrityError
from bot.db.queries import Lane, LanePreset, queries
from bot.discord_glue.ports import LimitReached, PortError
from bot.features.tempvoice import texts
from bot.features.tempvoice.lanes import REASON, Lanes
from bot.features.tempvoice.rules import lane_name
from bot.shared.clock import legacy_timestamp
from bot.shared.common import KeyedLocks
from bot.shared.coordination import SharedLocks

log = logging.getLogger(__name__)

T = texts.TempVoice
CATEGORY_CHANNEL_LIMIT = 50
GUILD_CHANNEL_LIMIT = 500
CREATE_ATTEMPTS = 8
CLAIM_STALE_SECONDS = 60  # a claim older than this belongs to a process that died


class Attempt(enum.Enum):
    DONE = "done"  # created, or given up with the member told why
    RETRY = "retry"  # another process took the number, or the category filled: look again


class NoRoom(Exception):
    """No category (home or overflow) and not the guild has room for another channel."""


class LaneCreator:
    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self._member_locks = KeyedLocks()
        # picking a number is one statement, but on PostgreSQL two concurrent statements do not see
        # each other's uncommitted claim: one pick at a time per category, across processes
        self._number_locks = SharedLocks(lanes.db, "tempvoice_numbers")
        # channels being created right now, per category and per guild: counted against the
        # limits so concurrent creations do not overshoot a category and fail one by one
        self._creating: collections.Counter[object] = collections.Counter()
        self._jitter = random.Random()

    @property
    def lock_count(self) -> int:
        return self._member_locks.size + self._number_locks.size

    async def create(self, guild_id: int, member_id: int, staging_id: int) -> None:
        lanes = self.lanes
        key = (guild_id, member_id)
        if self._member_locks.locked(key):
            return  # a lane for this member is being created right now
        async with self._member_locks(key):
            if lanes.view.voice_channel_of(guild_id, member_id) != staging_id:
                return
            staging = lanes.view.channel(staging_id)
            if staging is None:
                return
            if not await self._claim(guild_id, member_id):
                return  # another bot process is creating this member's lane right now
            try:
                if lanes.view.voice_channel_of(guild_id, member_id) != staging_id:
                    return  # another process created their lane and moved them while we claimed
                preset = await lanes.hooks.lane_preset(member_id)
                for attempt in range(CREATE_ATTEMPTS):
                    home = staging.category_id
                    if await self._try_create(guild_id, member_id, staging_id, home, preset) is Attempt.DONE:
                        return
                    # another process took the number (or the category filled): let it commit, look again
                    await asyncio.sleep(self._jitter.uniform(0, 0.005 * (attempt + 1)))
                await lanes.actions.notify_member(guild_id, member_id, T.CREATE_FAILED)
            finally:
                async with lanes.db.write() as conn:
                    await queries.tempvoice.release_creation(
                        conn, guild_id=guild_id, member_id=member_id, claimer=lanes.claimer
                    )

    async def _claim(self, guild_id: int, member_id: int) -> bool:
        """The database decides which process creates the lane (the process-local lock cannot)."""
        now = self.lanes.clock.now()
        async with self.lanes.db.write() as conn:
            claimed = await queries.tempvoice.claim_creation(
                conn, guild_id=guild_id, member_id=member_id, claimer=self.lanes.claimer, claimed_at=now,
                stale_before=now - CLAIM_STALE_SECONDS,
            )  # fmt: skip
        return claimed == 1

    # -- room and numbers --------------------------------------------------------------------

    def _categories(self, home: int | None) -> Iterator[int | None]:
        yield home
        yield from (c for c in self.lanes.config.overflow_category_ids if c != home)

    def _has_room(self, guild_id: int, category_id: int | None) -> bool:
        view = self.lanes.view
        if view.channels_in_guild(guild_id) + self._creating[("guild", guild_id)] >= GUILD_CHANNEL_LIMIT:
            return False
        if category_id is None:
            return True
        return view.channels_in_category(category_id) + self._creating[category_id] < CATEGORY_CHANNEL_LIMIT

    def _pick_category(self, guild_id: int, home: int | None) -> int | None:
        for category in self._categories(home):
            if self._has_room(guild_id, category):
                return category
        raise NoRoom(guild_id)

    def _release_slots(self, slots: tuple[object, ...]) -> None:
        self._creating.subtract(slots)
        self._creating += collections.Counter()  # drop the zero counts

    async def claim_number(self, guild_id: int, member_id: int, category_key: int) -> int | None:
        """The lowest free "Lane N" of the category, held by the member's creation claim until
        the lane row exists: processes sharing the database pick different numbers. None: the
        claim is no longer this process's (it went stale and another process took it over)."""
        lanes = self.lanes
        # one pick at a time, across processes
        async with self._number_locks((guild_id, category_key)), lanes.db.write() as conn:
            return await queries.tempvoice.claim_lane_number(
                conn, guild_id=guild_id, member_id=member_id, claimer=lanes.claimer, category_id=category_key,
                stale_before=lanes.clock.now() - CLAIM_STALE_SECONDS,
            )  # fmt: skip

    async def take_number(self, lane: Lane) -> int | None:
        """A lane going back to "Lane N" gets the lowest free number of its category (None: the lane is gone)."""
        lanes = self.lanes
        async with self._number_locks((lane.guild_id, lane.category_id)), lanes.db.write() as conn:
            return await queries.tempvoice.take_lane_number(
                conn, channel_id=lane.channel_id, guild_id=lane.guild_id, category_id=lane.category_id,
                stale_before=lanes.clock.now() - CLAIM_STALE_SECONDS,
            )  # fmt: skip

    # -- one attempt -------------------------------------------------------------------------

    async def _try_create(
        self, guild_id: int, member_id: int, staging_id: int, home: int | None, preset: LanePreset | None
    ) -> Attempt:
        lanes = self.lanes
        try:
            category = self._pick_category(guild_id, home)
        except NoRoom:
            await lanes.actions.notify_member(guild_id, member_id, T.CATEGORY_FULL)
            return Attempt.DONE
        category_key = category or 0
        slots = (category, ("guild", guild_id)) if category is not None else (("guild", guild_id),)
        self._creating.update(slots)  # taken in the same step as the room check: no await between
        name = preset.name if preset is not None and preset.name else None  # a preset's name: no number
        number: int | None = None
        if name is None:
            try:
                number = await self.claim_number(guild_id, member_id, category_key)
            except BaseException:
                self._release_slots(slots)
                raise
            if number is None:
                self._release_slots(slots)
                return Attempt.DONE  # our claim went stale and another process creates the lane
            name = lane_name(number)
        try:
            channel_id = await self._create_channel(guild_id, member_id, category, name, slots)
        except LimitReached:
            return Attempt.RETRY  # the category filled up meanwhile: look again
        except PortError as e:
            log.warning("creating a lane for %s failed: %s", member_id, e)
            await lanes.actions.notify_member(guild_id, member_id, T.CREATE_FAILED)
            return Attempt.DONE
        if lanes.view.voice_channel_of(guild_id, member_id) != staging_id:
            # an event said they left the staging channel while we created: nobody to move
            await lanes.delete_channel(channel_id, "Ersteller hat Staging verlassen")
            return Attempt.DONE
        lane = Lane(channel_id, guild_id, member_id, name, category_key, number, 0, legacy_timestamp(lanes.clock))
        try:
            # committed before the move (on PostgreSQL, a lock's transaction would hold it back): if
            # this process dies now, the row lets a later reconcile remove the channel
            await self._insert(lane, staging_id)
        except IntegrityError:
            # another process took "Lane N" in this category: undo and pick again
            log.warning("lane number %s in category %s was taken concurrently; retrying", number, category_key)
            await lanes.delete_channel(channel_id, "Lane-Nummer doppelt vergeben")
            return Attempt.RETRY
        await self._move_in(lane, preset)
        return Attempt.DONE

    async def _create_channel(
        self, guild_id: int, member_id: int, category: int | None, name: str, slots: tuple[object, ...]
    ) -> int:
        view = self.lanes.view
        try:
            return await self.lanes.actions.create_voice_channel(
                guild_id,
                category_id=category,
                name=name,
                user_limit=self.lanes.cap(category),
                bitrate=view.bitrate_limit(guild_id),
                overwrites=view.category_overwrites(category) if category else {},
                reason=f"{REASON}: Lane für {member_id}",
            )
        finally:
            # from here the channel counts in Discord's own numbers (or does not exist)
            self._release_slots(slots)

    async def _insert(self, lane: Lane, staging_id: int) -> None:
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
            await queries.tempvoice.insert_lane(
                conn,
                channel_id=lane.channel_id,
                guild_id=lane.guild_id,
                owner_id=lane.owner_id,
                base_name=lane.base_name,
                category_id=lane.category_id,
                lane_number=lane.lane_number,
                min_rank=lane.min_rank,
                source_staging_id=staging_id,
                created_at=lane.created_at,
            )
            await queries.tempvoice.add_lane_member(
                conn, channel_id=lane.channel_id, user_id=lane.owner_id, joined_at=lanes.clock.now()
            )
            # the row's base_name is the lane's base for the rename scheduler (core.get_base_name)
            # until someone wishes another: never learned from the name Discord shows

    async def _move_in(self, lane: Lane, preset: LanePreset | None) -> None:
        """Under the lane's lock: move the owner in, then their settings, the hooks and the panel."""
        lanes = self.lanes
        try:
            await lanes.actions.move_member(lane.guild_id, lane.owner_id, lane.channel_id, reason=REASON)
        except PortError as e:
            log.info("moving %s into their new lane failed (%s); removing it", lane.owner_id, e)
            async with lanes.locks(lane.channel_id):
                await lanes.delete(lane.channel_id, "Verschieben fehlgeschlagen")
            return
        # The move succeeded: the member is in the lane now. Its VOICE_STATE_UPDATE may come
        # before, after or (rarely) never; the cache is no proof that they left. The lock is
        # taken only now (another process's reconcile may wait for it), so the row is read
        # again, with the owner's settings in the same read: an event may have removed the
        # lane meanwhile (or passed it on).
        async with lanes.locks(lane.channel_id):
            read = await lanes.get_with_owner_settings(lane.channel_id)
            if read is None:
                return  # an event said they left again, and the lane went with them
            fresh, settings = read
            await lanes.apply_owner_settings(fresh, fresh.owner_id, settings=settings)
            await lanes.hooks.lane_created(fresh, preset)
            await lanes.post_panel(fresh, new=True)

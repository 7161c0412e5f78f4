"""Creating a lane when a member joins a staging channel.

Concurrency rules:

* one lock per member around creation (a duplicate event for the same member is dropped);
  with several bot processes on one database, a claim row decides which one creates;
* lane numbers are picked under a per-category lock shared by all processes and reserved
  until the row exists;
  the unique (guild, category, lane_number) index turns a missed race (another process)
  into an IntegrityError, and the creator deletes its channel and tries again;
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
from bot.db.queries import queries
from bot.discord_glue.ports import LimitReached, PortError
from bot.features.tempvoice import texts
from bot.features.tempvoice.lanes import REASON, Lanes
from bot.features.tempvoice.rules import lane_name, lowest_free_number
from bot.shared.clock import legacy_timestamp
from bot.shared.common import KeyedLocks
from bot.shared.coordination import SharedLocks

log = logging.getLogger(__name__)

T = texts.TempVoice
CATEGORY_CHANNEL_LIMIT = 50
GUILD_CHANNEL_LIMIT = 500
CREATE_ATTEMPTS = 8
CLAIM_STALE_SECONDS = 60  # a claim older than this belongs to a process that died
RESERVE_ATTEMPTS = 100  # each lost race reveals one more reserved number: this is never reached


class Attempt(enum.Enum):
    DONE = "done"  # created, or given up with the member told why
    RETRY = "retry"  # another process took the number, or the category filled: look again


class NoRoom(Exception):
    """No category (home or overflow) and not the guild has room for another channel."""


class LaneCreator:
    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self._member_locks = KeyedLocks()
        # picking a number (read what is taken, reserve one) is one step across processes: between
        # another process's read and reserve, a lane could commit and drop its reservation, and the
        # number would look free again (the channel was created twice and one deleted)
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
                for attempt in range(CREATE_ATTEMPTS):
                    if await self._try_create(guild_id, member_id, staging_id, staging.category_id) is Attempt.DONE:
                        return
                    # another process took the number (or the category filled): let it commit, look again
                    await asyncio.sleep(self._jitter.uniform(0, 0.005 * (attempt + 1)))
                await lanes.actions.notify_member(guild_id, member_id, T.CREATE_FAILED)
            finally:
                async with lanes.db.transaction() as conn:
                    await queries.tempvoice.release_creation(
                        conn, guild_id=guild_id, member_id=member_id, claimer=lanes.claimer
                    )

    async def _claim(self, guild_id: int, member_id: int) -> bool:
        """The database decides which process creates the lane (the process-local lock cannot)."""
        now = self.lanes.clock.now()
        async with self.lanes.db.transaction() as conn:
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

    async def reserve_number(self, guild_id: int, category_key: int) -> int:
        """The lowest free "Lane N" of the category, reserved in the database until the lane
        row exists: processes sharing the database pick different numbers."""
        lanes = self.lanes
        async with self._number_locks((guild_id, category_key)):  # one pick at a time, across processes
            for _ in range(RESERVE_ATTEMPTS):
                now = lanes.clock.now()
                async with lanes.db.read() as conn:
                    taken = {
                        r.lane_number
                        for r in await queries.tempvoice.list_taken_numbers(
                            conn, guild_id=guild_id, category_id=category_key, stale_before=now - CLAIM_STALE_SECONDS
                        )
                    }
                number = lowest_free_number(taken)
                async with lanes.db.write() as conn:
                    reserved = await queries.tempvoice.reserve_number(
                        conn, guild_id=guild_id, category_id=category_key, lane_number=number,
                        claimer=lanes.claimer, reserved_at=now, stale_before=now - CLAIM_STALE_SECONDS,
                    )  # fmt: skip
                if reserved:
                    return number
                # another process reserved it between our read and our write: read again
        raise RuntimeError(
            f"no lane number could be reserved in category {category_key} after {RESERVE_ATTEMPTS} tries"
        )

    async def unreserve(self, guild_id: int, category_key: int, number: int) -> None:
        # after the lane row committed (or the creation gave up): a pick sees the row or this
        async with self.lanes.db.write() as conn:
            await queries.tempvoice.release_number(
                conn, guild_id=guild_id, category_id=category_key, lane_number=number, claimer=self.lanes.claimer
            )

    # -- one attempt -------------------------------------------------------------------------

    async def _try_create(self, guild_id: int, member_id: int, staging_id: int, home: int | None) -> Attempt:
        lanes = self.lanes
        try:
            category = self._pick_category(guild_id, home)
        except NoRoom:
            await lanes.actions.notify_member(guild_id, member_id, T.CATEGORY_FULL)
            return Attempt.DONE
        category_key = category or 0
        slots = (category, ("guild", guild_id)) if category is not None else (("guild", guild_id),)
        self._creating.update(slots)  # taken in the same step as the room check: no await between
        try:
            number = await self.reserve_number(guild_id, category_key)
        except BaseException:
            self._release_slots(slots)
            raise
        try:
            try:
                channel_id = await self._create_channel(guild_id, member_id, category, number, slots)
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
            try:
                await self._insert(guild_id, member_id, staging_id, channel_id, category_key, number)
            except IntegrityError:
                # another process took "Lane N" in this category: undo and pick again
                log.warning("lane number %s in category %s was taken concurrently; retrying", number, category_key)
                await lanes.delete_channel(channel_id, "Lane-Nummer doppelt vergeben")
                return Attempt.RETRY
        finally:
            await self.unreserve(guild_id, category_key, number)
        await self._move_in(guild_id, member_id, channel_id)
        return Attempt.DONE

    async def _create_channel(
        self, guild_id: int, member_id: int, category: int | None, number: int, slots: tuple[object, ...]
    ) -> int:
        view = self.lanes.view
        try:
            return await self.lanes.actions.create_voice_channel(
                guild_id,
                category_id=category,
                name=lane_name(number),
                user_limit=self.lanes.cap(category),
                bitrate=view.bitrate_limit(guild_id),
                overwrites=view.category_overwrites(category) if category else {},
                reason=f"{REASON}: Lane für {member_id}",
            )
        finally:
            # from here the channel counts in Discord's own numbers (or does not exist)
            self._release_slots(slots)

    async def _insert(
        self, guild_id: int, member_id: int, staging_id: int, channel_id: int, category_key: int, number: int
    ) -> None:
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
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
                created_at=legacy_timestamp(lanes.clock),
            )
            await queries.tempvoice.add_lane_member(
                conn, channel_id=channel_id, user_id=member_id, joined_at=lanes.clock.now()
            )

    async def _move_in(self, guild_id: int, member_id: int, channel_id: int) -> None:
        lanes = self.lanes
        try:
            await lanes.actions.move_member(guild_id, member_id, channel_id, reason=REASON)
        except PortError as e:
            log.info("moving %s into their new lane failed (%s); removing it", member_id, e)
            async with lanes.locks(channel_id):
                await lanes.delete(channel_id, "Verschieben fehlgeschlagen")
            return
        # The move succeeded: the member is in the lane now. Its VOICE_STATE_UPDATE may come
        # before, after or (rarely) never; the cache is no proof that they left.
        async with lanes.locks(channel_id):
            lane = await lanes.get(channel_id)
            if lane is None:
                return  # an event said they left again, and the lane went with them
            await lanes.apply_owner_settings(lane, lane.owner_id)
            await lanes.hooks.lane_created(lane)
            await lanes.post_panel(lane)

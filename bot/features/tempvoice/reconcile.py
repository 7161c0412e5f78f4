"""Bringing the lanes of a guild in line with Discord (at start and every few minutes).

Discord is the truth about which channels exist and who is in them once the gateway has
caught up (a full guild payload at start, then events): vanished lanes lose their rows,
empty ones are deleted, the join order follows who is there, an absent owner is succeeded.
A lane whose creation is still in flight (a creation claim of its owner younger than
CLAIM_STALE_SECONDS, in any process) is left alone: its row exists before its creator is moved
in, and another process's channel may not be in this cache yet.
"""

from __future__ import annotations

from bot.db.queries import Lane, queries
from bot.features.tempvoice.creation import CLAIM_STALE_SECONDS
from bot.features.tempvoice.lanes import Lanes
from bot.features.tempvoice.life import LaneLife


class Reconciler:
    def __init__(self, lanes: Lanes, life: LaneLife) -> None:
        self.lanes = lanes
        self.life = life

    async def reconcile(self, guild_id: int) -> int:
        """Returns the changes made. Idempotent."""
        changes = 0
        fresh_after = self.lanes.clock.now() - CLAIM_STALE_SECONDS
        async with self.lanes.db.read() as conn:
            lanes = await queries.tempvoice.list_lanes_by_guild(conn, guild_id=guild_id)
            rows = await queries.tempvoice.list_creations_in_flight(conn, guild_id=guild_id, fresh_after=fresh_after)
        creating = {r.member_id for r in rows}
        for lane in lanes:
            if lane.owner_id in creating:
                continue  # its creator is being moved in (here or by another process)
            async with self.lanes.locks(lane.channel_id):
                changes += await self._one(lane)
        return changes

    async def restore(self, guild_id: int) -> int:
        """The first reconcile after a start; the panels of the lanes left are edited in place."""
        changes = await self.reconcile(guild_id)
        async with self.lanes.db.read() as conn:
            lanes = await queries.tempvoice.list_lanes_by_guild(conn, guild_id=guild_id)
        for lane in lanes:
            async with self.lanes.locks(lane.channel_id):
                fresh = await self.lanes.get(lane.channel_id)
                if fresh is not None:
                    await self.lanes.post_panel(fresh)
        return changes

    async def _one(self, lane: Lane) -> int:
        lanes = self.lanes
        if lanes.view.channel(lane.channel_id) is None:
            await lanes.drop_rows(lane.channel_id)
            return 1
        present = await lanes.occupants(lane.guild_id, lane.channel_id)
        if not present:
            await lanes.delete(lane.channel_id, "leer nach Neustart")
            return 1
        async with lanes.db.transaction() as conn:
            recorded = [m.user_id for m in await queries.tempvoice.list_lane_members(conn, channel_id=lane.channel_id)]
            for gone in set(recorded) - set(present):
                await queries.tempvoice.remove_lane_member(conn, channel_id=lane.channel_id, user_id=gone)
            for new in [m for m in present if m not in recorded]:
                await queries.tempvoice.add_lane_member(
                    conn, channel_id=lane.channel_id, user_id=new, joined_at=lanes.clock.now()
                )
        if lane.owner_id not in present:
            await self.life.succeed(lane, present)
            return 1
        return 0

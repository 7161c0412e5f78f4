"""A lane's life after creation: joins, leaves, owner succession, bans on rejoin, deletion.

A lane is empty when the gateway said its last member left (an event), never because the
cache did not show the member the bot itself just moved in.
"""

from __future__ import annotations

import dataclasses

from bot.db.queries import Lane, queries
from bot.features.tempvoice.lanes import Lanes
from bot.features.tempvoice.rules import lane_name


class LaneLife:
    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes

    async def joined(self, guild_id: int, channel_id: int, member_id: int) -> None:
        lanes = self.lanes
        async with lanes.locks(channel_id):
            state = await lanes.state(channel_id, member_id)  # one read: the lane, the ban, the members
            if state is None:
                return  # not ours: never adopt a channel the bot did not create
            if state.banned and member_id != state.lane.owner_id:
                await lanes.set_ban(channel_id, member_id, True)
                await lanes.disconnect(guild_id, member_id, channel_id)
                return
            if member_id in state.members:
                return  # recorded already (the owner moved into their new lane, a repeated event)
            async with lanes.db.write() as conn:
                await queries.tempvoice.add_lane_member(
                    conn, channel_id=channel_id, user_id=member_id, joined_at=lanes.clock.now()
                )

    async def left(self, guild_id: int, channel_id: int, member_id: int) -> None:
        """An event said `member_id` left the lane."""
        lanes = self.lanes
        async with lanes.locks(channel_id):
            state = await lanes.state(channel_id, member_id)  # one read: the lane and its members
            if state is None:
                return
            lane = state.lane
            recorded = [m for m in state.members if m != member_id]
            present = await lanes.occupants(guild_id, channel_id, left=member_id, recorded=recorded)
            if not present and await lanes.delete(channel_id, "Lane ist leer"):
                return  # the member rows went with the lane
            if member_id in state.members:
                async with lanes.db.write() as conn:
                    await queries.tempvoice.remove_lane_member(conn, channel_id=channel_id, user_id=member_id)
            if present and (lane.owner_id == member_id or lane.owner_id not in present):
                await self.succeed(lane, present, order=recorded)

    async def succeed(self, lane: Lane, present: list[int], *, order: list[int] | None = None) -> None:
        """Ownership passes to the member who joined earliest (join order is persisted; `order`:
        the recorded members in join order, if the caller read them)."""
        if order is None:
            async with self.lanes.db.read() as conn:
                rows = await queries.tempvoice.list_lane_members(conn, channel_id=lane.channel_id)
            order = [m.user_id for m in rows]
        candidates = [m for m in order if m in present and m != lane.owner_id]
        if candidates:
            await self.transfer(lane, candidates[0], recorded=True)
        else:
            await self.transfer(lane, next(m for m in present if m != lane.owner_id))

    async def transfer(self, lane: Lane, new_owner: int, *, recorded: bool = False) -> None:
        """`recorded`: the new owner has a member row already (it keeps its place in the order)."""
        lanes = self.lanes
        async with lanes.db.transaction() as conn:
            await queries.tempvoice.set_lane_owner(conn, channel_id=lane.channel_id, owner_id=new_owner)
            if not recorded:
                await queries.tempvoice.add_lane_member(
                    conn, channel_id=lane.channel_id, user_id=new_owner, joined_at=lanes.clock.now()
                )
        updated = dataclasses.replace(lane, owner_id=new_owner)
        # the old owner's bans go, the new one's come
        await lanes.apply_owner_settings(updated, new_owner, previous=lane.owner_id)
        await lanes.hooks.owner_changed(updated, lane.owner_id)
        await lanes.post_panel(updated)

    async def renamed(self, channel_id: int, base: str) -> None:
        """Discord confirmed the lane's name: only now a template name frees its "Lane N"."""
        lanes = self.lanes
        async with lanes.locks(channel_id):
            lane = await lanes.get(channel_id)
            if lane is None or lane.base_name == base:
                return
            number = lane.lane_number
            if number is not None and base != lane_name(number):
                number = None
            async with lanes.db.transaction() as conn:
                await queries.tempvoice.set_lane_base_name(
                    conn, channel_id=channel_id, base_name=base, lane_number=number
                )

    async def channel_deleted(self, channel_id: int) -> None:
        """A lane deleted by hand (or by anyone): drop its rows."""
        async with self.lanes.locks(channel_id):
            await self.lanes.drop_rows(channel_id)

    async def member_joined_guild(self, guild_id: int, member_id: int) -> None:
        """A banned member came back to the server: re-apply the denies on the banners' lanes."""
        async with self.lanes.db.read() as conn:
            owners = [o.owner_id for o in await queries.tempvoice.list_owners_banning(conn, banned_id=member_id)]
            owned = [lane for o in owners for lane in await queries.tempvoice.list_lanes_by_owner(conn, owner_id=o)]
        for lane in owned:
            if lane.guild_id == guild_id:
                async with self.lanes.locks(lane.channel_id):
                    await self.lanes.overwrites.reapply(lane.channel_id, reason="TempVoice: Bann")

"""Correct use of the generated accessors: mypy --strict must accept all of it."""

from __future__ import annotations

from bot.db import Database
from bot.db.queries import Lane, queries


async def good(db: Database) -> str | None:
    async with db.read() as conn:
        lane: Lane | None = await queries.tempvoice.get_lane(conn, channel_id=1)
        if lane is None:
            return None
        owner: int = lane.owner_id
        lanes: int = len(await queries.tempvoice.list_lanes_by_guild(conn, guild_id=owner))
    async with db.transaction() as tx:
        await queries.tempvoice.set_lane_owner(tx, channel_id=lane.channel_id, owner_id=lanes)
        await queries.balancer.add_match_players(
            tx, [{"match_id": 1, "user_id": 2, "team": "amber", "rank_value": 3, "rank_subtier": 1, "rank_name": "x"}]
        )
        return await queries.tempvoice.get_region(tx, owner_id=owner)

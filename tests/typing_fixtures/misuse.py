"""Misuse of the generated accessors. Each `# E:` line must be a mypy --strict error containing the text."""

from __future__ import annotations

import aiosqlite

from bot.db import Database
from bot.db.queries import queries


async def misuse(db: Database, raw: aiosqlite.Connection) -> None:
    async with db.read() as conn:
        await queries.tempvoice.get_lane(conn, channel_idd=1)  # E: Unexpected keyword argument "channel_idd"
        await queries.tempvoice.get_lane(conn, channel_id="1")  # E: incompatible type "str"; expected "int"
        await queries.tempvoice.get_lane(conn, 1)  # E: Too many positional arguments
        lane = await queries.tempvoice.get_lane(conn, channel_id=1)
        print(lane.owner_id)  # E: Item "None" of "Lane | None" has no attribute "owner_id"
        if lane is not None:
            print(lane.ownerid)  # E: "Lane" has no attribute "ownerid"
            limit: int = lane.lane_number  # E: Incompatible types in assignment
            print(limit)
        await queries.tempvoice.set_lane_owner(conn, channel_id=1, owner_id=2)  # E: expected "WriteConn"
        await queries.tempvoce.get_lane(conn, channel_id=1)  # E: "Queries" has no attribute "tempvoce"
    await queries.tempvoice.get_lane(raw, channel_id=1)  # E: incompatible type "Connection"
    async with db.transaction() as tx:
        await queries.tempvoice.insert_lane(tx, channel_id=1, guild_id=2)  # E: Missing named argument "owner_id"
        await queries.balancer.add_match_players(tx, [{"match_id": 1}])  # E: Missing keys

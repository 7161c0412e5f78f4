"""TempVoice tables through the generated accessors, on a real SQLite file."""

from __future__ import annotations

import pytest

from bot.db import Database, IntegrityError
from bot.db.queries import Lane, queries


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


GUILD = 1_234_567_890_123_456_789  # 19-digit snowflakes round-trip exactly
CAT = 987_654_321_098_765_432
OWNER = 111_111_111_111_111_111
OTHER = 222_222_222_222_222_222
NOW = "2026-11-24 20:00:00"


async def _insert_lane(db: Database, channel_id: int, number: int | None, owner: int = OWNER) -> None:
    async with db.transaction() as conn:
        await queries.tempvoice.insert_lane(
            conn,
            channel_id=channel_id,
            guild_id=GUILD,
            owner_id=owner,
            base_name=f"Lane {number}",
            category_id=CAT,
            lane_number=number,
            min_rank=0,
            source_staging_id=5,
            created_at=NOW,
        )


async def test_lane_roundtrip_and_updates(db: Database) -> None:
    await _insert_lane(db, 10, 1)
    async with db.read() as conn:
        lane = await queries.tempvoice.get_lane(conn, channel_id=10)
    assert lane == Lane(10, GUILD, OWNER, "Lane 1", CAT, 1, 0, NOW)

    async with db.transaction() as conn:
        assert await queries.tempvoice.set_lane_owner(conn, channel_id=10, owner_id=OTHER) == 1
        assert (
            await queries.tempvoice.set_lane_base_name(conn, channel_id=10, base_name="Duo Call", lane_number=None) == 1
        )
        assert await queries.tempvoice.set_lane_min_rank(conn, channel_id=10, min_rank=11) == 1
        assert await queries.tempvoice.set_lane_owner(conn, channel_id=999, owner_id=OTHER) == 0
    async with db.read() as conn:
        lane = await queries.tempvoice.get_lane(conn, channel_id=10)
        assert await queries.tempvoice.get_lane(conn, channel_id=999) is None
    assert lane is not None
    assert (lane.owner_id, lane.base_name, lane.lane_number, lane.min_rank) == (OTHER, "Duo Call", None, 11)


async def test_lane_numbers_are_unique_per_category(db: Database) -> None:
    await _insert_lane(db, 10, 1)
    await _insert_lane(db, 11, 3)
    with pytest.raises(IntegrityError):
        await _insert_lane(db, 12, 1)  # a lost race for "Lane 1" fails loudly

    T0 = 1_800_000_000  # unix seconds (NOW is the old bot's text timestamp)

    async def claim(member: int, claimer: str = "a", at: int = T0, stale_before: int = T0 - 60) -> int | None:
        """A creation claim, then its "Lane N" (None: the claim is not `claimer`'s)."""
        async with db.transaction() as wconn:
            await queries.tempvoice.claim_creation(
                wconn, guild_id=GUILD, member_id=member, claimer=claimer, claimed_at=at, stale_before=stale_before
            )
            return await queries.tempvoice.claim_lane_number(
                wconn, guild_id=GUILD, member_id=member, claimer=claimer, category_id=CAT, stale_before=stale_before
            )

    assert await claim(100) == 2  # the lowest number no lane has
    assert await claim(101) == 4  # ... and no other live claim holds
    assert await claim(100) == 2  # a retry of the same claim may pick its own number again
    assert await claim(101, claimer="b") is None  # another process's live claim is not taken over
    async with db.write() as wconn:
        release = queries.tempvoice.release_creation
        assert await release(wconn, guild_id=GUILD, member_id=100, claimer="b") == 0  # not b's
        assert await release(wconn, guild_id=GUILD, member_id=100, claimer="a") == 1
    assert await claim(102) == 2  # a released number is free again
    # a crashed process's claim goes stale: its number is free, the member's claim is taken over
    assert await claim(103, at=T0 + 61, stale_before=T0 + 1) == 2
    assert await claim(101, claimer="b", at=T0 + 61, stale_before=T0 + 1) == 4
    await _insert_lane(db, 13, None)
    async with db.transaction() as wconn:  # a lane going back to "Lane N": the lowest free number
        assert (
            await queries.tempvoice.take_lane_number(
                wconn, channel_id=13, guild_id=GUILD, category_id=CAT, stale_before=T0 + 1
            )
            == 5
        )
    async with db.read() as conn:
        assert await queries.tempvoice.list_lanes_by_guild(conn, guild_id=1) == []
        assert [lane.channel_id for lane in await queries.tempvoice.list_lanes_by_guild(conn, guild_id=GUILD)] == [
            10,
            11,
            13,
        ]
        assert len(await queries.tempvoice.list_lanes_by_owner(conn, owner_id=OWNER)) == 3


async def test_join_order_and_succession(db: Database) -> None:
    await _insert_lane(db, 10, 1)
    async with db.transaction() as conn:
        for i, user in enumerate([OWNER, OTHER, 333, OTHER]):  # OTHER's repeated join keeps its place
            await queries.tempvoice.add_lane_member(conn, channel_id=10, user_id=user, joined_at=1000 + i)
    async with db.read() as conn:
        members = await queries.tempvoice.list_lane_members(conn, channel_id=10)
    assert [(m.user_id, m.join_seq) for m in members] == [(OWNER, 1), (OTHER, 2), (333, 3)]

    async with db.transaction() as conn:
        assert await queries.tempvoice.remove_lane_member(conn, channel_id=10, user_id=OTHER) == 1
    async with db.read() as conn:
        members = await queries.tempvoice.list_lane_members(conn, channel_id=10)
    assert [(m.user_id, m.join_seq) for m in members] == [(OWNER, 1), (333, 3)]

    # deleting the lane drops its join order (ON DELETE CASCADE)
    async with db.transaction() as conn:
        assert await queries.tempvoice.delete_lane(conn, channel_id=10) == 1
        assert await queries.tempvoice.list_lane_members(conn, channel_id=10) == []


async def test_bans_and_region(db: Database) -> None:
    async with db.transaction() as conn:
        assert await queries.tempvoice.add_ban(conn, owner_id=OWNER, banned_id=OTHER, created_at=NOW) == 1
        assert await queries.tempvoice.add_ban(conn, owner_id=OWNER, banned_id=OTHER, created_at=NOW) == 0
        assert await queries.tempvoice.add_ban(conn, owner_id=333, banned_id=OTHER, created_at=None) == 1
        await queries.tempvoice.set_region(conn, owner_id=OWNER, region="DE", updated_at=NOW)
    async with db.read() as conn:
        assert await queries.tempvoice.is_banned(conn, owner_id=OWNER, banned_id=OTHER) is True
        assert await queries.tempvoice.is_banned(conn, owner_id=OTHER, banned_id=OWNER) is False
        assert [b.banned_id for b in await queries.tempvoice.list_bans(conn, owner_id=OWNER)] == [OTHER]
        owners = await queries.tempvoice.list_owners_banning(conn, banned_id=OTHER)
        assert [o.owner_id for o in owners] == [333, OWNER]
        assert await queries.tempvoice.get_region(conn, owner_id=OWNER) == "DE"
        assert await queries.tempvoice.get_region(conn, owner_id=OTHER) is None
    async with db.transaction() as conn:
        await queries.tempvoice.set_region(conn, owner_id=OWNER, region="EU", updated_at=NOW)
        assert await queries.tempvoice.remove_ban(conn, owner_id=OWNER, banned_id=OTHER) == 1
        with pytest.raises(IntegrityError):  # CHECK (region IN ('DE', 'EU'))
            async with db.transaction() as nested:  # a savepoint: the rest still commits
                await queries.tempvoice.set_region(nested, owner_id=OWNER, region="US", updated_at=NOW)
    async with db.read() as conn:
        assert await queries.tempvoice.get_region(conn, owner_id=OWNER) == "EU"


async def test_panels(db: Database) -> None:
    await _insert_lane(db, 10, 1)
    async with db.transaction() as conn:
        await queries.tempvoice.insert_global_panel(conn, guild_id=GUILD, channel_id=50, message_id=500, updated_at=NOW)
        await queries.tempvoice.insert_global_panel(conn, guild_id=GUILD, channel_id=51, message_id=510, updated_at=NOW)
        await queries.tempvoice.upsert_lane_panel(
            conn, guild_id=GUILD, channel_id=10, message_id=600, lane_id=10, updated_at=NOW
        )
        await queries.tempvoice.upsert_lane_panel(
            conn, guild_id=GUILD, channel_id=10, message_id=601, lane_id=10, updated_at=NOW
        )
    async with db.read() as conn:
        for channel, message in ((50, 500), (51, 510)):
            in_channel = await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=channel)
            assert [(p.guild_id, p.message_id) for p in in_channel] == [(GUILD, message)]
        assert await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=10) == []  # not the lane's
        panel = await queries.tempvoice.get_lane_panel(conn, lane_id=10)
        assert panel is not None and panel.message_id == 601  # upsert replaced the lane's panel
    async with db.transaction() as conn:
        assert await queries.tempvoice.delete_global_panels_in_channel(conn, channel_id=50) == 1
        assert await queries.tempvoice.delete_lane_panel(conn, lane_id=10) == 1
    async with db.read() as conn:
        assert await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=50) == []
        assert len(await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=51)) == 1
        assert await queries.tempvoice.get_lane_panel(conn, lane_id=10) is None

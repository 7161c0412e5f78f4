"""The central database on PostgreSQL: the same typed queries, transactions and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.db import Database, IntegrityError
from bot.db.queries import AddMatchPlayersParams, queries
from bot.db.sqlite.migrations import latest_version
from tests.pg_support import fresh_pg_database, needs_postgres

pytestmark = needs_postgres
SNOW = 1_234_567_890_123_456_789


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    async for db in fresh_pg_database():
        assert isinstance(db, Database)
        yield db


async def test_migrations_version_and_idempotence(pg: Database) -> None:
    from bot.db.postgres.engine import PgDatabase, upgrade_postgres

    assert isinstance(pg, PgDatabase)
    assert await pg.user_version() == latest_version()
    assert await upgrade_postgres(pg) == []  # a second run does nothing


async def test_typed_queries_on_postgres(pg: Database) -> None:
    async with pg.transaction() as conn:
        await queries.tempvoice.insert_lane(
            conn, channel_id=SNOW, guild_id=SNOW, owner_id=7, base_name="Lane 1", category_id=0, lane_number=1,
            min_rank=0, source_staging_id=None, created_at="2026-11-24 20:00:00",
        )  # fmt: skip
        for user in (7, 8, 9):
            await queries.tempvoice.add_lane_member(conn, channel_id=SNOW, user_id=user, joined_at=1)
        assert await queries.tempvoice.set_lane_owner(conn, channel_id=SNOW, owner_id=8) == 1
        assert await queries.tempvoice.add_ban(conn, owner_id=8, banned_id=9, created_at=None) == 1
        assert await queries.tempvoice.add_ban(conn, owner_id=8, banned_id=9, created_at=None) == 0
    async with pg.read() as conn:
        lane = await queries.tempvoice.get_lane(conn, channel_id=SNOW)
        assert lane is not None and (lane.owner_id, lane.guild_id, lane.lane_number) == (8, SNOW, 1)
        assert lane.created_at == "2026-11-24 20:00:00"  # the old bot's text timestamps stay text
        members = await queries.tempvoice.list_lane_members(conn, channel_id=SNOW)
        assert [(m.user_id, m.join_seq) for m in members] == [(7, 1), (8, 2), (9, 3)]
        assert await queries.tempvoice.is_banned(conn, owner_id=8, banned_id=9) is True
        assert len(await queries.tempvoice.list_lanes_by_guild(conn, guild_id=SNOW)) == 1
        assert await queries.tempvoice.get_region(conn, owner_id=8) is None
    async with pg.transaction() as conn:
        first = await queries.balancer.create_match(conn, guild_id=1, host_id=2, origin_channel_id=None, seed=None,
                                                    started_at=5)  # fmt: skip
        second = await queries.balancer.create_match(conn, guild_id=1, host_id=2, origin_channel_id=None, seed=None,
                                                     started_at=6)  # fmt: skip
        player: AddMatchPlayersParams = {
            "match_id": first, "user_id": 1, "team": "amber", "rank_value": 11, "rank_subtier": 6,
            "rank_name": "Eternus",
        }  # fmt: skip
        await queries.balancer.add_match_players(conn, [player])
        roster = await queries.balancer.list_match_players(conn, match_id=first)
    assert second == first + 1 and [(p.team, p.rank_value) for p in roster] == [("amber", 11)]


async def test_unique_violation_is_the_common_integrity_error(pg: Database) -> None:
    async with pg.transaction() as conn:
        await queries.coaching.create_session(conn, user_id=1, guild_id=1, match_id=None, created_at=1)
    with pytest.raises(IntegrityError):
        async with pg.transaction() as conn:
            await queries.coaching.create_session(conn, user_id=1, guild_id=1, match_id=None, created_at=2)


async def test_reads_cannot_write(pg: Database) -> None:
    import asyncpg

    async with pg.read() as conn:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await queries.core.set_kv(conn, ns="r", k="k", v="v")  # type: ignore[arg-type]

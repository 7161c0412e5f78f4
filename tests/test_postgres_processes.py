"""Two bot processes on one PostgreSQL database see the same 100 staging joins: 100 lanes, none twice."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from bot.db.postgres.engine import PgDatabase, upgrade_postgres
from bot.db.queries import queries
from bot.discord_glue.ports import VoiceMove
from bot.features.tempvoice.service import LaneService
from tests.helpers import make_deps
from tests.pg_support import ADMIN_URL, URL, needs_postgres
from tests.tempvoice_env import GUILD, build_env

pytestmark = needs_postgres


async def test_two_processes_create_each_lane_once() -> None:
    schema = f"deadlock_procs_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    first, second = PgDatabase(URL, schema=schema), PgDatabase(URL, schema=schema)  # separate pools
    try:
        await first.open()
        await second.open()
        await upgrade_postgres(first)
        env = build_env(first)  # one Discord, two bot processes
        other = LaneService(make_deps(second, env.world, env.clock), env.config)
        assert other.claimer != env.service.claimer

        async def both(move: VoiceMove) -> None:  # the gateway delivers every event to both
            await asyncio.gather(env.service.on_voice_move(move), other.on_voice_move(move))

        env.world.listener = both
        members = [env.world.add_member(GUILD) for _ in range(100)]
        await asyncio.gather(*(both(env.world.user_moves(GUILD, m, env.staging)) for m in members))
        await env.world.settle()

        async with first.read() as conn:
            lanes = await queries.tempvoice.list_lanes_by_guild(conn, guild_id=GUILD)
        assert len(lanes) == 100 and sorted(lane.owner_id for lane in lanes) == sorted(members)
        assert len({(lane.category_id, lane.lane_number) for lane in lanes}) == 100  # no number twice
        bot_channels = [c for c in env.world.channels.values() if c.created_by_bot]
        assert len(bot_channels) == 100
        # numbers are reserved in the database: no channel was created twice and deleted again (create
        # calls beyond 100 are ones Discord refused when another process had just filled the category)
        assert env.world.count("delete_channel") == 0
        assert all(env.lane_of(m) in {lane.channel_id for lane in lanes} for m in members)
        assert env.world.voice_members(env.staging) == [] and env.world.echo_errors == []
    finally:
        await first.close()
        await second.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


def test_claims_are_in_both_schemas() -> None:
    from bot.resources import MIGRATIONS_DIR

    pg = (MIGRATIONS_DIR / "postgres" / "0002_tempvoice_creation_claims.sql").read_text()
    assert "CREATE TABLE tempvoice_creation_claims" in pg and "member_id BIGINT NOT NULL" in pg

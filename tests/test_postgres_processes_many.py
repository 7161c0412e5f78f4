"""Six real bot processes on one PostgreSQL schema, each with the default connection budget (8), share
200 staging joins: delivered to all of them (fail-over copies) or each to its guild's shard.
Every lane exists exactly once, no channel is created twice, and the connections the six hold
at once (read from pg_stat_activity) stay within 6 x budget."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.db.postgres.engine import PgDatabase, upgrade_postgres
from bot.db.postgres.settings import PgSettings
from bot.db.queries import queries
from bot.features.tempvoice.service import TempVoiceConfig
from tests.fakes.discord_world import FakeDiscord
from tests.pg_support import ADMIN_URL, URL, needs_postgres
from tests.shared_discord import SharedDiscord

pytestmark = needs_postgres

PROCESSES = 6
JOINS = 200
GUILDS = [((600 + shard) << 22) | 1 for shard in range(PROCESSES)]  # guild k lands on shard k


def shard_of(guild_id: int) -> int:
    """discord.py's (Discord's) shard of a guild."""
    return (guild_id >> 22) % PROCESSES


def with_app_name(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("application_name", name)])
    return urllib.parse.urlunsplit(parts._replace(query=query))


@contextlib.asynccontextmanager
async def peak_connections(app_name: str) -> AsyncIterator[list[int]]:
    """The most server connections of `app_name` seen at once while the block runs."""
    admin = await asyncpg.connect(ADMIN_URL)
    peak = [0]
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            count = await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app_name)
            peak[0] = max(peak[0], int(count))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.01)

    watcher = asyncio.create_task(watch())
    try:
        yield peak
    finally:
        stop.set()
        await watcher
        await admin.close()


@pytest.mark.parametrize("routing", ["copies", "shards"])
async def test_six_processes_create_each_of_200_lanes_once(tmp_path: Path, routing: str) -> None:
    schema = f"deadlock_six_{routing}_{os.getpid()}"
    app_name = f"deadlock-six-{os.getpid()}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    db = PgDatabase(URL, schema=schema, max_connections=2)
    procs: list[asyncio.subprocess.Process] = []
    try:
        await db.open()
        await upgrade_postgres(db)
        world = FakeDiscord(latency=(0, 0.003))
        staging = {}
        for guild in GUILDS:
            world.add_guild(guild)
            staging[guild] = world.add_voice(guild, "➕ Lane erstellen", world.add_category(guild, "Lanes"))
        config = TempVoiceConfig(staging_channel_ids=frozenset(staging.values()))
        everyone = list(range(PROCESSES))
        shared = SharedDiscord(world, config, lambda g: everyone if routing == "copies" else [shard_of(g)])
        socket_path = str(tmp_path / "discord.sock")
        server = await asyncio.start_unix_server(shared.serve, path=socket_path)
        env = dict(os.environ)  # the default budget, unless DEADLOCK_PG_MAX_CONNECTIONS says otherwise (stress)
        child_url = with_app_name(URL, app_name)
        for index in range(PROCESSES):
            args = ("-m", "tests.six_process_child", socket_path, child_url, schema, str(index))
            pipe = asyncio.subprocess.PIPE
            procs.append(await asyncio.create_subprocess_exec(sys.executable, *args, stdout=pipe, env=env))
        for proc in procs:
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"

        members = [(GUILDS[i % len(GUILDS)], world.add_member(GUILDS[i % len(GUILDS)])) for i in range(JOINS)]
        async with peak_connections(app_name) as peak:
            for guild, member in members:
                shared.join(guild, member, staging[guild])
            await asyncio.wait_for(shared.settled(), 150)
        await shared.close()
        server.close()
        child_peaks = []
        for proc in procs:
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 0
            child_peaks.append(int(out.split(b"peak ")[1].split()[0]))
        budget = PgSettings.from_env().max_connections
        print(f"{routing}: peak {peak[0]} server connections, {PROCESSES} processes of budget {budget}: {child_peaks}")

        assert 0 < peak[0] <= PROCESSES * budget
        assert max(child_peaks) <= budget
        lanes = []
        async with db.read() as conn:
            for guild in GUILDS:
                lanes += await queries.tempvoice.list_lanes_by_guild(conn, guild_id=guild)
        assert sorted(lane.owner_id for lane in lanes) == sorted(m for _, m in members)  # every lane exactly once
        bot_channels = {c.id for c in world.channels.values() if c.created_by_bot}
        assert bot_channels == {lane.channel_id for lane in lanes}
        assert world.count("delete_channel") == 0  # none created twice and deleted again
        assert all(world.voice_channel_of(g, m) == next(la.channel_id for la in lanes if la.owner_id == m)
                   for g, m in members)  # fmt: skip
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await db.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()

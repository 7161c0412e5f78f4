"""Prometheus metrics and /healthz (METRICS_ADDR), and the sharding settings."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands
from prometheus_client.parser import text_string_to_metric_families

from bot.app import DeadlockBot, ShardedDeadlockBot, _sharding
from bot.config import ShardSettings, shard_settings
from bot.db import Database
from bot.db.queries import queries
from bot.metrics import collectors
from bot.metrics.server import MetricsServer, metrics_address
from tests.test_shutdown import _start


@pytest.fixture
async def served(any_db: Database) -> AsyncIterator[tuple[MetricsServer, list[bool]]]:
    gateway = [True]
    server = MetricsServer(any_db, lambda: gateway[0], host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server, gateway
    finally:
        await server.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by prometheus_client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_are_scraped_and_parsed(served: tuple[MetricsServer, list[bool]]) -> None:
    server, _ = served
    db = server.db
    async with db.transaction() as conn:
        await queries.core.set_kv(conn, ns="m", k="k", v="v")
        await queries.tempvoice.insert_lane(
            conn, channel_id=5, guild_id=1, owner_id=2, base_name="Lane 1", category_id=3, lane_number=1,
            min_rank=0, source_staging_id=4, created_at="2024-01-01 00:00:00",
        )  # fmt: skip
    await server.refresh_gauges()
    status, text = await get(f"{server.url}/metrics")
    assert status == 200
    found = samples(text)
    assert found[("deadlock_db_query_seconds_count", (("query", "core.set_kv"),))] >= 1
    assert ("deadlock_db_query_seconds_bucket", (("le", "0.0005"), ("query", "core.set_kv"))) in found
    assert found[("deadlock_tempvoice_active_lanes", ())] == 1
    assert found[("deadlock_balancer_running_matches", ())] == 0
    assert ("deadlock_event_loop_lag_seconds", ()) in found
    assert ("deadlock_db_connections_in_use", ()) in found and ("process_cpu_seconds_total", ()) in found


async def test_healthz_flips_to_503_when_the_gateway_or_the_database_goes(
    served: tuple[MetricsServer, list[bool]],
) -> None:
    server, gateway = served
    assert await get(f"{server.url}/healthz") == (200, "ok\n")
    gateway[0] = False
    assert await get(f"{server.url}/healthz") == (503, "Discord gateway not connected\n")
    gateway[0] = True
    await server.db.close()
    assert await get(f"{server.url}/healthz") == (503, "database closed\n")


async def test_rest_calls_errors_and_429s_are_counted_per_route() -> None:
    class Response:
        status, reason = 404, "Not Found"

    class Http:
        async def request(self, route: discord.http.Route, **kwargs: Any) -> object:
            if route.path.endswith("/messages"):
                raise discord.NotFound(Response(), "Unknown Channel")
            return {}

    http = Http()
    collectors.instrument_http(http)
    route = "/channels/{id}"
    before = collectors.REST_CALLS.labels("PATCH", route)._value.get()
    await http.request(discord.http.Route("PATCH", "/channels/{channel_id}", channel_id=123456789012345678))
    with pytest.raises(discord.NotFound):
        await http.request(discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=123456789012345678))
    assert collectors.REST_CALLS.labels("PATCH", route)._value.get() == before + 1
    assert collectors.REST_ERRORS.labels("POST", route + "/messages", "404")._value.get() >= 1
    url = "https://discord.com/api/v10/channels/123456789012345678"
    logging.getLogger("discord.http").warning(
        "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.", "PATCH", url, 1.5
    )
    assert collectors.REST_429.labels("PATCH", route)._value.get() >= 1


async def test_event_handling_is_timed_per_feature() -> None:
    async def listener() -> None:
        await asyncio.sleep(0)

    listener.__module__ = "bot.features.tempvoice.cog"
    await collectors.timed_event(listener(), listener, "on_voice_state_update")
    histogram = collectors.EVENT_SECONDS.labels("tempvoice", "on_voice_state_update")
    assert any(s.name.endswith("_count") and s.value >= 1 for m in histogram.collect() for s in m.samples)
    assert collectors.feature_of(len) == "builtins"


def test_metrics_address_and_shard_settings() -> None:
    assert metrics_address({}) is None
    assert metrics_address({"METRICS_ADDR": "127.0.0.1:9108"}) == ("127.0.0.1", 9108)
    with pytest.raises(ValueError, match="host:port"):
        metrics_address({"METRICS_ADDR": "9108"})
    assert shard_settings({}) is None
    assert shard_settings({"SHARD_COUNT": "4"}) == ShardSettings(4)
    assert shard_settings({"SHARD_COUNT": "4", "SHARD_IDS": "3, 1"}) == ShardSettings(4, (1, 3))
    for bad in ({"SHARD_IDS": "1"}, {"SHARD_COUNT": "0"}, {"SHARD_COUNT": "2", "SHARD_IDS": "2"}):
        with pytest.raises(ValueError, match="SHARD"):
            shard_settings(bad)
    assert _sharding(ShardSettings(4, (1, 3))) == {"shard_count": 4, "shard_ids": [1, 3]}
    assert _sharding(ShardSettings(4)) == {"shard_count": 4, "shard_ids": None}


async def test_the_sharded_bot_runs_the_shards_it_is_given(db: Database) -> None:
    bot = ShardedDeadlockBot(db, shards=ShardSettings(4, (1, 3)))  # never logged in: nothing to close
    assert isinstance(bot, commands.AutoShardedBot) and isinstance(bot, DeadlockBot)
    assert bot.shard_count == 4 and bot.shard_ids == [1, 3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_running_bot_serves_metrics_and_health(tmp_path: Any) -> None:
    port = _free_port()
    proc = _start(tmp_path / "deadlock.sqlite3", env={"METRICS_ADDR": f"127.0.0.1:{port}"})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "stub gateway: connected", proc.stderr.read() if proc.stderr else ""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert "deadlock_db_query_seconds" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:  # the stub gateway never says READY
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
    assert refused.value.code == 503 and refused.value.read() == b"Discord gateway not connected\n"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "closed; query metrics" in err  # the shutdown summary stays

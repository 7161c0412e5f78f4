"""What the bot measures, in a registry of its own (plus the process collector).

The hooks are cheap and always on: the data layer reports every query (bot.db.metrics), the
bot times every event listener, the Discord HTTP client is wrapped per instance, and 429s are
read from discord.py's own rate-limit warnings. Gauges that need the database (active lanes,
running matches) are refreshed by the metrics server; the event-loop lag by a probe task.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from bot.db.metrics import METRICS

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

QUERY_SECONDS = Histogram(
    "deadlock_db_query_seconds", "Time per named query (its _count is the number of calls)", ["query"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0), registry=REGISTRY,
)  # fmt: skip
QUERY_ERRORS = Counter("deadlock_db_query_errors", "Named queries that failed", ["query"], registry=REGISTRY)
EVENT_SECONDS = Histogram(
    "deadlock_event_seconds", "Time to handle one Discord event, per feature", ["feature", "event"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0), registry=REGISTRY,
)  # fmt: skip
REST_CALLS = Counter("deadlock_discord_rest_calls", "Discord REST calls", ["method", "route"], registry=REGISTRY)
REST_ERRORS = Counter(
    "deadlock_discord_rest_errors", "Discord REST calls that failed", ["method", "route", "status"], registry=REGISTRY
)
REST_429 = Counter(
    "deadlock_discord_rest_ratelimited", "429 answers from Discord (retried or not)", ["method", "route"],
    registry=REGISTRY,
)  # fmt: skip
ACTIVE_LANES = Gauge("deadlock_tempvoice_active_lanes", "TempVoice lanes that exist now", registry=REGISTRY)
RUNNING_MATCHES = Gauge("deadlock_balancer_running_matches", "Balancer matches not ended", registry=REGISTRY)
LOOP_LAG = Gauge("deadlock_event_loop_lag_seconds", "How late the last event-loop probe woke up", registry=REGISTRY)
POOL_IN_USE = Gauge("deadlock_db_connections_in_use", "Database connections checked out now", registry=REGISTRY)
POOL_BUDGET = Gauge("deadlock_db_connections_budget", "The process's connection budget", registry=REGISTRY)

_SNOWFLAKE = re.compile(r"/\d{6,}")


def route_label(path: str) -> str:
    """A URL path with its ids as {id}: one label per route, not per channel."""
    return _SNOWFLAKE.sub("/{id}", path.split("?", 1)[0].removeprefix("https://discord.com/api/v10"))


def observe_query(name: str, seconds: float, failed: bool) -> None:
    QUERY_SECONDS.labels(name).observe(seconds)
    if failed:
        QUERY_ERRORS.labels(name).inc()


def install_query_observer() -> None:
    if observe_query not in METRICS.observers:
        METRICS.observers.append(observe_query)


def feature_of(listener: Callable[..., Any]) -> str:
    """`bot.features.tempvoice.cog` -> tempvoice; anything else by its module's last part."""
    module = getattr(listener, "__module__", "") or ""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["bot", "features"] else (parts[-1] or "unknown")


async def timed_event(coro: Coroutine[Any, Any, Any], listener: Callable[..., Any], event_name: str) -> None:
    start = time.perf_counter()
    try:
        await coro
    finally:
        EVENT_SECONDS.labels(feature_of(listener), event_name).observe(time.perf_counter() - start)


class RateLimitLog(logging.Handler):
    """Counts discord.py's warnings about 429 answers (it retries them inside its HTTP client)."""

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if "responded with 429" in message and isinstance(record.args, tuple) and len(record.args) >= 2:
            REST_429.labels(str(record.args[0]), route_label(str(record.args[1]))).inc()
        elif message.startswith("Global rate limit has been hit"):
            REST_429.labels("*", "global").inc()


_RATE_LIMIT_LOG = RateLimitLog(level=logging.WARNING)


def instrument_http(http: Any) -> None:
    """Count the REST calls of one discord.py HTTPClient, and their errors, by route."""
    if getattr(http, "_deadlock_metrics", False):
        return
    original = http.request
    logging.getLogger("discord.http").addHandler(_RATE_LIMIT_LOG)

    async def request(route: Any, **kwargs: Any) -> Any:
        method, label = str(route.method), route_label(str(route.url))
        REST_CALLS.labels(method, label).inc()
        try:
            return await original(route, **kwargs)
        except Exception as e:
            status = getattr(e, "status", None)
            REST_ERRORS.labels(method, label, str(status) if status else type(e).__name__).inc()
            raise

    http.request = request
    http._deadlock_metrics = True


async def probe_loop_lag(interval: float = 0.5) -> None:
    """Forever: sleep `interval`, record how much later than asked the loop woke us."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        LOOP_LAG.set(max(0.0, loop.time() - start - interval))

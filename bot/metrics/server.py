"""`/metrics` (Prometheus text format) and `/healthz`, served on METRICS_ADDR=host:port.

Off unless METRICS_ADDR is set. `/healthz` answers 200 "ok" when the database answers a
query and the Discord gateway is connected, else 503 with the reason. The gauges that need
the database (active lanes, running matches) are refreshed every `refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.db import Database
from bot.metrics import collectors

log = logging.getLogger(__name__)
HEALTH_TIMEOUT_SECONDS = 2.0


def metrics_address(env: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """METRICS_ADDR as (host, port); None when unset (metrics are off)."""
    env = os.environ if env is None else env
    raw = env.get("METRICS_ADDR", "").strip()
    if not raw:
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"METRICS_ADDR must be host:port (e.g. 127.0.0.1:9108), not {raw!r}")
    return host.strip("[]"), int(port)


async def _count(db: Database, sql: str) -> int:
    async with db.read() as conn:
        row = await (await conn.execute(sql)).fetchone()
    return int(row[0]) if row else 0


class MetricsServer:
    def __init__(
        self,
        db: Database,
        gateway_connected: Callable[[], bool],
        *,
        host: str = "127.0.0.1",
        port: int = 9108,
        refresh_seconds: float = 15.0,
    ) -> None:
        self.db = db
        self.gateway_connected = gateway_connected
        self.host, self.port = host, port
        self.refresh_seconds = refresh_seconds
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        collectors.install_query_observer()
        collectors.POOL_BUDGET.set(getattr(self.db, "max_connections", 1))
        collectors.POOL_IN_USE.set_function(lambda: float(getattr(self.db, "connections_in_use", 0)))
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # an ephemeral port (tests): the one the OS picked
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            self.port = server.sockets[0].getsockname()[1]
        self._tasks = [asyncio.create_task(self._refresh()), asyncio.create_task(collectors.probe_loop_lag())]
        log.info("metrics on %s/metrics, health on %s/healthz", self.url, self.url)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def refresh_gauges(self) -> None:
        collectors.ACTIVE_LANES.set(await _count(self.db, "SELECT COUNT(*) FROM tempvoice_lanes"))
        collectors.RUNNING_MATCHES.set(
            await _count(self.db, "SELECT COUNT(*) FROM balancer_matches WHERE state IN ('active', 'debrief')")
        )

    async def _refresh(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except Exception as e:  # the database may be away for a while: /healthz says so
                log.debug("refreshing the metrics gauges failed: %s", e)
            await asyncio.sleep(self.refresh_seconds)

    async def health(self) -> str | None:
        """None when healthy, else why not."""
        if not self.db.is_open:
            return "database closed"
        try:
            await asyncio.wait_for(_count(self.db, "SELECT 1"), HEALTH_TIMEOUT_SECONDS)
        except Exception as e:
            return f"database not answering: {type(e).__name__}"
        if not self.gateway_connected():
            return "Discord gateway not connected"
        return None

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(collectors.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        reason = await self.health()
        if reason is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=reason + "\n")

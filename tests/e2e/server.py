"""The local Discord API: REST and gateway on one loopback port, the world they share, and
what a test does as a member (join voice, write a message, click) and asks afterwards."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web

from tests.e2e.gateway import Gateway
from tests.e2e.interactions import Pending
from tests.e2e.rest import Call, Rest
from tests.e2e.world import Json, World

TOKEN = "local-e2e-token"


class LocalDiscord:
    def __init__(self, world: World | None = None) -> None:
        self.world = world or World()
        self.gateway = Gateway(self.world, TOKEN)
        self.rest = Rest(self.world, self.gateway, TOKEN)
        self.interactions = self.rest.interactions
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.gateway.url = self.gateway_url

    async def stop(self) -> None:
        await self.rest.stop()
        await self.gateway.close(1000)
        if self._runner is not None:
            await self._runner.cleanup()

    # -- as a member -----------------------------------------------------------------------------------

    async def join(self, uid: int, channel_id: int | None) -> None:
        """The member joins (moves to, or with None leaves) a voice channel by themselves."""
        if channel_id is None:
            self.world.voice.pop(uid, None)
        else:
            self.world.voice[uid] = channel_id
        await self.gateway.dispatch("VOICE_STATE_UPDATE", self.world.voice_state(uid))

    async def say(self, uid: int, channel_id: int, content: str) -> int:
        w = self.world
        mid = w.new_id()
        message = w.message_json(mid, channel_id, uid, {"content": content})
        w.messages[mid] = message
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return mid

    async def click(self, uid: int, message_id: int, custom_id: str, *, values: list[str] | None = None) -> Pending:
        return await self.interactions.click(uid, message_id, custom_id, values=values)

    # -- asking ----------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return self.rest.calls

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.rest.calls if c.is_(method, pattern)]

    def replies_in(self, channel_id: int, *, after: int = 0) -> list[Json]:
        return [
            m
            for mid, m in self.world.messages.items()
            if mid > after and m["channel_id"] == str(channel_id) and m["author"]["id"] == str(self.world.bot_id)
        ]

    def bot_messages_with(self, custom_id: str) -> list[int]:
        """Messages of the bot carrying a component with this custom_id."""
        out = []
        for mid, m in self.world.messages.items():
            for row in m.get("components") or []:
                if any(c.get("custom_id") == custom_id for c in row.get("components") or []):
                    out.append(mid)
        return out

    async def until(self, what: Callable[[], object], max_wait: float = 10.0, why: str = "") -> None:
        """Wait until `what()` is true (polled), or fail naming `why`."""
        deadline = time.monotonic() + max_wait
        while not what():
            if time.monotonic() > deadline:
                recent = "\n".join(f"  {c.method} {c.path} -> {c.status}" for c in self.rest.calls[-12:])
                raise TimeoutError(f"timed out after {max_wait}s waiting for {why or what}; last calls:\n{recent}")
            await asyncio.sleep(0.02)

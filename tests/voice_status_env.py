"""What the voice-status cog needs of discord.py's bot, for the cog's own tests."""

from __future__ import annotations

import asyncio


class ReadyBot:
    """`wait_until_ready()` returns once `ready.set()` was called, as discord.py's does after READY."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()

    async def wait_until_ready(self) -> None:
        await self.ready.wait()

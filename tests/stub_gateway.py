"""Run `deadlock-bot` with Discord's login and gateway stubbed out (used by test_shutdown.py).

Everything else is the real program: argument parsing, database, upgrade, timers, signal
handling and shutdown. Only the two network calls are replaced.
"""

from __future__ import annotations

import asyncio
import sys

import discord

from bot.cli.main import main


async def _login(self: discord.Client, token: str) -> None:
    await self._async_setup_hook()  # what discord.Client.login does before its HTTP calls
    await self.setup_hook()


async def _connect(self: discord.Client, *, reconnect: bool = True) -> None:
    print("stub gateway: connected", flush=True)
    while not self.is_closed():  # noqa: ASYNC110 - discord.Client offers no event to wait on
        await asyncio.sleep(0.02)


discord.Client.login = _login  # type: ignore[method-assign]
discord.Client.connect = _connect  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Loaded by the bot process the e2e harness starts (this folder is first on its PYTHONPATH):
points discord.py at the local Discord API and, under coverage, measures the child too.
The product itself has no test switch."""

import os

if os.environ.get("DEADLOCK_E2E_API"):
    if os.environ.get("COVERAGE_PROCESS_START"):
        import coverage

        coverage.process_startup()

    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = os.environ["DEADLOCK_E2E_API"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DEADLOCK_E2E_GATEWAY"])

    # discord.py dispatches `ready` only after no GUILD_CREATE came for guild_ready_timeout (2 s).
    # The local API sends every GUILD_CREATE right after READY, so the harness shortens that wait
    # (a test that needs the window before ready asks for discord.py's 2 s)
    if os.environ.get("DEADLOCK_E2E_GUILD_READY_TIMEOUT"):
        from typing import Any as _Any

        import discord

        _client_init = discord.Client.__init__
        _guild_ready_timeout = float(os.environ["DEADLOCK_E2E_GUILD_READY_TIMEOUT"])

        def _init(self: discord.Client, *args: _Any, **options: _Any) -> None:
            options.setdefault("guild_ready_timeout", _guild_ready_timeout)
            _client_init(self, *args, **options)

        discord.Client.__init__ = _init  # type: ignore[method-assign]

    # DEADLOCK_E2E_DB_SLOW="SECONDS REGEX": a slow database, as a test asks for it; every
    # statement matching REGEX takes SECONDS longer (on the event loop: nothing blocks)
    if os.environ.get("DEADLOCK_E2E_DB_SLOW"):
        import asyncio
        import re
        from typing import Any

        import aiosqlite

        _seconds, _pattern = os.environ["DEADLOCK_E2E_DB_SLOW"].split(" ", 1)
        _slow = re.compile(_pattern)
        _execute = aiosqlite.Connection._execute

        async def _slow_execute(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str) and _slow.search(args[0]):
                await asyncio.sleep(float(_seconds))
            return await _execute(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

        aiosqlite.Connection._execute = _slow_execute  # type: ignore[method-assign]

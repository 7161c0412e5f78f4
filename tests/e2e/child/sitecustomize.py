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

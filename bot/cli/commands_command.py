"""`deadlock-bot commands sync [--guild ID]`: register the slash commands with Discord."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from bot.cli.errors import EXIT_OK, CliError, UsageError
from bot.cli.targets import target_of
from bot.config import auto_upgrade, busy_timeout_ms


def commands_command(args: argparse.Namespace) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise UsageError("DISCORD_TOKEN is not set: export the bot's token as DISCORD_TOKEN and start again")
    import aiohttp
    import discord

    from bot.app import validate_settings

    validate_settings()  # the commands come from the configured features
    target = target_of(args)
    try:
        lines = asyncio.run(_sync(token, target, busy_timeout_ms(), auto_upgrade(False), args.guild))
    except discord.LoginFailure as e:
        raise CliError(
            f"Discord rejected the token in DISCORD_TOKEN ({e}): copy the bot's token from the developer portal"
        ) from e
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        if isinstance(e, OSError) and not isinstance(e, aiohttp.ClientError) and e.filename:
            raise  # a file of ours, not the network: explained as such
        raise CliError(f"cannot reach Discord ({type(e).__name__}: {e}): check the network and try again") from e
    except discord.HTTPException as e:
        raise CliError(f"Discord refused the commands with HTTP {e.status}: {e.text or e}") from e
    count = sum(1 for line in lines if line.startswith("/"))  # subcommands are indented below theirs
    where = f"in guild {args.guild}" if args.guild else "globally (Discord shows the change within minutes)"
    print(f"registered {count} slash command(s) {where}:")
    for line in lines:
        print(f"  {line}")
    return EXIT_OK


async def _sync(token: str, target: Path | str, busy: int, upgrade: bool, guild_id: int | None) -> list[str]:
    """Log in over REST only (no gateway), load the features' commands, register them."""
    from bot.app import DeadlockBot, prepare_database
    from bot.db.engines import open_database
    from bot.discord_glue.command_sync import describe, sync_commands

    class CommandSyncBot(DeadlockBot):
        """The bot's command tree without running the bot: features loaded, nothing started."""

        async def setup_hook(self) -> None:
            await self.load_features()

    db = open_database(target, busy_timeout_ms=busy)
    try:
        await prepare_database(db, auto_upgrade=upgrade)
        bot = CommandSyncBot(db, auto_upgrade=upgrade)
        async with bot:
            await bot.login(token)
            registered = await sync_commands(bot.tree, db, guild_id=guild_id)
        return describe(registered)
    finally:
        await db.close()

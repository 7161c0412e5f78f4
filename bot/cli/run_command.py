"""`deadlock-bot run`: every setting checked, then the database, then the Discord login."""

from __future__ import annotations

import argparse
import asyncio
import os

from bot.cli.errors import EXIT_OK, CliError, UsageError
from bot.cli.targets import target_of
from bot.config import auto_upgrade, busy_timeout_ms


def run_command(args: argparse.Namespace) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise UsageError("DISCORD_TOKEN is not set: export the bot's token as DISCORD_TOKEN and start again")
    import aiohttp
    import discord

    from bot.app import run_bot, validate_settings
    from bot.db.sqlite.instance_lock import AlreadyRunningError

    validate_settings()  # every feature's settings, before the database or Discord is touched
    target = target_of(args)
    busy, upgrade = busy_timeout_ms(), auto_upgrade(args.no_auto_upgrade)
    try:
        asyncio.run(run_bot(token, target, busy_timeout_ms=busy, auto_upgrade=upgrade))
    except AlreadyRunningError as e:
        raise CliError(str(e)) from e
    except discord.LoginFailure as e:
        raise CliError(
            f"Discord rejected the token in DISCORD_TOKEN ({e}): copy the bot's token from the developer portal"
        ) from e
    except discord.PrivilegedIntentsRequired as e:
        raise CliError(
            "Discord refused the login: enable the Server Members and Message Content intents for the bot "
            "in the Discord developer portal"
        ) from e
    except (aiohttp.ClientError, discord.GatewayNotFound, OSError, TimeoutError) as e:
        if isinstance(e, OSError) and not isinstance(e, aiohttp.ClientError) and e.filename:
            raise  # a file of ours, not the network: explained as such
        raise CliError(f"cannot reach Discord ({type(e).__name__}: {e}): check the network and try again") from e
    except discord.HTTPException as e:
        raise CliError(f"Discord answered the login with HTTP {e.status}: {e.text or e}") from e
    return EXIT_OK

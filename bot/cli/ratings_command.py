"""`deadlock-bot ratings rebuild`: recompute every balancer rating from the stored match history."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.errors import EXIT_OK, CliError
from bot.cli.targets import checked_file, open_any, target_of


async def ratings_rebuild(args: argparse.Namespace) -> int:
    from bot.db.sqlite.migrations import latest_version
    from bot.features.balancer.results import rebuild_all
    from bot.shared.clock import SystemClock

    target = target_of(args)
    if isinstance(target, Path):
        await checked_file(target, writes=True)
    async with open_any(target) as db:
        version = await db.user_version()
        if version != latest_version():
            raise CliError(
                f"{db.location} is at schema version {version}, not {latest_version()}: run `deadlock-bot db upgrade`"
            )
        reports = await rebuild_all(db, SystemClock().now())
    print(f"rebuilt the ratings of {len(reports)} guild(s) in {db.location}:")
    for r in reports:
        print(f"  guild {r.guild_id}: {r.matches} rated matches replayed, {r.players} players, {r.changed} changed")
    return EXIT_OK

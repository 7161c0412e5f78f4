"""One bot process of test_postgres_processes_many.py: TempVoice on a shared PostgreSQL schema,
Discord through the parent's SharedDiscord. Prints "ready", handles events until the parent
hangs up, then prints the most connections it had checked out at once.

Usage: python -m tests.six_process_child SOCKET URL SCHEMA INDEX
"""

from __future__ import annotations

import asyncio
import sys

from bot.db.postgres.engine import PgDatabase
from bot.features.tempvoice.service import LaneService
from bot.shared.clock import SystemClock
from tests.helpers import make_deps
from tests.shared_discord import RemoteDiscord


async def main(socket_path: str, url: str, schema: str, index: int) -> None:
    discord = RemoteDiscord()
    await discord.connect(socket_path, index)
    assert discord.config is not None
    db = PgDatabase(url, schema=schema)  # the default budget (DEADLOCK_PG_MAX_CONNECTIONS)
    await db.open()
    service = LaneService(make_deps(db, discord, SystemClock()), discord.config)
    discord.handler = service.on_voice_move
    print("ready", flush=True)
    await discord.closed.wait()
    print(f"peak {db.peak_in_use} of {db.max_connections}", flush=True)
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))

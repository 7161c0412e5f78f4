"""A process that commits transactions until it is killed (used by test_crash_safety.py).

Every transaction writes 50 rows of its batch and the batch number into ('crash', 'last');
after each commit the batch number is printed, so the parent knows what was committed.
"""

from __future__ import annotations

import asyncio
import sys

from bot.db import SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import upgrade

ROWS = 50


async def main(path: str) -> None:
    db = SqliteDatabase(path)
    await db.open()
    await upgrade(db, backup=False)
    async with db.read() as conn:
        last = await queries.core.get_kv(conn, ns="crash", k="last")
    batch = int(last or 0) + 1
    print("ready", flush=True)
    while True:
        async with db.transaction() as conn:
            for i in range(ROWS):
                await queries.core.set_kv(conn, ns=f"crash-{batch}", k=str(i), v="x" * 64)
            await queries.core.set_kv(conn, ns="crash", k="last", v=str(batch))
        print(batch, flush=True)
        batch += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

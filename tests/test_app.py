"""The bot's lifecycle around the database, without a Discord connection."""

from __future__ import annotations

from pathlib import Path

from bot.app import DeadlockBot
from bot.db import Database, SqliteDatabase
from bot.db.metrics import METRICS
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version
from tests.helpers import open_handles


async def test_setup_hook_opens_and_upgrades_close_closes_once(db_path: Path) -> None:
    db = SqliteDatabase(db_path, max_schema_version=latest_version())
    bot = DeadlockBot(db)
    await bot.setup_hook()  # what discord.py runs before connecting
    assert db.is_open and await db.user_version() == latest_version()
    assert open_handles(db_path) == 1 + db.readers
    await bot.close()
    assert not db.is_open and open_handles(db_path) == 0
    await db.close()  # the runner's own close afterwards is harmless


async def test_metrics_count_every_query(db: Database) -> None:
    METRICS.reset()
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="m", k="k", v="v")
    for _ in range(3):
        async with db.read() as conn:
            await queries.core.get_kv(conn, ns="m", k="k")
    stats = {s.name: s for s in db.metrics.snapshot()}
    assert stats["core.get_kv"].calls == 3 and stats["core.set_kv"].calls == 1
    assert stats["core.get_kv"].max_seconds > 0 and stats["core.get_kv"].errors == 0
    summary = db.metrics.summary()
    assert "core.get_kv" in summary and "calls" in summary

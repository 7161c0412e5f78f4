"""PostgreSQL for tests: reachable or skipped, and a fresh schema per test."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.devtools.codegen.postgres import DEFAULT_PG_URL

URL = os.environ.get("DEADLOCK_PG_URL", DEFAULT_PG_URL)
_names = itertools.count(1)


def _reachable() -> bool:
    try:
        import asyncpg
    except ImportError:
        return False

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(URL, timeout=2)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


REACHABLE = _reachable()
needs_postgres = pytest.mark.skipif(not REACHABLE, reason=f"no PostgreSQL server reachable at {URL}")


async def fresh_pg_database(prefix: str = "t") -> AsyncIterator[object]:
    """A migrated PgDatabase in a schema of its own, dropped afterwards."""
    import asyncpg

    from bot.db.postgres.engine import PgDatabase, upgrade_postgres

    schema = f"deadlock_{prefix}_{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(URL)
    await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    db = PgDatabase(URL, schema=schema)
    await db.open()
    try:
        await upgrade_postgres(db)
        yield db
    finally:
        await db.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@contextlib.contextmanager
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of its own (dropped afterwards)."""
    import asyncpg

    schema = f"deadlock_cli_{os.getpid()}_{next(_names)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    try:
        yield f"{URL}?search_path={schema}"
    finally:
        asyncio.run(admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

"""PostgreSQL for tests: reachable or skipped, and a fresh schema per test.

The suites run twice in CI (scripts/test): directly against the server, then through PgBouncer
in transaction pooling mode, with DEADLOCK_PG_URL pointing at PgBouncer, DEADLOCK_PG_PGBOUNCER=1
(read by PgDatabase) and DEADLOCK_PG_ADMIN_URL at the server itself for the tests' own DDL and
pg_stat_activity. Tests that need a server carry the `postgres` marker (`needs_postgres`), which
selects them for the second run and skips them (conftest.py) where no server is reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.devtools.codegen.postgres import DEFAULT_PG_URL

URL = os.environ.get("DEADLOCK_PG_URL", DEFAULT_PG_URL)
#: the server itself (not PgBouncer): schemas are created and dropped, connections counted here
ADMIN_URL = os.environ.get("DEADLOCK_PG_ADMIN_URL", URL)
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
SKIP_REASON = f"no PostgreSQL server reachable at {URL}"
needs_postgres = pytest.mark.postgres


async def fresh_pg_database(prefix: str = "t") -> AsyncIterator[object]:
    """A migrated PgDatabase in a schema of its own, dropped afterwards."""
    import asyncpg

    from bot.db.postgres.engine import PgDatabase, upgrade_postgres

    schema = f"deadlock_{prefix}_{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(ADMIN_URL)
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
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    try:
        yield f"{URL}?search_path={schema}"
    finally:
        asyncio.run(admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

"""Transactions survive cancellation at any await point, on both engines.

A task is cancelled after a random number of event-loop turns inside `transaction()` (with
and without a nested savepoint) or `write()`. Afterwards the writer has no open transaction,
the next write is durable and visible, and each cancelled unit of work is there whole or not
at all (a cancellation that lands after COMMIT was queued may still see it commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from bot.db import Database
from bot.db.connections import EngineConnection, WriteConn
from bot.db.postgres.engine import PgDatabase
from bot.db.queries import queries
from tests.helpers import reopened

TRIALS = 1000


async def _count(conn: EngineConnection, ns: str) -> int:
    rows = await conn.execute(f"SELECT COUNT(*) FROM kv_store WHERE ns = {conn.placeholder(1)}", (ns,))
    return int((await rows.fetchall())[0][0])


async def _unit_of_work(db: Database, ns: str, kind: int) -> int:
    """Write the rows of one unit of work under `ns`; returns how many it writes when whole."""
    if kind == 0:
        async with db.write() as conn:
            await queries.core.set_kv(conn, ns=ns, k="only", v="1")
        return 1
    async with db.transaction() as conn:
        await queries.core.set_kv(conn, ns=ns, k="a", v="1")
        if kind == 2:
            async with db.transaction() as nested:
                await queries.core.set_kv(nested, ns=ns, k="b", v="1")
                await queries.core.set_kv(nested, ns=ns, k="c", v="1")
        await queries.core.set_kv(conn, ns=ns, k="z", v="1")
    return 4 if kind == 2 else 2


async def _after(db: Database, trial: int) -> None:
    """The writer is clean, and a write right after is visible to a reader."""
    if isinstance(db, PgDatabase):  # every unit is a transaction of its own: none may be left
        assert db.connections_in_use == 0, f"trial {trial}: a cancelled unit kept its connection"
    async with db.write() as conn:
        # on PostgreSQL the write is its own transaction; on SQLite none is left open
        assert conn.in_transaction is isinstance(db, PgDatabase), f"trial {trial}: the writer kept a transaction open"
        await queries.core.set_kv(WriteConn(conn), ns="after", k=str(trial), v="ok")
    async with db.read() as reader:
        assert await queries.core.get_kv(reader, ns="after", k=str(trial)) == "ok"


async def _turns_of_a_whole_unit(db: Database) -> int:
    """Event-loop turns an uncancelled unit of the longest kind typically takes here (the
    median of five, at least 40): the random cancellation points span it also where a query
    takes longer (PgBouncer in between)."""
    taken = []
    for trial in range(5):
        task = asyncio.create_task(_unit_of_work(db, f"calibrate{trial}", 2))
        turns = 0
        while not task.done():
            await asyncio.sleep(0)
            turns += 1
        await task
        taken.append(turns)
    return max(40, sorted(taken)[2])


async def test_a_thousand_random_cancellations_leave_the_writer_clean(any_db: Database) -> None:
    db = any_db
    rng = random.Random(20261130)
    outcomes = {"whole": 0, "none": 0}
    turns = await _turns_of_a_whole_unit(db)
    for trial in range(TRIALS):
        kind = rng.randrange(3)
        ns = f"cancel{trial}"
        full = {0: 1, 1: 2, 2: 4}[kind]
        task = asyncio.create_task(_unit_of_work(db, ns, kind))
        for _ in range(rng.randrange(turns)):  # a random await point inside the unit of work
            if task.done():
                break
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with db.read() as conn:
            n = await _count(conn, ns)
        assert n in (0, full), f"trial {trial} (kind {kind}): {n} of {full} rows of a cancelled unit of work"
        outcomes["whole" if n else "none"] += 1
        await _after(db, trial)
    # both outcomes happened: the cancellation really landed at different points (how often
    # each does depends on the machine's speed and PgBouncer's round trips, so no share is set)
    assert outcomes["whole"] > 0 and outcomes["none"] > 0, outcomes
    async with reopened(db) as again, again.read() as conn:  # durable: a new process sees every write
        assert await _count(conn, "after") == TRIALS

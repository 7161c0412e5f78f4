"""The ways of talking to SQLite that `deadlock-bot bench` compares, each doing the same work.

Every stack runs with the same PRAGMAs (`PRAGMAS`), read back from its live connection.

  raw          sqlite3 on the event loop's thread (the floor; it blocks the loop)
  to_thread    asyncio.to_thread per statement on one shared connection
  aiosql       aiosql's stock aiosqlite adapter (execute, fetch, close: three hops a query)
  aiosqlite    aiosqlite used with one hop per query (execute_fetchall / execute)
  5 conns      the old bot's layout: one aiosqlite connection per cog, cursors as it used them
  bot          the full stack: generated accessor -> one-hop adapter -> central Database
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosql
import aiosqlite

from bot.db import SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.engine import DEFAULT_BUSY_TIMEOUT_MS

STACKS = ("raw", "to_thread", "aiosql", "aiosqlite", "5 conns", "bot")
PRAGMAS = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": DEFAULT_BUSY_TIMEOUT_MS}
SET_PRAGMAS = [f"PRAGMA {name} = {value}" for name, value in PRAGMAS.items()]
READ_BACK = [f"PRAGMA {name}" for name in PRAGMAS]

# the same columns as the bot's `tempvoice.get_lane`: every stack does the same work
READ_SQL = (
    "SELECT channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank, created_at "
    "FROM tempvoice_lanes WHERE channel_id = ?"
)
WRITE_SQL = "INSERT INTO kv_store (ns, k, v) VALUES ('bench', ?, ?) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v"
BAN_SQL = "SELECT EXISTS (SELECT 1 FROM tempvoice_bans WHERE owner_id = ? AND banned_id = ?)"
PREF_SQL = "SELECT region FROM tempvoice_owner_prefs WHERE owner_id = ?"
LANE_SQL = (
    "INSERT INTO tempvoice_lanes (channel_id, guild_id, owner_id, base_name, category_id) VALUES (?, 1, ?, 'Lane', 0)"
)
OWNER_SQL = "UPDATE tempvoice_lanes SET owner_id = ? WHERE channel_id = ?"
NAMED = """
-- name: read(channel_id)^
SELECT channel_id, guild_id, owner_id, base_name, category_id, lane_number, min_rank, created_at
FROM tempvoice_lanes WHERE channel_id = :channel_id;
-- name: write(k, v)!
INSERT INTO kv_store (ns, k, v) VALUES ('bench', :k, :v) ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v;
-- name: banned(owner_id, banned_id)$
SELECT EXISTS (SELECT 1 FROM tempvoice_bans WHERE owner_id = :owner_id AND banned_id = :banned_id);
-- name: region(owner_id)$
SELECT region FROM tempvoice_owner_prefs WHERE owner_id = :owner_id;
-- name: lane(channel_id, owner_id)!
INSERT INTO tempvoice_lanes (channel_id, guild_id, owner_id, base_name, category_id)
VALUES (:channel_id, 1, :owner_id, 'Lane', 0);
-- name: owner(channel_id, owner_id)!
UPDATE tempvoice_lanes SET owner_id = :owner_id WHERE channel_id = :channel_id;
"""


def lane_id(i: int) -> int:
    return 10_000_000 + i


class Stack:
    """The same operations on one way of talking to SQLite."""

    name = ""

    async def read(self, channel_id: int) -> Any:
        raise NotImplementedError

    async def write(self, key: str) -> None:
        raise NotImplementedError

    async def join(self, i: int) -> None:
        raise NotImplementedError

    async def pragmas(self) -> list[Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawStack(Stack):
    name = "raw"

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for sql in SET_PRAGMAS:
            self.conn.execute(sql)

    async def read(self, channel_id: int) -> Any:
        return self.conn.execute(READ_SQL, (channel_id,)).fetchone()

    async def write(self, key: str) -> None:
        self.conn.execute(WRITE_SQL, (key, key))

    async def join(self, i: int) -> None:
        c = self.conn
        c.execute(BAN_SQL, (i, i + 1)).fetchone()
        c.execute(PREF_SQL, (i,)).fetchone()
        c.execute("BEGIN IMMEDIATE")
        c.execute(LANE_SQL, (lane_id(i), i))
        c.execute(OWNER_SQL, (i + 1, lane_id(i)))
        c.execute("COMMIT")

    async def pragmas(self) -> list[Any]:
        return [self.conn.execute(sql).fetchone()[0] for sql in READ_BACK]

    async def close(self) -> None:
        self.conn.close()


class ToThreadStack(RawStack):
    """asyncio.to_thread per statement on one shared connection (BEGIN, each statement and
    COMMIT separately), with a transaction lock so the comparison is with a correct version."""

    name = "to_thread"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lock = threading.Lock()
        self.tx_lock = asyncio.Lock()

    def _locked(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    async def _q(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return await asyncio.to_thread(self._locked, sql, params)

    async def read(self, channel_id: int) -> Any:
        return await self._q(READ_SQL, (channel_id,))

    async def write(self, key: str) -> None:
        async with self.tx_lock:
            await self._q(WRITE_SQL, (key, key))

    async def join(self, i: int) -> None:
        await self._q(BAN_SQL, (i, i + 1))
        await self._q(PREF_SQL, (i,))
        async with self.tx_lock:
            await self._q("BEGIN IMMEDIATE")
            try:
                await self._q(LANE_SQL, (lane_id(i), i))
                await self._q(OWNER_SQL, (i + 1, lane_id(i)))
                await self._q("COMMIT")
            except BaseException:
                await self._q("ROLLBACK")
                raise


async def _aio(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    for sql in SET_PRAGMAS:
        await conn.execute_fetchall(sql)
    return conn


class OneHopStack(Stack):
    """aiosqlite with one hop per query; a lock per connection keeps transactions apart."""

    name = "aiosqlite"
    connections = 1

    def __init__(self, conns: list[aiosqlite.Connection]) -> None:
        self.conns = conns
        self.locks = [asyncio.Lock() for _ in conns]

    @classmethod
    async def open(cls, path: Path) -> Stack:
        return cls([await _aio(path) for _ in range(cls.connections)])

    async def read(self, channel_id: int) -> Any:
        rows = await self.conns[0].execute_fetchall(READ_SQL, (channel_id,))
        return next(iter(rows), None)

    async def write(self, key: str) -> None:
        async with self.locks[0]:
            await self.conns[0].execute(WRITE_SQL, (key, key))

    async def join(self, i: int) -> None:
        conn = self.conns[0]
        await conn.execute_fetchall(BAN_SQL, (i, i + 1))
        await conn.execute_fetchall(PREF_SQL, (i,))
        async with self.locks[0]:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute(LANE_SQL, (lane_id(i), i))
                await conn.execute(OWNER_SQL, (i + 1, lane_id(i)))
                await conn.execute("COMMIT")
            except BaseException:
                await conn.rollback()
                raise

    async def pragmas(self) -> list[Any]:
        return [next(iter(await self.conns[0].execute_fetchall(sql)))[0] for sql in READ_BACK]

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()


class AiosqlStack(OneHopStack):
    """The same queries loaded by aiosql and run by its stock aiosqlite adapter."""

    name = "aiosql"

    def __init__(self, conns: list[aiosqlite.Connection]) -> None:
        super().__init__(conns)
        self.q = aiosql.from_str(NAMED, "aiosqlite")

    async def read(self, channel_id: int) -> Any:
        return await self.q.read(self.conns[0], channel_id=channel_id)

    async def write(self, key: str) -> None:
        async with self.locks[0]:
            await self.q.write(self.conns[0], k=key, v=key)

    async def join(self, i: int) -> None:
        conn = self.conns[0]
        await self.q.banned(conn, owner_id=i, banned_id=i + 1)
        await self.q.region(conn, owner_id=i)
        async with self.locks[0]:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await self.q.lane(conn, channel_id=lane_id(i), owner_id=i)
                await self.q.owner(conn, channel_id=lane_id(i), owner_id=i + 1)
                await conn.execute("COMMIT")
            except BaseException:
                await conn.rollback()
                raise


class FiveConnectionStack(OneHopStack):
    """One aiosqlite connection per cog, with cursors (execute, fetchone, close) as the old bot
    used them; its writers on five connections may meet "database is locked"."""

    name = "5 conns"
    connections = 5

    async def read(self, channel_id: int) -> Any:
        async with self.conns[channel_id % 5].execute(READ_SQL, (channel_id,)) as cur:
            return await cur.fetchone()

    async def write(self, key: str) -> None:
        k = hash(key) % 5
        async with self.locks[k]:
            await self.conns[k].execute(WRITE_SQL, (key, key))

    async def join(self, i: int) -> None:
        k = i % 5
        conn = self.conns[k]
        async with conn.execute(BAN_SQL, (i, i + 1)) as cur:
            await cur.fetchone()
        async with conn.execute(PREF_SQL, (i,)) as cur:
            await cur.fetchone()
        async with self.locks[k]:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute(LANE_SQL, (lane_id(i), i))
                await conn.execute(OWNER_SQL, (i + 1, lane_id(i)))
                await conn.execute("COMMIT")
            except BaseException:
                await conn.rollback()
                raise


class BotStack(Stack):
    name = "bot"

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def read(self, channel_id: int) -> Any:
        async with self.db.read() as conn:
            return await queries.tempvoice.get_lane(conn, channel_id=channel_id)

    async def write(self, key: str) -> None:
        async with self.db.write() as conn:
            await queries.core.set_kv(conn, ns="bench", k=key, v=key)

    async def join(self, i: int) -> None:
        async with self.db.read() as conn:
            await queries.tempvoice.is_banned(conn, owner_id=i, banned_id=i + 1)
            await queries.tempvoice.get_region(conn, owner_id=i)
        async with self.db.transaction() as conn:
            await queries.tempvoice.insert_lane(
                conn, channel_id=lane_id(i), guild_id=1, owner_id=i, base_name="Lane", category_id=0,
                lane_number=None, min_rank=0, source_staging_id=None, created_at=None,
            )  # fmt: skip
            await queries.tempvoice.set_lane_owner(conn, channel_id=lane_id(i), owner_id=i + 1)

    async def pragmas(self) -> list[Any]:
        """The writer's and a reader's (shown as "writer/reader" where they differ)."""
        out = []
        for sql in READ_BACK:
            async with self.db.write() as conn, conn.execute(sql) as cur:
                writer = (await cur.fetchone())[0]
            async with self.db.read() as reader_conn, reader_conn.execute(sql) as cur:
                reader = (await cur.fetchone())[0]
            out.append(writer if writer == reader else f"{writer}/{reader}")
        return out

    async def close(self) -> None:
        return None  # the bench closes the database itself


async def open_stacks(path: Path, db: SqliteDatabase) -> dict[str, Stack]:
    return {
        "raw": RawStack(path),
        "to_thread": ToThreadStack(path),
        "aiosql": await AiosqlStack.open(path),
        "aiosqlite": await OneHopStack.open(path),
        "5 conns": await FiveConnectionStack.open(path),
        "bot": BotStack(db),
    }

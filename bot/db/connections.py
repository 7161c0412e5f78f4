"""Connection types handed out by the central database.

`ReadConn` comes from `db.read()` / `db.snapshot()`, and `WriteConn` from
`db.transaction()` / `db.write()` (the writer lock held). They are distinct types for mypy:
the generated accessors of write queries accept only a `WriteConn`, so a write on a read
connection is a type error, and a raw connection (one not obtained from the central
database) is rejected too. Both wrap an `EngineConnection`: SQLite's aiosqlite connection or a
PostgreSQL connection from the pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterable, Sequence
from typing import Any, NewType


class Rows:
    """What a statement returned (as tuples), fetched completely: `execute()` hands it out on
    both engines, awaited or as `async with`."""

    __slots__ = ("_index", "_rows", "description", "lastrowid", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None = None, description: Any = None) -> None:
        self._rows = rows
        self._index = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.description = description

    async def fetchone(self) -> Any:
        if self._index >= len(self._rows):
            return None
        self._index += 1
        return self._rows[self._index - 1]

    async def fetchall(self) -> list[Any]:
        rest, self._index = self._rows[self._index :], len(self._rows)
        return rest

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Rows:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class Result:
    """The statement `execute()` started: awaitable, and usable as `async with`, like
    aiosqlite's `execute()` result."""

    __slots__ = ("_coro",)

    def __init__(self, coro: Awaitable[Rows]) -> None:
        self._coro = coro

    def __await__(self) -> Generator[Any, None, Rows]:
        return self._coro.__await__()

    async def __aenter__(self) -> Rows:
        return await self._coro

    async def __aexit__(self, *exc: object) -> None:
        return None


class EngineConnection:
    """What every engine's connection offers: statements with the engine's placeholders
    (`?` on SQLite, `$1` on PostgreSQL), whether a transaction is open, and the few catalog
    facts engine-neutral tools (export/import) need.

    `failed_statements` counts the statements that raised on it: the unit of work compares it
    around its block (bot/db/unit.py, the failed-statement rule)."""

    failed_statements: int = 0

    async def control(self, sql: str) -> str:
        """Run a transaction control statement (BEGIN, COMMIT, SAVEPOINT ...); a failure counts
        as a failed statement. Returns the command's status where the engine reports one."""
        raise NotImplementedError

    def placeholder(self, index: int) -> str:
        """The bind parameter marker for the `index`-th (1-based) value of a statement."""
        raise NotImplementedError

    async def table_names(self) -> set[str]:
        """The tables of the database (the current schema on PostgreSQL)."""
        raise NotImplementedError

    async def identity_high_water(self, table: str, column: str) -> int:
        """The highest id the table's AUTOINCREMENT/identity column ever handed out (0: none)."""
        raise NotImplementedError

    async def set_identity_high_water(self, table: str, column: str, value: int) -> None:
        """Let the next generated id be above `value` and above every id in the table."""
        raise NotImplementedError

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Result:
        """Awaitable and usable as `async with`; gives the statement's `Rows`."""
        raise NotImplementedError

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Any:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError


ReadConn = NewType("ReadConn", EngineConnection)
WriteConn = NewType("WriteConn", EngineConnection)

#: Read queries run on either kind (inside a transaction, read through the writer to see its own writes).
AnyConn = ReadConn | WriteConn

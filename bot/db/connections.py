"""Connection types handed out by the central database.

`ReadConn` comes from `db.read()` / `db.snapshot()`, and `WriteConn` from
`db.transaction()` / `db.write()` (the writer lock held). They are distinct types for mypy:
the generated accessors of write queries accept only a `WriteConn`, so a write on a read
connection is a type error, and a raw connection (one not obtained from the central
database) is rejected too. Both wrap an `EngineConnection`: SQLite's aiosqlite connection or a
PostgreSQL connection from the pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NewType


class EngineConnection:
    """What every engine's connection offers: statements with the engine's placeholders
    (`?` on SQLite, `$1` on PostgreSQL), whether a transaction is open, and the few catalog
    facts engine-neutral tools (export/import) need."""

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

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """Awaitable and usable as `async with`; gives an object with fetchone/fetchall/rowcount."""
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

"""Connection types handed out by the central database.

`ReadConn` comes from `db.read()` (a read-only connection, `PRAGMA query_only`), and
`WriteConn` from `db.transaction()` / `db.write()` (the single writer, with the writer
lock held). They are distinct types for mypy: the generated accessors of write queries
accept only a `WriteConn`, so a write on a read connection is a type error, and a raw
connection (one not obtained from the central database) is rejected too.
"""

from __future__ import annotations

from typing import NewType

from bot.db.driver import Connection

ReadConn = NewType("ReadConn", Connection)
WriteConn = NewType("WriteConn", Connection)

#: Read queries run on either kind (inside a transaction, read through the writer to see its own writes).
AnyConn = ReadConn | WriteConn

"""The central data layer: one Database owns every connection; typed queries in bot.db.queries.

`Database` is the engine-neutral API; `SqliteDatabase` (the default) and, in bot.db.postgres.engine,
`PgDatabase` implement it; `open_database(target)` picks one by the target.
"""

from bot.db.base import Database
from bot.db.connections import AnyConn, ReadConn, WriteConn
from bot.db.errors import (
    DatabaseClosedError,
    DatabaseError,
    DatabaseLocationError,
    IntegrityError,
    MigrationError,
    NotADatabaseError,
    SchemaTooNewError,
    StaleQueriesError,
    TransactionAbortedError,
)
from bot.db.sqlite.engine import SqliteDatabase

__all__ = [
    "AnyConn",
    "Database",
    "DatabaseClosedError",
    "DatabaseError",
    "DatabaseLocationError",
    "IntegrityError",
    "MigrationError",
    "NotADatabaseError",
    "ReadConn",
    "SchemaTooNewError",
    "SqliteDatabase",
    "StaleQueriesError",
    "TransactionAbortedError",
    "WriteConn",
]

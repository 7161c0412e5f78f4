"""The central data layer: one Database owns every connection; typed queries in bot.db.queries."""

from bot.db.connections import AnyConn, ReadConn, WriteConn
from bot.db.database import Database
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
    "StaleQueriesError",
    "TransactionAbortedError",
    "WriteConn",
]

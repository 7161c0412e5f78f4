"""Errors of the data layer. Each carries a message meant for an admin's terminal."""

from __future__ import annotations

import sqlite3


class DatabaseError(Exception):
    """Base class of every error the data layer raises on purpose."""


class DatabaseClosedError(DatabaseError):
    """The database was closed (or never opened) and cannot be used."""


class DatabaseLocationError(DatabaseError):
    """The database file cannot be created or opened at the configured path."""


class NotADatabaseError(DatabaseError):
    """The file exists but is not an SQLite database (or is corrupt)."""


class SchemaTooNewError(DatabaseError):
    """The file was written by a newer version of the bot."""


class MigrationError(DatabaseError):
    """A migration failed; the transaction was rolled back and the file is unchanged."""


class StaleQueriesError(DatabaseError):
    """bot/db/queries.py was generated from other .sql files than the ones on disk."""


class TransactionAbortedError(DatabaseError):
    """A statement inside the transaction failed and its error was caught, yet the block went
    on to commit. PostgreSQL cannot commit such a transaction (it would silently roll back);
    both engines refuse it the same way, so code tested on SQLite behaves on PostgreSQL.
    To carry on after a statement that may fail, run it in a nested `db.transaction()`."""

    def __init__(self) -> None:
        super().__init__(
            "a statement in this transaction failed and its error was caught; nothing of the "
            "transaction was written (run a statement that may fail in a nested db.transaction())"
        )


class IntegrityError(DatabaseError, sqlite3.IntegrityError):
    """A constraint refused the write (unique key, foreign key, CHECK, NOT NULL), on either
    engine: services catch this one instead of a driver's own class."""

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


class IntegrityError(DatabaseError, sqlite3.IntegrityError):
    """A constraint refused the write (unique key, foreign key, CHECK, NOT NULL), on either
    engine: services catch this one instead of a driver's own class."""

"""The database a command works on: resolved once, checked before the engine opens it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from bot.cli.errors import CONTEXT, CliError, UsageError
from bot.config import DbTarget, busy_timeout_ms, resolve_target
from bot.db import Database, SqliteDatabase
from bot.db.preflight import FileFacts, inspect, require_writable
from bot.db.urls import redact_url


def target_of(args: argparse.Namespace) -> DbTarget:
    target = resolve_target(args.db)
    CONTEXT.target = redact_url(target) if isinstance(target, str) else str(target)
    return target


def sqlite_target(args: argparse.Namespace) -> Path:
    """The SQLite file of an SQLite-only maintenance command."""
    target = target_of(args)
    if isinstance(target, str):
        raise UsageError(
            f"`deadlock-bot db {args.db_command}` works on the SQLite file; on PostgreSQL use the server's own tools"
        )
    return target


def require_file(path: Path) -> None:
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a database file")
    if not path.is_file():
        raise CliError(f"no database at {path} (use --db PATH, or `deadlock-bot db upgrade` to create one)")


async def checked_file(path: Path, *, quick_check: bool = True, writes: bool = False) -> FileFacts:
    """An existing, undamaged file (and one the command can write, if it writes)."""
    require_file(path)
    if writes:
        await asyncio.to_thread(require_writable, path)
    return await asyncio.to_thread(inspect, path, busy_timeout_ms=busy_timeout_ms(), quick_check=quick_check)


def open_sqlite(path: Path, *, read_only: bool = False) -> SqliteDatabase:
    """`read_only`: opened with mode=ro, nothing of the file can change (db check/stats)."""
    from bot.db.sqlite.migrations import latest_version

    return SqliteDatabase(
        path, busy_timeout_ms=busy_timeout_ms(), max_schema_version=latest_version(), readers=1, read_only=read_only
    )


def open_any(target: DbTarget, *, read_only: bool = False) -> Database:
    from bot.db.engines import open_database

    return open_database(target, busy_timeout_ms=busy_timeout_ms(), read_only=read_only)


class NewFile:
    """Remembers what a command that may create an SQLite file found, so a failure removes
    the file (and the folders) it created and leaves the disk as it was."""

    def __init__(self, target: DbTarget) -> None:
        self.path = target if isinstance(target, Path) else None
        self.created = self.path is not None and not self.path.exists()
        self.first_new_folder: Path | None = None
        if self.path is not None and self.created:
            folder = self.path.parent
            while str(folder) not in ("", ".") and not folder.exists():
                self.first_new_folder = folder
                folder = folder.parent

    def undo(self) -> None:
        if self.path is None or not self.created:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        if self.first_new_folder is None:
            return
        folder = self.path.parent
        while True:  # the folders it created, innermost first, each only while empty
            with contextlib.suppress(OSError):
                folder.rmdir()
            if folder == self.first_new_folder:
                return
            folder = folder.parent

"""`deadlock-bot db ...`: upgrade, check, backup, stats, export, import, forget-user.

Every command checks what it can before it opens the database (the target's form, the
file's existence, damage, write access, an export file's whole content), so a refusal
leaves the file as it was and nothing new beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path

from bot.cli.errors import EXIT_FAILURE, EXIT_OK, CliError, UsageError
from bot.cli.targets import NewFile, checked_file, open_any, open_sqlite, require_file, sqlite_target, target_of
from bot.config import busy_timeout_ms
from bot.db.preflight import explain_sqlite_error, require_writable, type_problems


async def db_upgrade(args: argparse.Namespace) -> int:
    from bot.db.engines import migrate

    target = target_of(args)
    if isinstance(target, Path) and target.exists():
        await checked_file(target, writes=True)
    new = NewFile(target)
    try:
        async with open_any(target) as db:
            print(await migrate(db, backup=not args.no_backup, repair=True))
    except BaseException:
        new.undo()
        raise
    return EXIT_OK


async def db_check(args: argparse.Namespace) -> int:
    from bot.db.sqlite.maintenance import check_database
    from bot.db.sqlite.migrations import latest_version

    path = sqlite_target(args)
    await checked_file(path, quick_check=False)
    async with open_sqlite(path, read_only=True) as db:
        try:
            report = await check_database(db, latest_version())
            report.drift += await asyncio.to_thread(type_problems, path, busy_timeout_ms=busy_timeout_ms())
        except sqlite3.DatabaseError as e:  # damage so deep that the checks themselves fail
            print(f"database: {path}")
            print(f"integrity_check: failed: {e}")
            print("result: PROBLEMS FOUND (the file is corrupt: restore it from a backup)")
            return EXIT_FAILURE
    print(report.describe())
    return EXIT_OK if report.ok else EXIT_FAILURE


async def db_backup(args: argparse.Namespace) -> int:
    from bot.db.sqlite.maintenance import backup_to, default_backup_path

    path = sqlite_target(args)
    await checked_file(path)
    target = Path(args.to) if args.to else default_backup_path(path, dt.datetime.now(dt.UTC))
    if target.is_dir():
        raise CliError(f"backup target {target} is a folder: give a file name")
    if target.exists():
        raise CliError(f"backup target {target} exists; choose another file")
    new = NewFile(target)
    try:
        async with open_sqlite(path) as db:
            await backup_to(db, target)
    except BaseException as e:
        new.undo()  # no half-written (or 0-byte) backup left behind
        if isinstance(e, sqlite3.Error):
            raise explain_sqlite_error(e, target) from e
        raise
    print(f"backup of {path} written to {target} ({target.stat().st_size} bytes)")
    return EXIT_OK


async def db_stats(args: argparse.Namespace) -> int:
    from bot.db.sqlite.maintenance import collect_stats

    path = sqlite_target(args)
    await checked_file(path)
    async with open_sqlite(path, read_only=True) as db:
        stats = await collect_stats(db)
        print(stats.describe())
        print()
        print("query metrics of this process (the bot logs its own at shutdown):")
        print(db.metrics.summary())
    return EXIT_OK


async def db_export(args: argparse.Namespace) -> int:
    from bot.db.transfer import export_to_file

    target = target_of(args)
    out = Path(args.json)
    await asyncio.to_thread(_check_export_target, out, target, force=args.force)
    if isinstance(target, Path):
        await checked_file(target)
    async with open_any(target, read_only=True) as db:
        protect = target if isinstance(target, Path) else None
        counts = await export_to_file(db, out, force=args.force, protect=protect)
    print(f"exported {sum(counts.values())} rows of {len(counts)} tables from {db.location} to {out}")
    for table, n in counts.items():
        print(f"  {table:<32} {n:>8}")
    return EXIT_OK


def _check_export_target(out: Path, target: Path | str, *, force: bool) -> None:
    if isinstance(target, Path):
        require_file(target)
        if out.exists() and out.samefile(target):
            raise CliError(f"{out} is the database being exported: write the export to another file")
    if out.is_dir():
        raise CliError(f"{out} is a folder: give the export a file name, e.g. {out / 'export.json'}")
    if out.exists() and not force:
        raise CliError(f"{out} exists: choose another file, or pass --force to replace it")


async def db_import(args: argparse.Namespace) -> int:
    from bot.db.engines import migrate
    from bot.db.transfer import import_data, load_export

    target = target_of(args)
    data = await load_export(Path(args.json))  # the whole file checked before any database is touched
    if isinstance(target, Path) and target.exists():
        await checked_file(target, writes=True)
    elif isinstance(target, Path):
        await asyncio.to_thread(require_writable, target)
    new = NewFile(target)
    try:
        async with open_any(target) as db:
            await migrate(db)
            report = await import_data(db, data, replace=args.replace)
    except BaseException:
        new.undo()  # a failed import into a new file leaves no file behind
        raise
    print(f"imported {args.json} into {db.location}; row counts compared:")
    print(report.describe())
    return EXIT_OK


async def db_forget_user(args: argparse.Namespace) -> int:
    from bot.db.privacy import forget_user, parse_user_id

    try:
        user_id = parse_user_id(args.user_id)
    except ValueError as e:
        raise UsageError(str(e)) from e
    target = target_of(args)
    if isinstance(target, Path):
        await checked_file(target, writes=True)
    async with open_any(target) as db:
        counts = await forget_user(db, user_id)
    print(f"forgot user {user_id} in {db.location} ({sum(counts.values())} rows removed in one transaction):")
    for kind, n in counts.items():
        print(f"  {kind:<40} {n:>6}")
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], Coroutine[None, None, int]]] = {
    "upgrade": db_upgrade,
    "check": db_check,
    "backup": db_backup,
    "stats": db_stats,
    "export": db_export,
    "import": db_import,
    "forget-user": db_forget_user,
}

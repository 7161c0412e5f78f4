"""`deadlock-bot`: run the bot, look after its database, and generate/check the typed SQL."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import auto_upgrade, busy_timeout_ms, postgres_url, resolve_db_path
from bot.db import Database, DatabaseError, SqliteDatabase

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error whose message is all the user needs (printed without a traceback)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deadlock-bot", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db_help = (
        "database file (default: $DEADLOCK_DB_PATH, else $DEADLOCK_DB_DIR/deadlock.sqlite3, "
        "else ./data/deadlock.sqlite3)"
    )
    any_db_help = "a postgresql://... URL (also taken from $DATABASE_URL) or a " + db_help

    run = sub.add_parser("run", help="start the bot (token from $DISCORD_TOKEN)")
    run.add_argument("--db", help=any_db_help)
    run.add_argument(
        "--no-auto-upgrade", action="store_true", help="refuse to start on an old schema instead of upgrading it"
    )

    db = sub.add_parser("db", help="database operations").add_subparsers(
        dest="db_command", required=True, metavar="DB_COMMAND"
    )
    up = db.add_parser("upgrade", help="create or upgrade the database (backup first)")
    up.add_argument("--db", help=any_db_help)
    up.add_argument("--no-backup", action="store_true", help="skip the backup before upgrading")
    ck = db.add_parser("check", help="integrity, foreign keys, schema version and drift from schema.sql")
    ck.add_argument("--db", help=db_help)
    bk = db.add_parser("backup", help="online backup with SQLite's backup API")
    bk.add_argument("--db", help=db_help)
    bk.add_argument("--to", help="backup file (default: <name>.backup-<UTC time>.sqlite3 next to it)")
    st = db.add_parser("stats", help="row counts, file and WAL size, schema version, query metrics")
    st.add_argument("--db", help=db_help)

    ex = db.add_parser("export", help="write every table of the schema to a JSON file")
    ex.add_argument("--db", help=any_db_help)
    ex.add_argument("--json", required=True, metavar="FILE", help="the JSON file to write")
    im = db.add_parser("import", help="load a JSON export into an empty database (creating it if needed)")
    im.add_argument("--db", help=any_db_help)
    im.add_argument("--json", required=True, metavar="FILE", help="the JSON file to read")
    im.add_argument("--replace", action="store_true", help="delete the existing rows of the schema's tables first")
    fu = db.add_parser("forget-user", help="remove one person's personal data (steam links, bans, preferences, ...)")
    fu.add_argument("user_id", metavar="USER_ID", help="the person's Discord user id")
    fu.add_argument("--db", help=any_db_help)

    bench = sub.add_parser("bench", help="measure the data layer: latency, concurrency, loop stalls, memory")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (what CI runs)")
    bench.add_argument("--soak", type=float, default=0.0, metavar="SECONDS", help="then run the join load this long")

    sql = sub.add_parser("sql", help="the typed SQL toolchain").add_subparsers(
        dest="sql_command", required=True, metavar="SQL_COMMAND"
    )
    sql.add_parser("generate", help="write bot/db/queries.py from sql/ and schema.sql")
    sql.add_parser("check", help="fail on a stale bot/db/queries.py, an invalid query or a broken lint rule")
    return p


def _sqlite_only(args: argparse.Namespace, what: str) -> None:
    if postgres_url(args.db):
        raise CliError(f"`deadlock-bot db {what}` works on the SQLite file; on PostgreSQL use the server's own tools")


def _open_db(args: argparse.Namespace, *, must_exist: bool) -> SqliteDatabase:
    """The SQLite file of `--db` (for the SQLite-only maintenance commands)."""
    from bot.db.sqlite.migrations import latest_version

    _sqlite_only(args, args.db_command)
    path = _sqlite_path(args, must_exist=must_exist)
    return SqliteDatabase(path, busy_timeout_ms=busy_timeout_ms(), max_schema_version=latest_version(), readers=1)


def _sqlite_path(args: argparse.Namespace, *, must_exist: bool) -> Path:
    path = resolve_db_path(args.db)
    if must_exist and not path.is_file():
        raise CliError(f"no database at {path} (use --db PATH, or `deadlock-bot db upgrade` to create one)")
    return path


def _open_any(args: argparse.Namespace, *, must_exist: bool) -> Database:
    """The database of `--db`/DATABASE_URL on either engine (for engine-neutral commands)."""
    from bot.db.engines import open_database

    url = postgres_url(args.db)
    return open_database(url or _sqlite_path(args, must_exist=must_exist), busy_timeout_ms=busy_timeout_ms())


async def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db.engines import migrate

    async with _open_any(args, must_exist=False) as db:
        print(await migrate(db, backup=not args.no_backup))
    return EXIT_OK


async def _db_check(args: argparse.Namespace) -> int:
    from bot.db.sqlite.maintenance import check_database
    from bot.db.sqlite.migrations import latest_version

    async with _open_db(args, must_exist=True) as db:
        report = await check_database(db, latest_version())
    print(report.describe())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


async def _db_backup(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.db.sqlite.maintenance import backup_to, default_backup_path

    async with _open_db(args, must_exist=True) as db:
        target = Path(args.to) if args.to else default_backup_path(db.path, dt.datetime.now(dt.UTC))
        try:
            await backup_to(db, target)
        except (FileExistsError, OSError) as e:
            raise CliError(str(e)) from e
    print(f"backup of {db.path} written to {target} ({target.stat().st_size} bytes)")
    return EXIT_OK


async def _db_stats(args: argparse.Namespace) -> int:
    from bot.db.sqlite.maintenance import collect_stats

    async with _open_db(args, must_exist=True) as db:
        stats = await collect_stats(db)
        print(stats.describe())
        print()
        print("query metrics of this process (the bot logs its own at shutdown):")
        print(db.metrics.summary())
    return EXIT_OK


async def _db_export(args: argparse.Namespace) -> int:
    from bot.db.transfer import export_to_file

    async with _open_any(args, must_exist=True) as db:
        counts = await export_to_file(db, Path(args.json))
    print(f"exported {sum(counts.values())} rows of {len(counts)} tables from {db.location} to {args.json}")
    for table, n in counts.items():
        print(f"  {table:<32} {n:>8}")
    return EXIT_OK


async def _db_import(args: argparse.Namespace) -> int:
    from bot.db.engines import migrate
    from bot.db.transfer import import_from_file

    async with _open_any(args, must_exist=False) as db:
        await migrate(db)
        report = await import_from_file(db, Path(args.json), replace=args.replace)
    print(f"imported {args.json} into {db.location}; row counts compared:")
    print(report.describe())
    return EXIT_OK


async def _db_forget_user(args: argparse.Namespace) -> int:
    from bot.db.privacy import forget_user, parse_user_id

    user_id = parse_user_id(args.user_id)
    async with _open_any(args, must_exist=True) as db:
        counts = await forget_user(db, user_id)
    print(f"forgot user {user_id} in {db.location} ({sum(counts.values())} rows removed in one transaction):")
    for kind, n in counts.items():
        print(f"  {kind:<40} {n:>6}")
    return EXIT_OK


def _sql(args: argparse.Namespace) -> int:
    try:
        from bot.devtools.codegen import CodegenError, check, generate
    except ImportError as e:
        raise CliError(f"the SQL toolchain needs the dev extras: pip install -e '.[dev]' ({e})") from e
    try:
        if args.sql_command == "generate":
            path, count = generate()
            print(f"wrote {path} ({count} queries)")
            return EXIT_OK
        problems = check()
    except CodegenError as e:
        raise CliError(str(e)) from e
    from bot.devtools.codegen.postgres import DEFAULT_PG_URL, check_on_postgres
    from bot.resources import MIGRATIONS_DIR, SQL_DIR

    url = os.environ.get("DEADLOCK_PG_URL", DEFAULT_PG_URL)
    pg_failures, pg_line = check_on_postgres(SQL_DIR, MIGRATIONS_DIR, url)
    for p in problems:
        print(p)
    for where, message in pg_failures:
        print(f"{where}: {message}")
    print(pg_line)
    if problems or pg_failures:
        print(f"sql check: {len(problems) + len(pg_failures)} problem(s)")
        return EXIT_PROBLEMS
    print("sql check: all queries compile against schema.sql, lint clean, bot/db/queries.py is current")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise CliError("DISCORD_TOKEN is not set: export the bot's token as DISCORD_TOKEN and start again")
    import discord

    from bot.app import run_bot
    from bot.db.sqlite.instance_lock import AlreadyRunningError

    try:
        asyncio.run(
            run_bot(
                token,
                postgres_url(args.db) or resolve_db_path(args.db),
                busy_timeout_ms=busy_timeout_ms(),
                auto_upgrade=auto_upgrade(args.no_auto_upgrade),
            )
        )
    except AlreadyRunningError as e:
        raise CliError(str(e)) from e
    except discord.LoginFailure as e:
        raise CliError(f"Discord rejected the token in DISCORD_TOKEN: {e}") from e
    except discord.PrivilegedIntentsRequired as e:
        raise CliError(
            "enable the Server Members and Message Content intents for the bot in the Discord developer portal"
        ) from e
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command != "run":
        logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "sql":
            return _sql(args)
        if args.command == "bench":
            from bot.devtools.bench import run

            asyncio.run(run(quick=args.quick, soak=args.soak))
            return EXIT_OK
        handler = {
            "upgrade": _db_upgrade,
            "check": _db_check,
            "backup": _db_backup,
            "stats": _db_stats,
            "export": _db_export,
            "import": _db_import,
            "forget-user": _db_forget_user,
        }
        return asyncio.run(handler[args.db_command](args))
    except (CliError, DatabaseError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_PROBLEMS if not isinstance(e, CliError) or "DISCORD_TOKEN" not in str(e) else EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

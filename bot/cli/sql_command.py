"""`deadlock-bot sql generate|check`: the typed SQL toolchain (needs the dev extras)."""

from __future__ import annotations

import argparse
import os

from bot.cli.errors import CONTEXT, EXIT_FAILURE, EXIT_OK, CliError
from bot.db.urls import redact_url


def sql_command(args: argparse.Namespace) -> int:
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
    shown = redact_url(url)
    CONTEXT.target = f"{shown} (DEADLOCK_PG_URL)"
    pg_failures, pg_line = check_on_postgres(SQL_DIR, MIGRATIONS_DIR, url)
    for p in problems:
        print(p)
    for where, message in pg_failures:
        print(f"{where}: {message}")
    print(pg_line.replace(url, shown))
    if problems or pg_failures:
        print(f"sql check: {len(problems) + len(pg_failures)} problem(s)")
        return EXIT_FAILURE
    print("sql check: all queries compile against schema.sql, lint clean, bot/db/queries.py is current")
    return EXIT_OK

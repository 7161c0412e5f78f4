"""`deadlock-bot`: run the bot, look after its database, and generate/check the typed SQL.

Every error ends as one line on stderr (`error: ...`) and an exit code (bot/cli/errors.py),
never as a traceback (`-v` adds it) and never with a password or the token in it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence

from bot.cli.errors import EXIT_INTERRUPTED, EXIT_OK, SECRETS, ScrubbingFormatter, explain
from bot.cli.parser import build_parser


@contextlib.contextmanager
def _logging(args: argparse.Namespace) -> Iterator[None]:
    """Log lines on stderr, secrets scrubbed; the root logger as it was afterwards (main() is
    also called in-process, by tests)."""
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    for old in saved[0]:
        if type(old) is logging.StreamHandler:  # a console handler of its own; others (captures) stay
            root.removeHandler(old)
    root.addHandler(handler)
    # a command other than `run` says what it did (or one error line); its logs only with -v
    quiet = logging.INFO if args.command == "run" else logging.ERROR
    root.setLevel(logging.DEBUG if args.verbose else quiet)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for old in saved[0]:
            if old not in root.handlers:
                root.addHandler(old)
        root.setLevel(saved[1])


def _remember_secrets(args: argparse.Namespace) -> None:
    SECRETS.add(os.environ.get("DISCORD_TOKEN", "").strip())
    SECRETS.add_urls([getattr(args, "db", None), os.environ.get("DATABASE_URL"), os.environ.get("DEADLOCK_PG_URL")])


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from bot.cli.run_command import run_command

        return run_command(args)
    if args.command == "commands":
        from bot.cli.commands_command import commands_command

        return commands_command(args)
    if args.command == "sql":
        from bot.cli.sql_command import sql_command

        return sql_command(args)
    if args.command == "ratings":
        from bot.cli.ratings_command import ratings_rebuild

        return asyncio.run(ratings_rebuild(args))
    if args.command == "bench":
        from bot.devtools.bench import run

        asyncio.run(run(quick=args.quick, soak=args.soak))
        return EXIT_OK
    from bot.cli.db_commands import HANDLERS

    return asyncio.run(HANDLERS[args.db_command](args))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a wrong command line (2, already explained)
        return e.code if isinstance(e.code, int) else 0
    _remember_secrets(args)
    with _logging(args):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        code, line = explain(e)
        if args.verbose:
            print(SECRETS.scrub("".join(traceback.format_exception(e))), file=sys.stderr, end="")
        print(SECRETS.scrub(f"error: {line}"), file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())

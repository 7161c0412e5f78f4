"""The command line's arguments: `deadlock-bot run | db ... | ratings rebuild | commands sync | sql ... | bench`."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from bot.cli.errors import EXIT_USAGE

DESCRIPTION = "deadlock-bot: run the bot, look after its database, and generate/check the typed SQL."
EPILOG = (
    "exit codes: 0 done; 1 failed while doing it (damaged, locked or read-only database, full disk, "
    "a server refused: PostgreSQL the password, Discord the token); 2 wrong command line or setting, "
    "found before anything was opened or contacted; 130 interrupted"
)
DB_HELP = (
    "database file (default: $DEADLOCK_DB_PATH, else $DEADLOCK_DB_DIR/deadlock.sqlite3, "
    "else ./data/deadlock.sqlite3); sqlite:///path works too"
)
ANY_DB_HELP = "a postgresql://user@host/database URL (also taken from $DATABASE_URL) or a " + DB_HELP


class OneLineParser(argparse.ArgumentParser):
    """A wrong command line is one line on stderr and exit code 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (`{self.prog} --help` shows the usage)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="deadlock-bot", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages (and tracebacks of errors)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (token from $DISCORD_TOKEN)", epilog=EPILOG)
    run.add_argument("--db", help=ANY_DB_HELP)
    run.add_argument(
        "--no-auto-upgrade", action="store_true", help="refuse to start on an old schema instead of upgrading it"
    )
    _db_commands(sub.add_parser("db", help="database operations", epilog=EPILOG))
    cmds = sub.add_parser("commands", help="the slash commands", epilog=EPILOG).add_subparsers(
        dest="commands_command", required=True, metavar="COMMANDS_COMMAND"
    )
    sync = cmds.add_parser("sync", help="register the slash commands with Discord (token from $DISCORD_TOKEN)")
    sync.add_argument("--guild", type=int, metavar="ID", help="only in this guild (appears at once; for testing)")
    sync.add_argument("--db", help=ANY_DB_HELP)

    ratings = sub.add_parser("ratings", help="the team balancer's ratings").add_subparsers(
        dest="ratings_command", required=True, metavar="RATINGS_COMMAND"
    )
    rebuild = ratings.add_parser("rebuild", help="replay every recorded match result and store the ratings again")
    rebuild.add_argument("--db", help=ANY_DB_HELP)

    bench = sub.add_parser("bench", help="measure the data layer: latency, concurrency, loop stalls, memory")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (what CI runs)")
    bench.add_argument("--soak", type=float, default=0.0, metavar="SECONDS", help="then run the join load this long")

    sql = sub.add_parser("sql", help="the typed SQL toolchain").add_subparsers(
        dest="sql_command", required=True, metavar="SQL_COMMAND"
    )
    sql.add_parser("generate", help="write bot/db/queries.py from sql/ and schema.sql")
    sql.add_parser("check", help="fail on a stale bot/db/queries.py, an invalid query or a broken lint rule")
    return p


def _db_commands(parser: argparse.ArgumentParser) -> None:
    db = parser.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    up = db.add_parser("upgrade", help="create or upgrade the database, re-create missing tables (backup first)")
    up.add_argument("--db", help=ANY_DB_HELP)
    up.add_argument("--no-backup", action="store_true", help="skip the backup before upgrading")
    ck = db.add_parser("check", help="integrity, foreign keys, schema version and drift from schema.sql")
    ck.add_argument("--db", help=DB_HELP)
    bk = db.add_parser("backup", help="online backup with SQLite's backup API")
    bk.add_argument("--db", help=DB_HELP)
    bk.add_argument("--to", help="backup file (default: <name>.backup-<UTC time>.sqlite3 next to it)")
    st = db.add_parser("stats", help="row counts, file and WAL size, schema version, query metrics")
    st.add_argument("--db", help=DB_HELP)

    ex = db.add_parser("export", help="write every table of the schema to a JSON file")
    ex.add_argument("--db", help=ANY_DB_HELP)
    ex.add_argument("--json", required=True, metavar="FILE", help="the JSON file to write (must not exist)")
    ex.add_argument("--force", action="store_true", help="replace an existing FILE (never the database itself)")
    im = db.add_parser("import", help="load a JSON export into an empty database (creating it if needed)")
    im.add_argument("--db", help=ANY_DB_HELP)
    im.add_argument("--json", required=True, metavar="FILE", help="the JSON file to read")
    im.add_argument("--replace", action="store_true", help="delete the existing rows of the schema's tables first")
    fu = db.add_parser("forget-user", help="remove one person's personal data (steam links, bans, preferences, ...)")
    fu.add_argument("user_id", metavar="USER_ID", help="the person's Discord user id")
    fu.add_argument("--db", help=ANY_DB_HELP)

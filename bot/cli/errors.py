"""Exit codes, and one line for every error that reaches the command line.

0: done. 1: something failed while doing it (a damaged, locked or read-only database, a full
disk, a server that refused: PostgreSQL a password, Discord the token). 2: the command line or
the environment is wrong, found before anything was opened or contacted (a bad argument, a
setting of the wrong form, a database URL this bot does not read, no DISCORD_TOKEN).
130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
from collections.abc import Iterable

from bot.config import ConfigError
from bot.db.errors import DatabaseError
from bot.db.preflight import explain_sqlite_error
from bot.db.urls import url_password

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Secrets shorter than this are not scrubbed from output (they would mangle ordinary words).
MIN_SECRET = 3


class CliError(Exception):
    """An error whose message is all the user needs (printed without a traceback)."""

    code = EXIT_FAILURE


class UsageError(CliError):
    """The command line or a setting is wrong (exit code 2)."""

    code = EXIT_USAGE


class _Context:
    """What the command works on, for messages of errors that do not name it."""

    target: str = "the database"


CONTEXT = _Context()


def explain(e: BaseException) -> tuple[int, str]:
    """(exit code, one line) for an error."""
    if isinstance(e, CliError):
        return e.code, str(e)
    if isinstance(e, ConfigError):
        return EXIT_USAGE, str(e)
    if isinstance(e, DatabaseError):
        return EXIT_FAILURE, str(e)
    if isinstance(e, sqlite3.Error):
        return EXIT_FAILURE, str(explain_sqlite_error(e, CONTEXT.target))
    if isinstance(e, OSError):
        return EXIT_FAILURE, _os_error(e)
    name = type(e).__name__
    if type(e).__module__.startswith("asyncpg"):
        return EXIT_FAILURE, f"PostgreSQL refused at {CONTEXT.target}: {e} ({name})"
    return EXIT_FAILURE, f"unexpected {name}: {e} (run with -v to see where it happened)"


def _os_error(e: OSError) -> str:
    where = f" {e.filename}" if e.filename else f" (working on {CONTEXT.target})"
    if e.errno == errno.ENOSPC:
        return f"no space left on the disk:{where}; free some space and try again"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied:{where}"
    if e.errno == errno.EROFS:
        return f"read-only file system:{where}"
    if e.errno == errno.EISDIR:
        return f"{(e.filename or 'the target')} is a folder, not a file"
    return f"{e.strerror or e}:{where}"


class Secrets:
    """Values never to be printed or logged: database passwords and the Discord token."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | None) -> None:
        if value and len(value) >= MIN_SECRET:
            self._values.add(value)

    def add_urls(self, urls: Iterable[str | None]) -> None:
        for url in urls:
            if url and "://" in url:
                self.add(url_password(url))

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        # a URL's password the list does not know (e.g. from a server's own message)
        return re.sub(r"(postgres(?:ql)?(?:\+asyncpg)?://[^/:@\s]*:)[^@\s/]+@", r"\1***@", text)


SECRETS = Secrets()


class ScrubbingFormatter(logging.Formatter):
    """Log lines (and their tracebacks) with every known secret replaced by ***."""

    def format(self, record: logging.LogRecord) -> str:
        return SECRETS.scrub(super().format(record))

"""One bot process per SQLite file.

Two bots on one file would both act on every event (two lanes deleted twice, two anchors,
two replies): several processes share a PostgreSQL database instead, where claims, leases and
advisory locks coordinate them. `deadlock-bot run` takes an exclusive lock on
`<file>.lock` next to the database; the operating system drops it when the process ends,
even after a crash, so a restart never finds a stale lock. Maintenance commands (backup,
stats, export) do not take it: they work next to a running bot.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from bot.db.errors import DatabaseLocationError


class AlreadyRunningError(Exception):
    """Another bot process runs on the same SQLite file."""


def lock_path_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class InstanceLock:
    """The process lock of one SQLite file. `acquire()` and `release()` are quick,
    non-blocking system calls (callers on the event loop run them in a thread)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path_of(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Hold the lock, or raise AlreadyRunningError at once."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise DatabaseLocationError(
                f"cannot create the lock file {self.path} next to the database: {e.strerror}"
            ) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunningError(
                f"another deadlock-bot process ({holder}) is running on {self.db_path}; stop it first "
                "(several processes can share a PostgreSQL database, not an SQLite file)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"host {socket.gethostname()}, pid {os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

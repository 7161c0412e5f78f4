"""One bot process per SQLite file.

Two bots on one file would both act on every event (two lanes deleted twice, two anchors,
two replies): several processes share a PostgreSQL database instead, where claims, leases and
advisory locks coordinate them. `deadlock-bot run` takes an exclusive lock on
`<file>.lock` next to the file the path resolves to (a symlink leads to the same lock), and
on the database file itself (a hard link is the same file under another name). The
operating system drops both when the process ends, even after a crash, so a restart never
finds a stale lock; a clean release removes the `.lock` file. Maintenance commands (backup,
stats, export) do not take it: they work next to a running bot.

The lock on the database file is a BSD `flock`, which SQLite's own POSIX record locks do
not see on a local file system (and a WAL database cannot live on a network one anyway).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path

from bot.db.errors import DatabaseLocationError


class AlreadyRunningError(Exception):
    """Another bot process runs on the same SQLite file."""


def lock_path_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _message(shown: Path, holder: str) -> str:
    return (
        f"another deadlock-bot process ({holder}) is running on {shown}; stop it first "
        "(several processes can share a PostgreSQL database, not an SQLite file)"
    )


class InstanceLock:
    """The process lock of one SQLite file. `acquire()` and `release()` are quick,
    non-blocking system calls (callers on the event loop run them in a thread)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path_of(db_path.resolve())
        self._fd: int | None = None
        self._file_fd: int | None = None

    def acquire(self) -> None:
        """Hold the lock, or raise AlreadyRunningError at once."""
        while self._fd is None:
            fd = self._open_lock_file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise AlreadyRunningError(_message(self.db_path, holder)) from None
            if self._still_linked(fd):
                self._fd = fd
            else:  # the previous holder removed the file between our open and our flock
                os.close(fd)
        try:
            self._write_holder()
            self.lock_database_file()
        except BaseException:
            self.release()
            raise

    def _open_lock_file(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise DatabaseLocationError(
                f"cannot create the lock file {self.path} next to the database: {e.strerror}"
            ) from e

    def _still_linked(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _write_holder(self) -> None:
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, 0)
            os.write(self._fd, f"host {socket.gethostname()}, pid {os.getpid()}\n".encode())
        except OSError as e:
            raise DatabaseLocationError(f"cannot write the lock file {self.path}: {e.strerror}") from e

    def lock_database_file(self) -> None:
        """Lock the database file itself once it exists (idempotent): catches a second bot
        that reaches the same file through a hard link."""
        if self._file_fd is not None:
            return
        try:
            fd = os.open(self.db_path, os.O_RDONLY)
        except FileNotFoundError:
            return  # created later by the upgrade; run_bot calls this again then
        except OSError as e:
            raise DatabaseLocationError(f"cannot open the database file {self.db_path}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunningError(_message(self.db_path, "on the same file under another name")) from None
        self._file_fd = fd

    def release(self) -> None:
        if self._file_fd is not None:
            os.close(self._file_fd)
            self._file_fd = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # while still holding it: a waiter re-checks the link
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

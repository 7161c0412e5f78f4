"""The fault suite's machinery: a case is a setup, one real `deadlock-bot` command (a
subprocess, as an admin types it), and what must hold afterwards: the exit code, the line
pattern, the files beside it (none new, the database byte for byte as it was) and no
password or token in anything the command printed.

Setups build their files from templates made once per session: a current database, an old
one (migrations 1..latest-1), a damaged one. Disk-full and read-only cases mount a small
tmpfs (root only); where mounting is refused they are skipped, saying so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.db.sqlite.migrations import latest_version, load_migrations
from bot.resources import SOURCE_ROOT

#: Secrets the cases put into URLs and DISCORD_TOKEN; none may appear in any output.
PASSWORD = "S3cretPW-4711"
TOKEN = "tok-SECRET-0815.abc"
DB = "deadlock.sqlite3"
COMMAND = shutil.which("deadlock-bot") or str(Path(sys.executable).with_name("deadlock-bot"))

#: Variables a case must not inherit from the machine (it sets its own).
_CLEARED = (
    "DATABASE_URL",
    "DEADLOCK_DB_PATH",
    "DEADLOCK_DB_DIR",
    "DEADLOCK_DB_AUTO_UPGRADE",
    "DEADLOCK_DB_BUSY_TIMEOUT_MS",
    "DISCORD_TOKEN",
    "USERPROFILE",
)

Cleanup = Callable[[], None]
Setup = Callable[["Workdir"], "Cleanup | None"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One fault: `args` may use {db}, {dir} (the work folder) and {pw} (the password)."""

    id: str
    args: tuple[str, ...]
    code: int
    pattern: str  # searched in the command's last line (stderr; stdout when `stdout`)
    setup: Setup | None = None
    env: tuple[tuple[str, str], ...] = ()
    unchanged: str | None = DB  # a file that must keep its sha256 (relative to the work folder)
    new_files: tuple[str, ...] = ()  # regexes of files the command may create
    stdout: bool = False
    one_line: bool = True  # stderr is exactly one line (not for `run`, which logs)

    def __post_init__(self) -> None:
        assert isinstance(self.new_files, tuple) and isinstance(self.env, tuple), f"{self.id}: tuples, please"


class Workdir:
    """The case's folder (also its HOME), and the mounts its setup made."""

    def __init__(self, root: Path, templates: Templates) -> None:
        self.root = root
        self.templates = templates
        self.home = root / "home"
        self.home.mkdir()
        self.mounts: list[Path] = []

    @property
    def db(self) -> Path:
        return self.root / DB

    def copy(self, template: Path, to: Path | None = None) -> Path:
        target = to or self.db
        shutil.copy(template, target)
        return target

    def tmpfs(self, name: str, size: str) -> Path:
        where = self.root / name
        where.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}: disk-full/read-only case skipped"
            )
        self.mounts.append(where)
        return where

    def read_only(self, where: Path) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, capture_output=True)

    def unmount_all(self) -> None:
        for where in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


# -- templates --------------------------------------------------------------------------


def _build(path: Path, versions: int) -> None:
    conn = sqlite3.connect(path)
    for mig in load_migrations()[:versions]:
        conn.executescript(f"BEGIN;\n{mig.sql}\n;PRAGMA user_version = {mig.version};\nCOMMIT;")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


@dataclasses.dataclass(frozen=True)
class Templates:
    current: Path
    old: Path
    corrupt: Path
    filled: Path  # current, ~1 MB of rows (for disk-full cases)


def make_templates(folder: Path) -> Templates:
    current, old, corrupt, filled = (folder / n for n in ("current.db", "old.db", "corrupt.db", "filled.db"))
    _build(current, latest_version())
    _build(old, latest_version() - 1)
    for target in (corrupt, filled):
        shutil.copy(current, target)
        conn = sqlite3.connect(target)
        conn.executemany("INSERT INTO kv_store VALUES ('n', ?, ?)", [(f"k{i}", "v" * 200) for i in range(3000)])
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    with corrupt.open("r+b") as f:  # a b-tree page of kv_store with its header wiped
        f.seek(4096 * 120)
        f.write(b"\x00" * 12)
    return Templates(current, old, corrupt, filled)


# -- running a case ---------------------------------------------------------------------


def _files(root: Path) -> set[str]:
    """Every file and folder below `root` (folders end in /)."""
    return {str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in root.rglob("*")}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def environment(work: Workdir, case: Case) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["HOME"] = str(work.home)
    env["PYTHONPATH"] = str(SOURCE_ROOT)  # for setups that run tests.stub_gateway
    for key, value in case.env:
        env[key] = value.format(dir=work.root, pw=PASSWORD, db=work.db)
    return env


def run_case(case: Case, work: Workdir) -> None:
    cleanup = case.setup(work) if case.setup else None
    try:
        _check(case, work)
    finally:
        if cleanup:
            cleanup()
        work.unmount_all()


def _check(case: Case, work: Workdir) -> None:
    before = _files(work.root)
    watched = work.root / case.unchanged if case.unchanged else None
    digest = _digest(watched) if watched and watched.exists() else None
    args = [a.format(db=work.db, dir=work.root, pw=PASSWORD) for a in case.args]
    done = subprocess.run(
        [COMMAND, *args], cwd=work.root, env=environment(work, case), capture_output=True, text=True, timeout=120
    )
    said = f"$ deadlock-bot {' '.join(args)}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    assert done.returncode == case.code, said
    for secret in (PASSWORD, TOKEN):
        assert secret not in done.stdout + done.stderr, said
    assert "Traceback" not in done.stderr, said
    if case.stdout:  # a report: the pattern anywhere in it
        assert re.search(case.pattern, done.stdout), said
    else:  # an error: one line (the last, after `run`'s log lines), the pattern in it
        lines = done.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("error: ") and re.search(case.pattern, lines[-1]), said
        assert len(lines) == 1 or not case.one_line, said
    new = _files(work.root) - before
    unexpected = {f for f in new if not any(re.fullmatch(p, f) for p in case.new_files)}
    assert not unexpected, f"new files {sorted(unexpected)}\n{said}"
    assert before - _files(work.root) == set(), f"files vanished\n{said}"
    if digest is not None:
        assert watched is not None and _digest(watched) == digest, f"{case.unchanged} changed\n{said}"


_HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def write_lock(path: Path) -> Cleanup:
    """Another program holding the database's write lock (as the presence service does while
    it writes). A process of its own: POSIX locks belong to a process, and this one reads the
    file (its sha256) which would drop a lock it held itself."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"

    def release() -> None:
        proc.communicate("", timeout=30)

    return release


def start_bot(db: Path, env: dict[str, str]) -> Cleanup:
    """A bot running on `db` (the real program with Discord's login stubbed); stops on cleanup."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.stub_gateway", "run", "--db", str(db)],
        cwd=SOURCE_ROOT,
        env={**env, "DISCORD_TOKEN": "stub-token"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the bot is up (or gone)
    if line.strip() != "stub gateway: connected":
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the first bot did not start: {err}")

    def stop() -> None:
        proc.terminate()
        proc.communicate(timeout=30)

    return stop

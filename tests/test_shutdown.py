"""`deadlock-bot run` against a stubbed gateway: SIGTERM/SIGINT shut it down cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.db.sqlite.migrations import latest_version
from bot.resources import SOURCE_ROOT
from tests.pg_support import needs_postgres, pg_schema_url


@pytest.fixture(autouse=True)
def _no_stray_process() -> Iterator[None]:
    yield
    for proc in _started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _started.clear()


_started: list[subprocess.Popen[str]] = []


def _start(db: Path | str | None, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`deadlock-bot run` on a stubbed gateway; `db` None: no --db (DATABASE_URL or the default)."""
    where = [] if db is None else ["--db", str(db)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.stub_gateway", "run", *where, *args],
        cwd=SOURCE_ROOT,
        env={**os.environ, "DISCORD_TOKEN": "stub-token", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _started.append(proc)
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(tmp_path: Path, sig: signal.Signals, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "deadlock.sqlite3"
    proc = _start(db)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "stub gateway: connected", proc.stderr.read() if proc.stderr else ""
    conn = sqlite3.connect(db)  # the bot upgraded the file and is running on it
    assert conn.execute("PRAGMA user_version").fetchone() == (latest_version(),)
    conn.close()

    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "shutting down" in err and "timer service stopped" in err
    assert err.count(f"database {db} closed") == 1  # closed exactly once
    assert "Traceback" not in err
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed at close
    capsys.readouterr()
    assert main(["db", "check", "--db", str(db)]) == 0
    assert "result: OK" in capsys.readouterr().out


def test_refuses_old_schema_when_auto_upgrade_is_off(tmp_path: Path) -> None:
    db = tmp_path / "deadlock.sqlite3"
    sqlite3.connect(db).close()  # an empty file at version 0
    proc = _start(db, env={"DEADLOCK_DB_AUTO_UPGRADE": "0"})
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"schema version 0, this bot needs {latest_version()}; automatic upgrades are off" in err
    assert "Traceback" not in err and "connected" not in out
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone() == (0,)


def test_refuses_newer_schema_at_start(tmp_path: Path) -> None:
    db = tmp_path / "deadlock.sqlite3"
    conn = sqlite3.connect(db)
    newer = latest_version() + 1
    conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    proc = _start(db)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"schema version {newer}" in err and "newer deadlock-bot" in err and "Traceback" not in err


def test_a_second_bot_on_the_same_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "deadlock.sqlite3"
    first = _start(db)
    assert first.stdout is not None and first.stdout.readline().strip() == "stub gateway: connected"
    second = _start(db)
    out, err = second.communicate(timeout=30)
    assert second.returncode == 1 and "connected" not in out
    assert f"another deadlock-bot process (host {socket.gethostname()}, pid {first.pid}) is running on {db}" in err
    assert "Traceback" not in err
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    again = _start(db)  # the lock went with the process
    assert again.stdout is not None and again.stdout.readline().strip() == "stub gateway: connected"
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=30) == 0


def test_an_unreachable_postgres_is_reported_before_discord(tmp_path: Path) -> None:
    proc = _start(None, env={"DATABASE_URL": "postgresql://bot:pw@127.0.0.1:1/deadlock"})
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "connected" not in out  # Discord was never contacted
    assert "cannot connect to PostgreSQL at postgresql://bot:***@127.0.0.1:1/deadlock" in err
    assert "Traceback" not in err and "pw@" not in err


@needs_postgres
@pytest.mark.parametrize("how", ["--db", "DATABASE_URL"])
def test_run_on_postgres(how: str) -> None:
    with pg_schema_url() as url:
        proc = _start(url) if how == "--db" else _start(None, env={"DATABASE_URL": url})
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "stub gateway: connected", proc.stderr.read() if proc.stderr else ""

        async def version() -> int:
            from bot.db.postgres.engine import PgDatabase

            async with PgDatabase(url) as pg:
                return await pg.user_version()

        assert asyncio.run(version()) == latest_version()  # migrated at start
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert err.count("closed; query metrics") == 1 and "Traceback" not in err  # closed once, completely


def test_a_database_path_that_cannot_be_created_is_one_clear_line() -> None:
    proc = _start(Path("/proc/deadlock-bot/deadlock.sqlite3"))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "connected" not in out
    assert "cannot create the lock file /proc/deadlock-bot/deadlock.sqlite3.lock" in err and "Traceback" not in err

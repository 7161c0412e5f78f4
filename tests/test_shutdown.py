"""`deadlock-bot run` against a stubbed gateway: SIGTERM/SIGINT shut it down cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.cli.main import main
from bot.db.migrations import latest_version


@pytest.fixture(autouse=True)
def _no_stray_process() -> Iterator[None]:
    yield
    for proc in _started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _started.clear()


_started: list[subprocess.Popen[str]] = []


def _start(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.stub_gateway", "run", "--db", str(db), *args],
        cwd=PROJECT_ROOT,
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
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    proc = _start(db)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "schema version 7" in err and "newer deadlock-bot" in err and "Traceback" not in err

"""SIGKILL in the middle of transactions, 20 times: the file stays intact and nothing is half-applied."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.resources import SOURCE_ROOT
from tests.crash_child import ROWS


def test_kill_9_twenty_times(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    rng = random.Random(20)
    committed: set[int] = set()
    for _round in range(20):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", str(db)],
            cwd=SOURCE_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert child.stdout is not None
        try:
            assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
            for _ in range(rng.randint(1, 4)):  # let a few transactions commit
                committed.add(int(child.stdout.readline()))
            time.sleep(rng.uniform(0, 0.02))  # then kill it somewhere inside the next ones
        finally:
            child.send_signal(signal.SIGKILL)
            out, _ = child.communicate(timeout=30)
        committed.update(int(line) for line in out.split() if line.isdigit())

        conn = sqlite3.connect(db)  # what the next start of the bot would see
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        counts = dict(conn.execute("SELECT ns, COUNT(*) FROM kv_store WHERE ns LIKE 'crash-%' GROUP BY ns").fetchall())
        assert all(n == ROWS for n in counts.values()), counts  # no transaction half-applied
        present = {int(ns.removeprefix("crash-")) for ns in counts}
        assert committed <= present  # every transaction reported as committed is there
        (last,) = conn.execute("SELECT v FROM kv_store WHERE ns = 'crash' AND k = 'last'").fetchone()
        assert int(last) == max(present)
        conn.close()
    print(f"\ncrash safety: 20 SIGKILLs, {len(committed)} committed transactions, all complete, integrity ok")

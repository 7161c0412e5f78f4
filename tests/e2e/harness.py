"""The real `deadlock-bot run` process against the local Discord API: started with the
README's feature configuration and `child/sitecustomize.py` first on its PYTHONPATH, its log
kept in a file, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.e2e.server import TOKEN, LocalDiscord

CHILD_DIR = Path(__file__).parent / "child"
REPO = Path(__file__).resolve().parents[2]
#: discord.py waits this long after the last GUILD_CREATE before `ready` (its default is 2 s;
#: the local API sends them all at once). A test needing the window before ready sets
#: bot.env["DEADLOCK_E2E_GUILD_READY_TIMEOUT"] = DISCORD_GUILD_READY_TIMEOUT.
GUILD_READY_TIMEOUT = "0.3"
DISCORD_GUILD_READY_TIMEOUT = "2.0"
ERROR_LINE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ", re.MULTILINE)


def _coverage_env(tmp: Path) -> dict[str, str]:
    """Under coverage (pytest --cov), the child writes its own data file next to ours."""
    try:
        import coverage
    except ImportError:
        return {}
    current = coverage.Coverage.current()
    if current is None:
        return {}
    data_file = Path(str(current.get_option("run:data_file"))).resolve()
    rc = tmp / "child-coveragerc"
    rc.write_text(f"[run]\nparallel = True\nsource = bot\ndata_file = {data_file}\n")
    return {"COVERAGE_PROCESS_START": str(rc)}


class BotProcess:
    def __init__(self, server: LocalDiscord, db: Path, log: Path, env: Mapping[str, str]) -> None:
        self.server = server
        self.db = db
        self.log_path = log
        self.env = dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    def child_env(self) -> dict[str, str]:
        """The environment of a bot process: the README's feature settings, the local API."""
        feature_vars = ("TEMPVOICE_", "RANKVOICE_", "BALANCER_", "VOICE_STATUS_", "COACHING_", "DATABASE_URL")
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(feature_vars)},
            **_coverage_env(self.db.parent),
            "PYTHONPATH": os.pathsep.join([str(CHILD_DIR), str(REPO)]),
            "DEADLOCK_E2E_API": self.server.api_base,
            "DEADLOCK_E2E_GATEWAY": self.server.gateway_url,
            "DISCORD_TOKEN": TOKEN,
            "DEADLOCK_E2E_GUILD_READY_TIMEOUT": GUILD_READY_TIMEOUT,
            **self.env,
        }

    async def cli(self, *args: str) -> tuple[int, str, str]:
        """Run `deadlock-bot ARGS` against the local API; exit code, stdout, stderr."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", *args, env=self.child_env(), cwd=str(self.db.parent),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def start(self) -> None:
        """Start the bot and wait until the gateway sent it READY and the guild."""
        identifies = self.server.gateway.identifies
        env = self.child_env()
        self.starts += 1
        with self.log_path.open("a") as log:
            log.write(f"==== start {self.starts}\n")
            log.flush()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli.main",
                *(["-v"] if os.environ.get("E2E_VERBOSE") else []),
                "run",
                "--db",
                str(self.db),
                stdout=log,
                stderr=log,
                env=env,
                cwd=str(self.db.parent),
            )
        await self.until_log("connected to Gateway", why="the bot's gateway connection", max_wait=30)
        await self.server.until(lambda: self.server.gateway.identifies > identifies, why="IDENTIFY")

    async def ready(self) -> None:
        """Wait until discord.py dispatched `ready` in this start (the bot logs it)."""
        await self.until_log("ready as ", this_start=True, max_wait=15, why="discord.py's ready")

    async def quiet(self, seconds: float = 0.4, max_wait: float = 15.0) -> None:
        """Wait until `seconds` passed without a REST call of the bot or a gateway event to it
        (what an event started has had time to finish)."""

        def idle() -> bool:
            last = max(self.server.rest.last_activity, self.server.gateway.last_dispatch)
            return time.monotonic() - last >= seconds

        await self.server.until(idle, max_wait, "the bot to go quiet")

    async def stop(self, sig: signal.Signals = signal.SIGTERM, max_wait: float = 20.0, *, settle: bool = True) -> int:
        """Send `sig` (after the bot went quiet, unless `settle` is False) and return the exit code."""
        assert self.proc is not None
        if settle and self.proc.returncode is None:
            await self.quiet()
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), max_wait)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    @property
    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    async def until_log(
        self, text: str, *, count: int = 1, max_wait: float = 10.0, why: str = "", this_start: bool = False
    ) -> None:
        """Wait until `text` is `count` times in the log (of this start only, with `this_start`)."""

        def seen() -> bool:
            log = self.log.rpartition(f"==== start {self.starts}\n")[2] if this_start else self.log
            if log.count(text) >= count:
                return True
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(
                    f"the bot exited ({self.proc.returncode}) before {why or text}:\n{self.log[-3000:]}"
                )
            return False

        await self.server.until(seen, max_wait, why or f"{text!r} in the log")

    def assert_clean_log(self) -> None:
        """No traceback, no ERROR/CRITICAL line."""
        log = self.log
        assert "Traceback" not in log, log[-6000:]
        assert not ERROR_LINE.search(log), ERROR_LINE.findall(log)

    async def until_row(self, sql: str, *params: Any, value: Any, max_wait: float = 10.0) -> None:
        """Wait until the first column of the first row of `sql` equals `value`."""

        def first() -> Any:
            rows = self.rows(sql, *params)
            return rows[0][0] if rows else None

        await self.server.until(lambda: first() == value, max_wait, f"{sql} {params} = {value!r} (is {first()!r})")

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the bot's database file (read-only, beside the running bot: WAL)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

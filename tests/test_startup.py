"""`deadlock-bot run`'s start-up order and the README's commands (the fault suite covers the
refusals): a token Discord rejects is exit code 1 with one line, after the database was fully
migrated; no voice-library warnings; CI runs the README's test command verbatim."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import discord
import pytest

from bot.cli.main import main
from bot.db.sqlite.migrations import latest_version
from bot.resources import SOURCE_ROOT


def test_rejected_token_is_a_failure_after_the_database_is_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def reject(self: object, token: str) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", reject)
    monkeypatch.setenv("DISCORD_TOKEN", "rejected-token-123")
    db = tmp_path / "deadlock.sqlite3"
    with caplog.at_level(logging.INFO):
        assert main(["run", "--db", str(db)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert re.match(r"error: Discord rejected the token in DISCORD_TOKEN \(Improper token", err[-1])
    assert "rejected-token-123" not in "\n".join(err) + caplog.text
    # the database was opened and fully migrated before the login; the lock is gone with the process
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deadlock.sqlite3"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone() == (latest_version(),)
    conn.close()
    assert "PyNaCl" not in caplog.text and "davey" not in caplog.text  # the bot plays no audio


def _bash_block_after(heading: str) -> str:
    readme = (SOURCE_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(heading, 1)[1]
    return section.split("```bash\n", 1)[1].split("\n```", 1)[0].strip()


def test_readme_commands_make_a_virtualenv_and_ci_runs_the_test_command_verbatim() -> None:
    run = _bash_block_after("## Run the bot (fresh machine)")
    test = _bash_block_after("## Run all checks and tests (fresh machine)")
    for command in (run, test):
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e ")
    ci = (SOURCE_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci  # the same line, character for character

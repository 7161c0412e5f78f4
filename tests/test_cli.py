"""The deadlock-bot command line: database commands and clear errors on bad input."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import auto_upgrade, busy_timeout_ms, command_prefix, resolve_db_path
from bot.db.sqlite.migrations import latest_version
from tests.pg_support import needs_postgres, pg_schema_url


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_db_path_resolution() -> None:
    assert resolve_db_path("x.db", {"DEADLOCK_DB_PATH": "/a/b.db"}) == Path("x.db")
    assert resolve_db_path(None, {"DEADLOCK_DB_PATH": "/a/b.db", "DEADLOCK_DB_DIR": "/c"}) == Path("/a/b.db")
    assert resolve_db_path(None, {"DEADLOCK_DB_DIR": "/c"}) == Path("/c/deadlock.sqlite3")
    assert resolve_db_path(None, {}) == Path("data/deadlock.sqlite3")
    assert busy_timeout_ms({}) == 15_000
    assert busy_timeout_ms({"DEADLOCK_DB_BUSY_TIMEOUT_MS": "500"}) == 500
    with pytest.raises(ValueError, match="milliseconds"):
        busy_timeout_ms({"DEADLOCK_DB_BUSY_TIMEOUT_MS": "soon"})
    with pytest.raises(ValueError, match="negative"):
        busy_timeout_ms({"DEADLOCK_DB_BUSY_TIMEOUT_MS": "-1"})
    assert auto_upgrade(False, {}) is True
    assert auto_upgrade(True, {}) is False
    assert auto_upgrade(False, {"DEADLOCK_DB_AUTO_UPGRADE": "off"}) is False
    with pytest.raises(ValueError, match="DEADLOCK_DB_AUTO_UPGRADE"):
        auto_upgrade(False, {"DEADLOCK_DB_AUTO_UPGRADE": "maybe"})
    assert command_prefix({}) == "!" and command_prefix({"COMMAND_PREFIX": "?"}) == "?"


def test_upgrade_check_backup_stats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "nested" / "deadlock.sqlite3"
    monkeypatch.setenv("DEADLOCK_DB_PATH", str(db))  # the old bot's variable still works
    assert main(["db", "upgrade"]) == 0
    assert f"schema version 0 -> {latest_version()}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert main(["db", "check", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "integrity_check: ok" in out and "drift from schema.sql: none" in out and "result: OK" in out

    target = tmp_path / "copy.sqlite3"
    assert main(["db", "backup", "--db", str(db), "--to", str(target)]) == 0
    assert "written to" in capsys.readouterr().out
    assert sqlite3.connect(target).execute("PRAGMA user_version").fetchone() == (latest_version(),)
    assert main(["db", "backup", "--db", str(db), "--to", str(target)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["db", "backup", "--db", str(db)]) == 0
    assert ".backup-" in capsys.readouterr().out

    assert main(["db", "stats", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "tempvoice_lanes" in out and f"schema version: {latest_version()}" in out and "WAL size" in out


def test_check_reports_drift_and_foreign_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "d.sqlite3"
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    conn.executescript("DROP INDEX idx_timers_event_due; CREATE TABLE steam_tasks (id INTEGER PRIMARY KEY);")
    conn.close()
    capsys.readouterr()
    assert main(["db", "check", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "index idx_timers_event_due is missing" in out
    assert "tables of other programs (left alone): steam_tasks" in out
    assert "PROBLEMS FOUND" in out


def test_missing_database_for_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "check", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()


def test_unwritable_folder(capsys: pytest.CaptureFixture[str]) -> None:
    # /proc refuses new folders even for root
    assert main(["db", "upgrade", "--db", "/proc/deadlock-missing/deadlock.sqlite3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the folder /proc/deadlock-missing")
    assert "Traceback" not in err


def test_not_a_database_file_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_text("these are my notes, not a database\n" * 100)
    before = _digest(bogus)
    for cmd in (["db", "upgrade"], ["db", "check"], ["db", "stats"], ["db", "backup"]):
        assert main([*cmd, "--db", str(bogus)]) == 1
        err = capsys.readouterr().err
        assert "is not an SQLite database" in err and "Traceback" not in err
    assert _digest(bogus) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]


def test_newer_schema_version_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newer = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(newer)
    conn.executescript("CREATE TABLE t (x INTEGER); PRAGMA user_version = 42;")
    conn.close()
    before = _digest(newer)
    assert main(["db", "upgrade", "--db", str(newer)]) == 1
    err = capsys.readouterr().err
    assert "schema version 42" in err and "newer deadlock-bot" in err
    assert _digest(newer) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.sqlite3"]  # no backup, no WAL


def test_run_without_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: DISCORD_TOKEN is not set: export the bot's token as DISCORD_TOKEN and start again"]


def test_bad_busy_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEADLOCK_DB_BUSY_TIMEOUT_MS", "later")
    assert main(["db", "upgrade", "--db", str(tmp_path / "x.sqlite3")]) == 2  # a setting: exit code 2
    assert "DEADLOCK_DB_BUSY_TIMEOUT_MS" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_postgres_url_without_a_server_is_a_clear_error_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://bot:s3cret@127.0.0.1:1/deadlock"  # nothing listens on port 1
    assert main(["db", "upgrade", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL at postgresql://bot:***@127.0.0.1:1/deadlock" in err
    assert "s3cret" not in err and "Traceback" not in err
    assert main(["db", "check", "--db", url]) == 2  # the command line asks for what cannot be: usage
    assert "works on the SQLite file" in capsys.readouterr().err


def test_redact_url() -> None:
    from bot.db.postgres.engine import redact_url

    assert redact_url("postgresql://u:p@h:5432/db?x=1") == "postgresql://u:***@h:5432/db?x=1"
    assert redact_url("postgresql://h/db") == "postgresql://h/db"


@needs_postgres
def test_upgrade_on_postgres_and_a_newer_schema_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from bot.db.sqlite.migrations import latest_version

    with pg_schema_url() as url:
        assert main(["db", "upgrade", "--db", url]) == 0
        out = capsys.readouterr().out
        assert f"schema version {latest_version()}, applied 0001_initial.sql" in out
        assert main(["db", "upgrade", "--db", url]) == 0
        assert "nothing to do" in capsys.readouterr().out

        async def pretend_newer() -> None:
            from bot.db.postgres.engine import PgDatabase

            async with PgDatabase(url) as pg, pg.transaction() as conn:
                await conn.execute("INSERT INTO deadlock_schema_version (version) VALUES (99)")

        asyncio.run(pretend_newer())
        assert main(["db", "upgrade", "--db", url]) == 1
        err = capsys.readouterr().err
        assert "version 99, newer than this bot's" in err and "nothing was changed" in err


def test_database_targets_in_every_form_people_write() -> None:
    from bot.config import ConfigError, parse_target, resolve_target

    assert parse_target("postgres://u:pw@h/db", "--db") == "postgresql://u:pw@h/db"
    assert parse_target("postgresql+asyncpg://u@h:5433/db", "--db") == "postgresql://u@h:5433/db"
    assert parse_target("postgresql:///db?host=/run/postgresql", "--db") == "postgresql:///db?host=/run/postgresql"
    assert parse_target("sqlite:///rel/x.sqlite3", "--db") == Path("rel/x.sqlite3")
    assert parse_target("sqlite:////abs/x.sqlite3", "--db") == Path("/abs/x.sqlite3")
    assert parse_target("C:/bot/x.sqlite3", "--db") == Path("C:/bot/x.sqlite3")  # a drive letter, not a scheme
    for bad, says in [
        ("postgresql://h:0/db", "port"),
        ("postgresql://u:pw@h", "names no database"),
        ("sqlite:///", "not an SQLite URL"),
        ("sqlite:///x.db?mode=ro", "not an SQLite URL"),
        ("redis://h/0", "redis:// is not a database"),
    ]:
        with pytest.raises(ConfigError, match=says):
            parse_target(bad, "--db")
    env = {"DATABASE_URL": "postgres://h/db", "DEADLOCK_DB_PATH": "/x.db"}
    assert resolve_target(None, env) == "postgresql://h/db"  # DATABASE_URL before the path variables
    assert resolve_target("y.db", env) == Path("y.db")  # --db before everything


def test_passwords_are_hidden_in_every_place_a_url_carries_them() -> None:
    from bot.cli.errors import Secrets
    from bot.db.urls import redact_url, url_password

    assert redact_url("postgres://h/db?sslmode=require&password=pw1") == "postgres://h/db?sslmode=require&password=***"
    assert redact_url("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert url_password("postgresql://u:p%40ss@h/db") == "p@ss"
    assert url_password("postgresql://h/db?password=pw2") == "pw2"
    assert url_password("postgresql://h/db") is None
    secrets = Secrets()
    secrets.add_urls(["postgresql://u:hunter22@h/db", None, "plain/path.db"])
    secrets.add("ab")  # too short to scrub without mangling words
    assert secrets.scrub("login hunter22 failed; ab") == "login *** failed; ab"
    assert secrets.scrub("at postgresql://bot:other@h/db") == "at postgresql://bot:***@h/db"

"""`deadlock-bot ratings rebuild`, and db export/import and forget-user with results and ratings."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.db import SqliteDatabase
from bot.db.sqlite.migrations import latest_version, upgrade
from bot.features.balancer.results import Outcome, ResultService
from bot.features.balancer.service import MatchReport
from tests.helpers import make_deps
from tests.pg_support import needs_postgres, pg_schema_url
from tests.test_balancer_service import GUILD, add_players, build


async def rated_database(path: Path, matches: int = 3) -> list[int]:
    """A database with `matches` rated matches of six players; returns the players."""
    async with SqliteDatabase(path, max_schema_version=latest_version()) as db:
        await upgrade(db, backup=False)
        w = build(db)
        players = add_players(w, 6, w.lobby)
        results = ResultService(make_deps(db, w.world, w.clock), w.service.is_host)
        for i in range(matches):
            report = await w.service.start(GUILD, w.host, players)
            assert isinstance(report, MatchReport)
            await results.record(GUILD, w.host, report.match_id, [Outcome.AMBER, Outcome.SAPPHIRE][i % 2])
    return players


def ratings_rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT user_id, mu, sigma, games, wins FROM balancer_ratings ORDER BY user_id").fetchall()
    finally:
        conn.close()


def test_rebuild_restores_tampered_ratings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bot.sqlite3"
    asyncio.run(rated_database(path))
    stored = ratings_rows(path)
    assert main(["ratings", "rebuild", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"guild {GUILD}: 3 rated matches replayed, 6 players, 0 changed" in out
    assert ratings_rows(path) == stored

    conn = sqlite3.connect(path)
    conn.execute("UPDATE balancer_ratings SET mu = 0 WHERE user_id = (SELECT MIN(user_id) FROM balancer_ratings)")
    conn.commit()
    conn.close()
    assert main(["ratings", "rebuild", "--db", str(path)]) == 0
    assert "1 changed" in capsys.readouterr().out
    assert ratings_rows(path) == stored


def test_rebuild_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ratings", "rebuild", "--db", str(tmp_path / "missing.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no database at") and err.count("\n") == 1
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).close()  # an empty file at schema version 0
    assert main(["ratings", "rebuild", "--db", str(old)]) == 1
    err = capsys.readouterr().err
    assert "deadlock-bot db upgrade" in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["ratings"]) == 2  # a wrong command line
    assert capsys.readouterr().err.count("\n") == 1


def test_export_import_carries_results_and_ratings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.sqlite3"
    asyncio.run(rated_database(source))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["db", "export", "--db", str(source), "--json", str(first)]) == 0
    data = json.loads(first.read_text())
    assert len(data["tables"]["balancer_ratings"]["rows"]) == 6
    assert len(data["tables"]["balancer_results"]["rows"]) == 3
    assert len(data["tables"]["balancer_rating_changes"]["rows"]) == 18
    target = tmp_path / "target.sqlite3"
    assert main(["db", "import", "--db", str(target), "--json", str(first)]) == 0
    assert main(["db", "export", "--db", str(target), "--json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert ratings_rows(target) == ratings_rows(source)
    capsys.readouterr()
    assert main(["ratings", "rebuild", "--db", str(target)]) == 0
    assert "0 changed" in capsys.readouterr().out


@needs_postgres
def test_ratings_move_to_postgres_and_rebuild_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.sqlite3"
    asyncio.run(rated_database(source))
    exported, from_pg = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["db", "export", "--db", str(source), "--json", str(exported)]) == 0
    with pg_schema_url() as url:
        assert main(["db", "import", "--db", url, "--json", str(exported)]) == 0
        capsys.readouterr()
        assert main(["ratings", "rebuild", "--db", url]) == 0
        assert "0 changed" in capsys.readouterr().out  # the same floating-point results on PostgreSQL
        assert main(["db", "export", "--db", url, "--json", str(from_pg)]) == 0
    before = json.loads(exported.read_text())["tables"]
    after = json.loads(from_pg.read_text())["tables"]
    for table in ("balancer_results", "balancer_rating_changes"):
        assert after[table] == before[table]
    strip = [r[:-1] for r in before["balancer_ratings"]["rows"]]  # updated_at is the rebuild's time
    assert [r[:-1] for r in after["balancer_ratings"]["rows"]] == strip


def test_forget_user_leaves_an_anonymous_slot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bot.sqlite3"
    players = asyncio.run(rated_database(path, matches=2))
    assert main(["db", "forget-user", str(players[0]), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "match slots made anonymous" in out and "balancer ratings" in out
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM balancer_ratings WHERE user_id = ?", (players[0],)).fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM balancer_match_players WHERE user_id < 0").fetchone() == (2,)
        assert conn.execute("SELECT COUNT(*) FROM balancer_rating_changes WHERE user_id < 0").fetchone() == (2,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()

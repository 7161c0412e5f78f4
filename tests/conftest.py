"""Fixtures: every test gets a fresh, migrated SQLite file in its own temp folder."""

from __future__ import annotations

import os

# Generated rows check their non-null fields in tests: a wrong nullability inference fails here.
os.environ["BOT_DB_STRICT_ROWS"] = "1"

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database, SqliteDatabase
from bot.db.sqlite.migrations import latest_version, upgrade
from tests.bot_harness import Harness, open_harness
from tests.e2e import figures as e2e_figures
from tests.fakes.discord_world import EVENT_DELIVERIES
from tests.pg_support import REACHABLE, SKIP_REASON, fresh_pg_database, needs_postgres
from tests.tempvoice_env import Env, build_env
from tests.tempvoice_owner_env import OwnerEnv, with_owner_actions


def pytest_sessionfinish(session: pytest.Session) -> None:
    e2e_figures.hand_over(session)


def pytest_testnodedown(node: Any, error: object) -> None:
    e2e_figures.take_over(node)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    e2e_figures.summary(terminalreporter)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (skipped where none is reachable)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not REACHABLE and item.get_closest_marker("postgres") is not None:
        pytest.skip(SKIP_REASON)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(db_path, max_schema_version=latest_version())
    await database.open()
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=needs_postgres)])
async def any_db(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Database]:
    """The data layer on each engine: a migrated SQLite file, then a fresh PostgreSQL schema
    (skipped, and reported as skipped, when no server is reachable). Tests that take it run
    their typed queries and transactions unchanged on both."""
    if request.param == "sqlite":
        database = SqliteDatabase(db_path, max_schema_version=latest_version())
        await database.open()
        await upgrade(database)
        try:
            yield database
        finally:
            await database.close()
        return
    async for pg in fresh_pg_database():
        assert isinstance(pg, Database)
        yield pg


@pytest.fixture(params=EVENT_DELIVERIES)
async def tempvoice_env(any_db: Database, request: pytest.FixtureRequest) -> Env:
    """TempVoice on each engine; the voice event of each move the bot makes comes before,
    after (lagging) or never."""
    return build_env(any_db, event_delivery=request.param)


@pytest.fixture
async def owner_env(any_db: Database) -> OwnerEnv:
    """TempVoice with the owner actions (panel, lists, presets), on each engine."""
    return with_owner_actions(build_env(any_db))


@pytest.fixture
async def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """A real DeadlockBot with every feature on, driven by gateway payloads (tests/bot_harness.py)."""
    async with open_harness(tmp_path, monkeypatch) as h:
        yield h

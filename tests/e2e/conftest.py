"""Fixtures of the end-to-end suite: the local Discord API with the README's guild, and the
real bot process against it (stopped with SIGTERM; its log must stay clean)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import BotProcess
from tests.e2e.scene import Scene, build_scene
from tests.e2e.server import LocalDiscord


@pytest.fixture
def scene() -> Scene:
    return build_scene()


#: What the suite's local Discord API received, for the summary line (and the README's figure).
CHECKED = {"REST calls": 0, "gateway events": 0, "interactions": 0}


@pytest.fixture
async def discord_api(scene: Scene) -> AsyncIterator[LocalDiscord]:
    server = LocalDiscord(scene.world)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        CHECKED["REST calls"] += len(server.calls)
        CHECKED["gateway events"] += server.gateway.total_sent
        CHECKED["interactions"] += len(server.interactions.all)


@pytest.fixture
async def bot(discord_api: LocalDiscord, scene: Scene, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot, not yet started (`await bot.start()`); killed if a test leaves it running."""
    process = BotProcess(discord_api, tmp_path / "deadlock.sqlite3", tmp_path / "bot.log", scene.env())
    try:
        yield process
    finally:
        await process.kill()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: the real bot process against the local Discord API (runs in CI)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist a worker hands its figures to the controller (pytest_testnodedown)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["e2e_checked"] = dict(CHECKED)


def pytest_testnodedown(node: Any, error: object) -> None:
    for what, n in getattr(node, "workeroutput", {}).get("e2e_checked", {}).items():
        CHECKED[what] += n


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CHECKED["REST calls"]:
        figures = ", ".join(f"{n} {what}" for what, n in CHECKED.items())
        terminalreporter.write_line(f"e2e: the local Discord API recorded {figures}")

"""Fixtures of the end-to-end suite: the local Discord API with the README's guild, and the
real bot process against it (stopped with SIGTERM; its log must stay clean)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.figures import CHECKED
from tests.e2e.harness import BotProcess
from tests.e2e.scene import Scene, build_scene
from tests.e2e.server import LocalDiscord


@pytest.fixture
def scene() -> Scene:
    return build_scene()


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

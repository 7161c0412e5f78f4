"""Panel actions whose work takes longer than Discord's 3 seconds: the bot defers the
interaction after 1.5 seconds and answers with a follow-up. The local API injects the delay:
a slow database (the bot process's statements on one table) or slow Discord (a held route)."""

from __future__ import annotations

import re
import time

import pytest

from bot.features.tempvoice.texts import LaneOwner, TempVoice
from tests.e2e.harness import BotProcess
from tests.e2e.interactions import DEFERRED_ANSWER, Pending
from tests.e2e.invariants import assert_invariants, lane_of
from tests.e2e.rest import Hold
from tests.e2e.rules import INTERACTION_DEADLINE
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord

SLOW = 3.5  # longer than Discord's deadline


async def _lane_panel(api: LocalDiscord, scene: Scene, owner: int) -> int:
    await api.join(owner, scene.staging)
    await api.until(lambda: lane_of(api, owner), why="a lane")
    lane = lane_of(api, owner)

    def panels() -> list[int]:
        return [m for m in api.bot_messages_with("tv_lock") if api.world.messages[m]["channel_id"] == str(lane)]

    await api.until(panels, why="its panel")
    return panels()[0]


def _answered_late_but_in_time(p: Pending, text: str, took: float) -> None:
    assert p.answers == [DEFERRED_ANSWER], p.answers  # deferred: one answer, within the deadline
    assert p.late == 0
    assert p.texts() == [text]  # the follow-up carries the result
    assert took >= SLOW


@pytest.mark.parametrize(
    ("slow_statement", "button", "text", "with_select"),
    [
        ("INSERT INTO tempvoice_owner_prefs", "tv_region_de", TempVoice.REGION_DE, False),
        # a list button: the follow-up carries the member select
        ("SELECT trusted_id FROM tempvoice_trusted", "tv_trust", LaneOwner.TRUSTED_NONE, True),
    ],
    ids=["a setting", "a list with its select"],
)
async def test_a_slow_database_is_answered_with_a_follow_up(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, slow_statement: str, button: str, text: str,
    with_select: bool,
) -> None:  # fmt: skip
    api = discord_api
    bot.env["DEADLOCK_E2E_DB_SLOW"] = f"{SLOW} {slow_statement}"
    await bot.start()
    owner = scene.members[0]
    panel = await _lane_panel(api, scene, owner)
    start = time.monotonic()
    p = await api.interactions.answered(await api.click(owner, panel, button), max_wait=15)
    _answered_late_but_in_time(p, text, time.monotonic() - start)
    assert bool(p.replies[0].get("components")) is with_select
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_slow_discord_is_answered_with_a_follow_up(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api = discord_api
    await bot.start()
    owner = scene.members[0]
    panel = await _lane_panel(api, scene, owner)
    # the lock's first overwrite is slow (the others are not: the answer is late either way)
    api.rest.holds.append(Hold("PUT", re.compile(r"^/channels/\d+/permissions/\d+$"), SLOW, once=True))
    start = time.monotonic()
    p = await api.interactions.answered(await api.click(owner, panel, "tv_lock"), max_wait=15)
    _answered_late_but_in_time(p, LaneOwner.LOCKED, time.monotonic() - start)
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_fast_work_is_answered_directly(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api = discord_api
    await bot.start()
    owner = scene.members[0]
    panel = await _lane_panel(api, scene, owner)
    p = await api.interactions.answered(await api.click(owner, panel, "tv_region_de"))
    assert p.answers == [4] and p.texts() == [TempVoice.REGION_DE]  # no defer when the work was quick
    assert INTERACTION_DEADLINE == 3.0
    assert await bot.stop() == 0
    assert_invariants(api, bot)

"""The balancer's buttons after a restart of the bot process: the host's selection (picks made
before the restart kept), the preview, and the result buttons of a running match."""

from __future__ import annotations

import pytest

from bot.features.balancer.texts import Balancer, Results
from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.rules import Order
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json


def _buttons(message: Json) -> dict[str, str]:
    return {c.get("label") or "": c["custom_id"] for row in message.get("components") or [] for c in row["components"]}


def _with_components(api: LocalDiscord, scene: Scene, after: int) -> list[Json]:
    return [m for m in api.replies_in(scene.commands, after=after) if m.get("components")]


@pytest.mark.parametrize("order", [Order.BEFORE, Order.LATE])
async def test_the_selection_and_the_preview_work_after_a_restart(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, order: Order
) -> None:
    api, w = discord_api, discord_api.world
    api.rest.order = order  # the events of the bot's own changes before or lagging its responses
    players = [scene.admin, *scene.add_members(13, rank=4, prefix="lobby")]  # 14: the host picks
    await bot.start()
    for uid in players:
        await api.join(uid, scene.lobby)
    last = max(w.messages, default=0)
    await api.say(scene.admin, scene.commands, "!balance start")
    await api.until(lambda: _with_components(api, scene, last), why="the selection")
    selection = _with_components(api, scene, last)[0]
    assert selection["content"] == Balancer.SELECT_TITLE
    picks = [c["custom_id"] for row in selection["components"] for c in row["components"]][:5]
    assert all(p.startswith("bal:sel:1:p:") for p in picks)
    for custom_id in picks:
        await api.interactions.answered(await api.click(scene.admin, int(selection["id"]), custom_id), replies=0)
    assert Balancer.SELECT_START.format(count=5) in _buttons(selection)  # the clicked message was updated
    last = max(w.messages, default=0)
    await api.say(players[1], scene.commands, "!balance auto")
    await api.until(lambda: _with_components(api, scene, last), why="the preview")
    preview = _with_components(api, scene, last)[0]
    teams_before = [f["value"] for f in preview["embeds"][0]["fields"][:2]]
    assert await bot.stop() == 0

    await bot.start()  # a new process: nothing of the panels is in its memory
    await bot.ready()
    refused = await api.interactions.answered(await api.click(players[3], int(selection["id"]), picks[0]))
    assert refused.texts() == [Balancer.SELECT_ONLY_HOST]
    more = [c["custom_id"] for row in selection["components"] for c in row["components"]][5:12]
    for custom_id in more:
        await api.interactions.answered(await api.click(scene.admin, int(selection["id"]), custom_id), replies=0)
    buttons = _buttons(selection)
    start = buttons[Balancer.SELECT_START.format(count=12)]  # five from before the restart, seven after
    rerolled = await api.interactions.answered(
        await api.click(players[1], int(preview["id"]), "bal:prev:2:reroll"), replies=0
    )
    assert rerolled.answers == [7]
    assert [f["value"] for f in preview["embeds"][0]["fields"][:2]] != teams_before

    started = await api.interactions.answered(await api.click(scene.admin, int(selection["id"]), start))
    assert started.texts() and Balancer.STARTED.format(id="001", moved=12) in " ".join(started.texts())
    chosen = {int(c.rsplit(":", 1)[1]) for c in picks + more}
    await bot.until_row("SELECT count(*) FROM balancer_match_players WHERE match_id = 1", value=12)
    assert {r[0] for r in bot.rows("SELECT user_id FROM balancer_match_players WHERE match_id = 1")} == chosen
    assert selection["components"] == []  # the used selection loses its buttons (a second start: cog tests)
    assert bot.rows("SELECT count(*) FROM balancer_matches") == [(1,)]
    assert await bot.stop() == 0
    assert_invariants(api, bot)


@pytest.mark.parametrize("order", [Order.BEFORE, Order.LATE])
async def test_the_result_buttons_work_after_a_restart(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, order: Order
) -> None:
    api = discord_api
    api.rest.order = order
    players = [scene.admin, *scene.add_members(3, rank=4, prefix="lobby")]
    await bot.start()
    for uid in players:
        await api.join(uid, scene.lobby)
    await api.say(scene.admin, scene.commands, "!balance start")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="active")
    await api.until(lambda: api.bot_messages_with("bal:result:1:sapphire"), why="the match message")
    message = api.bot_messages_with("bal:result:1:sapphire")[0]
    assert await bot.stop() == 0

    await bot.start()
    await bot.ready()
    recorded = await api.interactions.answered(await api.click(scene.admin, message, "bal:result:1:sapphire"))
    assert recorded.texts() == [Results.RECORDED_RATED.format(id="001", outcome=Results.OUTCOME["sapphire"], count=4)]
    assert bot.rows("SELECT outcome FROM balancer_results WHERE match_id = 1") == [("sapphire",)]
    assert bot.rows("SELECT count(*) FROM balancer_ratings") == [(4,)]
    assert await bot.stop() == 0
    assert_invariants(api, bot)

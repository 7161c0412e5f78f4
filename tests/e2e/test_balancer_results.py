"""Results end to end: the winner recorded through the match message's buttons, a host's
correction with its confirmation, and the ratings, leaderboard, stats and history afterwards."""

from __future__ import annotations

import pytest

from bot.features.balancer.texts import Results
from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.rules import Order
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json


def _texts(messages: list[Json]) -> str:
    out = []
    for m in messages:
        out.append(str(m.get("content") or ""))
        for e in m.get("embeds") or []:
            out += [str(e.get("title") or ""), str(e.get("description") or "")]
            out += [f"{f.get('name')} {f.get('value')}" for f in e.get("fields") or []]
    return "\n".join(out)


def _buttons(message: Json) -> dict[str, str]:
    return {c.get("label") or "": c["custom_id"] for row in message.get("components") or [] for c in row["components"]}


async def _match(api: LocalDiscord, bot: BotProcess, scene: Scene, count: int) -> tuple[list[int], int]:
    """A running match 1 of `count` players; its message (with the result buttons)."""
    players = [scene.admin, *scene.add_members(count - 1, rank=4, prefix="lobby")]
    for uid in players:
        await api.join(uid, scene.lobby)
    await api.say(scene.admin, scene.commands, "!balance start")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="active")
    await api.until(lambda: api.bot_messages_with("bal:result:1:amber"), why="the match message")
    return players, api.bot_messages_with("bal:result:1:amber")[0]


def _team(bot: BotProcess, team: str) -> set[int]:
    return {r[0] for r in bot.rows("SELECT user_id FROM balancer_match_players WHERE match_id = 1 AND team = ?", team)}


def _moved(bot: BotProcess) -> dict[int, bool]:
    """Each rated player of match 1: did their mu go up?"""
    rows = bot.rows("SELECT user_id, mu_before, mu_after FROM balancer_rating_changes WHERE match_id = 1")
    return {user: after > before for user, before, after in rows}


@pytest.mark.parametrize("order", [Order.BEFORE, Order.AFTER, Order.LATE])
async def test_a_result_through_the_match_message_a_correction_and_the_rankings(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, order: Order
) -> None:
    """The gateway events of the bot's own changes come before, after or lagging its responses."""
    api, w = discord_api, discord_api.world
    api.rest.order = order
    bot.env["BALANCER_RATED_GAMES"] = "1"  # one rated match is enough for the leaderboard
    await bot.start()
    players, message = await _match(api, bot, scene, 6)
    footer = w.messages[message]["embeds"][0]["footer"]["text"]
    assert footer == Results.RESULT_FOOTER.format(prefix="!", id="001")
    amber, sapphire = _team(bot, "amber"), _team(bot, "sapphire")
    assert len(amber) == len(sapphire) == 3

    stranger = next(p for p in players if p != scene.admin)
    refused = await api.interactions.answered(await api.click(stranger, message, "bal:result:1:amber"))
    assert refused.texts() == [Results.NO_PERMISSION]
    assert bot.rows("SELECT count(*) FROM balancer_results") == [(0,)]

    recorded = await api.interactions.answered(await api.click(scene.admin, message, "bal:result:1:amber"))
    assert recorded.texts() == [Results.RECORDED_RATED.format(id="001", outcome=Results.OUTCOME["amber"], count=6)]
    assert bot.rows("SELECT outcome FROM balancer_results WHERE match_id = 1") == [("amber",)]
    assert bot.rows("SELECT winner FROM balancer_matches WHERE match_id = 1") == [("amber",)]
    ratings = {r[0]: r[1:] for r in bot.rows("SELECT user_id, mu, games, wins FROM balancer_ratings")}
    assert set(ratings) == amber | sapphire and all(games == 1 for _, games, _ in ratings.values())
    assert _moved(bot) == {p: p in amber for p in amber | sapphire}  # winners up, losers down
    assert {p for p, (_, _, wins) in ratings.items() if wins} == amber

    # a second result is a correction: the host confirms it, every rating is recomputed
    again = await api.interactions.answered(await api.click(scene.admin, message, "bal:result:1:sapphire"))
    assert again.texts() == [
        Results.ALREADY.format(id="001", outcome=Results.OUTCOME["amber"], new=Results.OUTCOME["sapphire"])
    ]
    confirm = _buttons(again.replies[0])[Results.CONFIRM]
    corrected = await api.interactions.answered(
        await api.click(scene.admin, int(again.replies[0]["id"]), confirm), replies=0
    )
    assert corrected.answers == [7] and corrected.message is not None  # the question is replaced by the answer
    assert corrected.message["content"] == Results.CORRECTED.format(id="001", outcome=Results.OUTCOME["sapphire"])
    assert corrected.message["components"] == []
    await bot.until_row("SELECT outcome FROM balancer_results WHERE match_id = 1", value="sapphire")
    after = {r[0]: r[1:] for r in bot.rows("SELECT user_id, mu, games, wins FROM balancer_ratings")}
    assert {p for p, (_, _, wins) in after.items() if wins} == sapphire
    assert _moved(bot) == {p: p in sapphire for p in amber | sapphire}
    assert bot.rows("SELECT count(*) FROM balancer_rating_changes WHERE match_id = 1") == [(6,)]

    # the leaderboard, a player's stats and the history show it
    last = max(w.messages, default=0)
    await api.say(stranger, scene.commands, "!balance top")
    await api.say(stranger, scene.commands, f"!balance stats <@{next(iter(sapphire))}>")
    await api.say(stranger, scene.commands, "!balance history")
    await api.until(lambda: len(api.replies_in(scene.commands, after=last)) >= 3, why="three answers")
    shown = _texts(api.replies_in(scene.commands, after=last))
    assert Results.TOP_TITLE.format(min=1) in shown and "**1.**" in shown and "**6.**" in shown
    assert Results.STATS_WINS_VALUE.format(wins=1, rate="100%") in shown
    assert Results.OUTCOME["sapphire"] in shown and Results.GUILD_HISTORY_TITLE in shown

    await api.say(scene.admin, scene.commands, "!balance end 1 skip")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="ended")
    assert bot.rows("SELECT winner FROM balancer_matches WHERE match_id = 1") == [("sapphire",)]
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_an_aborted_match_changes_no_rating(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api = discord_api
    await bot.start()
    _, message = await _match(api, bot, scene, 4)
    aborted = await api.interactions.answered(await api.click(scene.admin, message, "bal:result:1:aborted"))
    assert aborted.texts() == [Results.RECORDED.format(id="001", outcome=Results.OUTCOME["aborted"])]
    assert bot.rows("SELECT count(*) FROM balancer_ratings") == [(0,)]
    assert bot.rows("SELECT winner FROM balancer_matches WHERE match_id = 1") == [(None,)]
    assert await bot.stop() == 0
    assert_invariants(api, bot)

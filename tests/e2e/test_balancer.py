"""The balancer end to end: preview (prefix and slash), start, selection, end with debrief."""

from __future__ import annotations

from bot.features.balancer.texts import Balancer
from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.rules import Order
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json

CREATE = r"/guilds/\d+/channels"


def _embed_titles(messages: list[Json]) -> list[str]:
    return [str(e.get("title")) for m in messages for e in m.get("embeds") or []]


async def _fill_lobby(api: LocalDiscord, scene: Scene, count: int) -> list[int]:
    players = [scene.admin, *scene.add_members(count - 1, rank=4, prefix="lobby")]
    return players


async def test_preview_start_and_end_with_debrief(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    players = await _fill_lobby(api, scene, 10)
    await bot.start()
    for uid in players:
        await api.join(uid, scene.lobby)

    last = max(w.messages, default=0)
    await api.say(players[3], scene.commands, "!balance auto")
    await api.until(lambda: _embed_titles(api.replies_in(scene.commands, after=last)), why="the preview")
    assert _embed_titles(api.replies_in(scene.commands, after=last)) == ["Vorschau"]
    slash = await api.interactions.answered(
        await api.interactions.slash(
            players[4], scene.commands, "balance", [{"type": 1, "name": "auto", "options": []}]
        )
    )
    assert "Vorschau" in " ".join(slash.texts())
    assert api.calls_to("POST", CREATE) == []  # a preview creates nothing

    await api.say(scene.admin, scene.commands, "!balance start")
    await api.until(lambda: len([u for u in players if w.voice.get(u) != scene.lobby]) == 10, why="everyone moved")
    teams = [c for c in api.calls_to("POST", CREATE)]
    assert len(teams) == 2 and all(int(c.body["parent_id"]) == scene.match_cat for c in teams)
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="active")
    assert bot.rows("SELECT count(*) FROM balancer_match_players WHERE match_id = 1") == [(10,)]
    team_channels = {int(c["id"]) for c in w.children(scene.match_cat)}
    assert {w.voice[u] for u in players} == team_channels

    await api.say(scene.admin, scene.commands, "!balance end 1")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="debrief")
    await api.until(
        lambda: (
            all(int(c["id"]) not in team_channels for c in w.children(scene.match_cat))
            and len(w.children(scene.match_cat)) == 1
        ),
        why="only the debrief left",
    )
    debrief = int(w.children(scene.match_cat)[0]["id"])
    await api.until(lambda: all(w.voice.get(u) == debrief for u in players), why="everyone in the debrief")
    for uid in players:
        await api.join(uid, None)
    await api.until(lambda: debrief not in w.channels, why="the empty debrief deleted")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="ended")
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_more_than_twelve_open_a_selection_for_the_host(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api, w = discord_api, discord_api.world
    players = await _fill_lobby(api, scene, 14)
    await bot.start()
    for uid in players:
        await api.join(uid, scene.lobby)
    last = max(w.messages, default=0)
    await api.say(scene.admin, scene.commands, "!balance start")
    await api.until(
        lambda: [m for m in api.replies_in(scene.commands, after=last) if m.get("components")], why="the selection"
    )
    selection = next(m for m in api.replies_in(scene.commands, after=last) if m.get("components"))
    buttons = {c["label"]: c["custom_id"] for row in selection["components"] for c in row["components"]}
    random_id = buttons[Balancer.SELECT_RANDOM]
    start_id = buttons[Balancer.SELECT_START.format(count=0)]

    refused = await api.interactions.answered(await api.click(players[5], int(selection["id"]), random_id))
    assert refused.texts() and api.calls_to("POST", CREATE) == []  # only the host may use it
    await api.interactions.answered(await api.click(scene.admin, int(selection["id"]), random_id), replies=0)
    started = await api.interactions.answered(await api.click(scene.admin, int(selection["id"]), start_id))
    assert started.texts()
    await bot.until_row("SELECT count(*) FROM balancer_match_players WHERE match_id = 1 AND team != 'bench'", value=12)
    assert len([u for u in players if w.voice.get(u) == scene.lobby]) == 2
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_end_with_debrief_when_events_come_late(discord_api: LocalDiscord, bot: BotProcess,
                                                      scene: Scene) -> None:  # fmt: skip
    """The moves into the debrief are answered 50 ms before their VOICE_STATE_UPDATEs: the
    debrief stays and the match is in 'debrief' (issue 13's case)."""
    api, w = discord_api, discord_api.world
    players = await _fill_lobby(api, scene, 4)
    await bot.start()
    for uid in players:
        await api.join(uid, scene.lobby)
    await api.say(scene.admin, scene.commands, "!balance start")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="active")
    await api.until(lambda: all(w.voice[u] != scene.lobby for u in players), why="the teams moved")
    api.rest.order = Order.LATE
    await api.say(scene.admin, scene.commands, "!balance end 1")
    await api.until(lambda: api.calls_to("DELETE", r"/channels/\d+"), why="the team channels deleted")
    await bot.quiet()
    assert bot.rows("SELECT state FROM balancer_matches WHERE match_id = 1") == [("debrief",)]
    assert len(w.children(scene.match_cat)) == 1 and all(w.voice.get(u) for u in players)
    assert await bot.stop() == 0
    assert_invariants(api, bot)

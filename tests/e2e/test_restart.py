"""A restart with lanes, an anchor and a match alive: everything recognised, nothing
duplicated, names clean, the panel posted before the restart still answered."""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants, lane_of
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord

CREATE = r"/guilds/\d+/channels"


async def _lane(api: LocalDiscord, scene: Scene, owner: int) -> tuple[int, int]:
    await api.join(owner, scene.staging)
    await api.until(lambda: lane_of(api, owner), why="a lane")
    lane = lane_of(api, owner)
    assert lane is not None

    def panels() -> list[int]:
        return [m for m in api.bot_messages_with("tv_limit_btn") if api.world.messages[m]["channel_id"] == str(lane)]

    await api.until(panels, why="its panel")
    return lane, panels()[0]


async def _alive_before_restart(api: LocalDiscord, bot: BotProcess, scene: Scene) -> dict[str, int]:
    w = api.world
    owner, guest, solo, anchor = scene.members[10], scene.members[3], scene.members[5], scene.members[4]
    await bot.start()
    kept, panel = await _lane(api, scene, owner)
    await api.join(guest, kept)
    await api.interactions.answered(await api.click(owner, panel, "tv_minrank", values=["ascendant"]))
    await api.until(lambda: w.channel_name(kept) == "Lane 1 • ab Ascendant", why="the min-rank name")
    emptied, _ = await _lane(api, scene, solo)
    await api.join(anchor, scene.rank_channels[0])
    await api.until(lambda: w.channel_name(scene.rank_channels[0]) == "Ranked 1 • Ritualist +/-1", why="anchor")
    players = [scene.admin, *scene.members[6:9]]
    for uid in players:
        await api.join(uid, scene.lobby)
    await api.say(scene.admin, scene.commands, "!balance start")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="active")
    await api.until(lambda: all(w.voice[u] != scene.lobby for u in players), why="the teams moved")
    assert await bot.stop() == 0
    return {"kept": kept, "panel": panel, "emptied": emptied, "owner": owner, "guest": guest, "solo": solo}


async def test_restart_recognises_everything(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    alive = await _alive_before_restart(api, bot, scene)
    names_before = {cid: w.channel_name(cid) for cid in (alive["kept"], scene.rank_channels[0])}
    w.voice.pop(alive["solo"])  # left while the bot was down
    calls_before = len(api.calls)

    await bot.start()
    await bot.ready()
    await api.until(lambda: alive["emptied"] not in w.channels, why="the lane emptied while down deleted")
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
    await bot.quiet()
    after = api.calls[calls_before:]
    assert [c for c in after if c.is_("POST", CREATE)] == [], "something was created again"
    assert {cid: w.channel_name(cid) for cid in names_before} == names_before
    assert bot.rows("SELECT count(*) FROM voice_channel_anchors") == [(1,)]

    # the panel posted before the restart still works
    opened = await api.interactions.answered(await api.click(alive["owner"], alive["panel"], "tv_limit_btn"), replies=0)
    await api.interactions.answered(await api.interactions.submit(opened, ["3"]))
    await api.until(lambda: w.channels[alive["kept"]]["user_limit"] == 3, why="the limit through the old panel")
    # the match started before the restart is found and ended
    await api.say(scene.admin, scene.commands, "!balance end 1 skip")
    await bot.until_row("SELECT state FROM balancer_matches WHERE match_id = 1", value="ended")
    # ownership still passes on
    await api.join(alive["owner"], None)
    await bot.until_row("SELECT owner_id FROM tempvoice_lanes", value=alive["guest"])
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_min_rank_name_stays_clean_after_restart(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api, w = discord_api, discord_api.world
    alive = await _alive_before_restart(api, bot, scene)
    await bot.start()
    await bot.ready()
    await api.interactions.answered(await api.click(alive["owner"], alive["panel"], "tv_minrank", values=["phantom"]))
    await bot.until_row("SELECT min_rank FROM tempvoice_lanes WHERE channel_id = ?", alive["kept"], value=9)
    await bot.quiet()
    assert w.channel_name(alive["kept"]) == "Lane 1 • ab Phantom"
    assert await bot.stop() == 0
    assert_invariants(api, bot)

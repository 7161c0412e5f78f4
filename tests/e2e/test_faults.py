"""Faults of Discord's side: rate limits, server errors, gateway closes and invalid sessions."""

from __future__ import annotations

import pytest

from bot.features.tempvoice.texts import TempVoice
from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants, lane_of
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord

CREATE = r"/guilds/\d+/channels"


async def _lane_with_panel(api: LocalDiscord, scene: Scene, member: int) -> tuple[int, int]:
    await api.join(member, scene.staging)
    await api.until(lambda: lane_of(api, member), why="the member's lane")
    lane = lane_of(api, member)
    assert lane is not None

    def panel() -> list[int]:
        return [m for m in api.bot_messages_with("tv_limit_btn") if api.world.messages[m]["channel_id"] == str(lane)]

    await api.until(panel, why="the lane's panel")
    return lane, panel()[0]


async def _set_limit(api: LocalDiscord, member: int, panel: int, value: str) -> list[str]:
    opened = await api.interactions.answered(await api.click(member, panel, "tv_limit_btn"), replies=0)
    done = await api.interactions.answered(await api.interactions.submit(opened, [value]), max_wait=15)
    return done.texts()


async def test_429_with_a_short_retry_after_is_waited_out(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api = discord_api
    await bot.start()
    owner = scene.members[0]
    lane, panel = await _lane_with_panel(api, scene, owner)
    api.rest.faults.add("PATCH", rf"^/channels/{lane}$", 429, retry_after=0.3)
    await _set_limit(api, owner, panel, "4")
    assert api.world.channels[lane]["user_limit"] == 4
    edits = api.calls_to("PATCH", rf"/channels/{lane}")
    assert [c.status for c in edits] == [429, 200]
    assert edits[1].at - edits[0].at >= 0.29
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_429_with_a_long_retry_after_fails_fast_with_an_answer(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """A retry_after beyond the bot's 30 s limit is not slept inside the handler: the member
    gets an answer at once and the limit stays."""
    api = discord_api
    await bot.start()
    owner = scene.members[0]
    lane, panel = await _lane_with_panel(api, scene, owner)
    api.rest.faults.add("PATCH", rf"^/channels/{lane}$", 429, retry_after=420.0)
    answer = await _set_limit(api, owner, panel, "4")
    assert answer and answer[0], "no text in the answer"
    assert api.world.channels[lane]["user_limit"] == 8
    assert [c.status for c in api.calls_to("PATCH", rf"/channels/{lane}")] == [429]
    assert await bot.stop() == 0
    assert_invariants(api, bot)


@pytest.mark.parametrize("failures", [1, 5])
async def test_500_on_create(discord_api: LocalDiscord, bot: BotProcess, scene: Scene, failures: int) -> None:
    """discord.py retries a 500 (after 1, 3, 5, 7 s): once is invisible; five times, the
    member is told the lane could not be created and nothing is left behind."""
    api = discord_api
    await bot.start()
    member = scene.members[0]
    api.rest.faults.add("POST", CREATE, 500, times=failures)
    await api.join(member, scene.staging)
    if failures == 1:
        await api.until(lambda: lane_of(api, member), why="the lane after one 500")
        await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
        assert [c.status for c in api.calls_to("POST", CREATE)] == [500, 201]
    else:
        await api.until(lambda: _dm_texts(api), max_wait=30, why="the member told")
        assert _dm_texts(api) == [TempVoice.CREATE_FAILED]
        assert [c.status for c in api.calls_to("POST", CREATE)] == [500] * 5
        await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=0)
        await bot.until_row("SELECT count(*) FROM tempvoice_creation_claims", value=0)  # and the number it held
    assert await bot.stop() == 0
    assert_invariants(api, bot)


def _dm_texts(api: LocalDiscord) -> list[str]:
    dms = set(api.world.dm_channels.values())
    return [str(m["content"]) for m in api.world.messages.values() if int(m["channel_id"]) in dms]


@pytest.mark.parametrize("how", ["close 4000", "dropped TCP"])
async def test_gateway_loss_resumes_and_replays(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, how: str
) -> None:
    """Events sent while the connection was gone are replayed on RESUME: the join is handled."""
    api = discord_api
    await bot.start()
    if how == "close 4000":
        await api.gateway.close(4000)
    else:
        api.gateway.drop()
    member = scene.members[1]
    await api.join(member, scene.staging)  # while the bot is away
    await api.until(lambda: api.gateway.resumes == 1, why="RESUME")
    await api.until(lambda: lane_of(api, member), why="the lane of the replayed join")
    await api.until(lambda: api.bot_messages_with("tv_limit_btn"), why="its panel")
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members", value=1)
    assert api.gateway.identifies == 1 and api.gateway.replayed >= 1
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_invalid_session_identifies_afresh(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api = discord_api
    await bot.start()
    first, second = scene.members[2], scene.members[3]
    lane, _ = await _lane_with_panel(api, scene, first)
    await api.gateway.invalidate()
    await api.until(lambda: api.gateway.identifies == 2, why="a fresh IDENTIFY")
    await api.join(second, lane)  # the lane is still the bot's after the new session
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=2)
    await api.join(first, None)
    await bot.until_row("SELECT owner_id FROM tempvoice_lanes WHERE channel_id = ?", lane, value=second)
    assert api.gateway.resumes == 0
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_403_on_create_with_dms_closed(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    """Missing permissions on the category: no lane, nothing left behind; the member cannot be
    told (DMs closed), which is noted in the log, not an error."""
    api = discord_api
    await bot.start()
    api.rest.faults.add("POST", CREATE, 403, code=50013)
    api.rest.faults.add("POST", r"^/users/@me/channels$", 403, code=50007)
    member = scene.members[0]
    await api.join(member, scene.staging)
    await bot.until_log(f"could not tell member {member}", why="the closed DMs noted")
    await bot.until_row("SELECT count(*) FROM tempvoice_creation_claims", value=0)
    assert bot.rows("SELECT count(*) FROM tempvoice_lanes") == [(0,)]
    assert [c.status for c in api.calls_to("POST", CREATE)] == [403]
    assert await bot.stop() == 0
    assert_invariants(api, bot)

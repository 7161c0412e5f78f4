"""TempVoice end to end: a lane's whole life through the real bot process and its panel."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.features.tempvoice.texts import TempVoice
from tests.e2e.harness import DISCORD_GUILD_READY_TIMEOUT, BotProcess
from tests.e2e.invariants import assert_invariants, lane_of
from tests.e2e.rest import Hold
from tests.e2e.rules import Order
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord

GUILD_CHANNELS = r"/guilds/\d+/channels"


async def test_a_lanes_whole_life(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    owner, second, third = scene.members[10], scene.members[3], scene.members[4]  # Eternus owns the lane
    await bot.start()

    await api.join(owner, scene.staging)
    await api.until(lambda: lane_of(api, owner), why="the owner in a new lane")
    lane = lane_of(api, owner)
    assert lane is not None
    created = api.calls_to("POST", GUILD_CHANNELS)
    assert [c.body["name"] for c in created] == ["Lane 1"]
    assert int(created[0].body["parent_id"]) == scene.lanes_cat and created[0].body["user_limit"] == 8
    await api.until(
        lambda: [m for m in api.bot_messages_with("tv_limit_btn") if w.messages[m]["channel_id"] == str(lane)],
        why="the lane's own panel",
    )
    panel = next(m for m in api.bot_messages_with("tv_limit_btn") if w.messages[m]["channel_id"] == str(lane))
    await bot.until_row("SELECT owner_id FROM tempvoice_lanes WHERE channel_id = ?", lane, value=owner)

    await api.join(second, lane)
    await api.join(third, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=3)

    # the owner sets a limit through the modal
    opened = await api.interactions.answered(await api.click(owner, panel, "tv_limit_btn"), replies=0)
    await api.interactions.answered(await api.interactions.submit(opened, ["5"]))
    await api.until(lambda: w.channels[lane]["user_limit"] == 5, why="user limit 5")

    # region buttons, a template, a ban (of a member and of an id nobody in the guild has) and an unban
    for custom_id in ("tv_region_de", "tv_region_e", "tv_tpl_trio"):
        await api.interactions.answered(await api.click(owner, panel, custom_id))
    await api.until(lambda: w.channels[lane]["user_limit"] == 3, why="the trio template's limit")
    for custom_id, who in (
        ("tv_ban", f"<@{scene.members[6]}>"),
        ("tv_ban", "<@4242>"),
        ("tv_unban", f"<@{scene.members[6]}>"),
    ):
        modal = await api.interactions.answered(await api.click(owner, panel, custom_id), replies=0)
        await api.interactions.answered(await api.interactions.submit(modal, [who]))
    assert bot.rows("SELECT count(*) FROM tempvoice_bans WHERE banned_id = ?", scene.members[6]) == [(0,)]
    opened = await api.interactions.answered(await api.click(owner, panel, "tv_limit_btn"), replies=0)
    await api.interactions.answered(await api.interactions.submit(opened, ["5"]))
    await api.until(lambda: w.channels[lane]["user_limit"] == 5, why="user limit 5 again")

    # a minimum rank from the select: the name carries it (one rename)
    await api.interactions.answered(await api.click(owner, panel, "tv_minrank", values=["ascendant"]))
    await api.until(lambda: w.channel_name(lane).endswith(" • ab Ascendant"), why="the min-rank rename")
    await bot.until_row("SELECT min_rank FROM tempvoice_lanes WHERE channel_id = ?", lane, value=10)

    # kick the third member through the select the kick button offers
    offer = await api.interactions.answered(await api.click(owner, panel, "tv_kick"))
    kicked = await api.interactions.click(
        owner, int(offer.replies[0]["id"]), _select_id(offer.replies[0]), values=[str(third)]
    )
    await api.interactions.answered(kicked)
    await api.until(lambda: w.voice.get(third) is None, why="the kicked member out of voice")

    # a stranger may not use the panel
    stranger = scene.members[5]
    refused = await api.interactions.answered(await api.click(stranger, panel, "tv_tpl_duo"))
    assert w.channels[lane]["user_limit"] == 5, refused.texts()

    # owner leaves: the second member inherits the lane
    await api.join(owner, None)
    await bot.until_row("SELECT owner_id FROM tempvoice_lanes WHERE channel_id = ?", lane, value=second)

    # last one out: the lane is deleted, its rows with it
    await api.join(second, None)
    await api.until(lambda: lane not in w.channels, why="the empty lane deleted")
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=0)
    assert len(api.calls_to("DELETE", rf"/channels/{lane}")) == 1
    assert await bot.stop() == 0
    assert_invariants(api, bot)


def _select_id(message: dict[str, object]) -> str:
    rows = message["components"]
    assert isinstance(rows, list)
    return str(rows[0]["components"][0]["custom_id"])


async def test_hundred_members_join_staging_at_once(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    """49 lanes fit beside the staging channel, 50 in the overflow category; the 100th member
    is told clearly that everything is full. No name twice, no member with two lanes."""
    api, w = discord_api, discord_api.world
    crowd = scene.add_members(100, rank=5, prefix="andrang")
    await bot.start()
    await bot.ready()  # the startup reconcile races with creations in progress (xfail below)
    for uid in crowd:  # one burst of gateway events, nothing awaited in between on the bot's side
        w.voice[uid] = scene.staging
    await asyncio.gather(*(api.gateway.dispatch("VOICE_STATE_UPDATE", w.voice_state(uid)) for uid in crowd))

    await api.until(lambda: sum(1 for u in crowd if lane_of(api, u)) == 99, max_wait=60, why="99 lanes")
    await api.until(lambda: api.calls_to("POST", r"/channels/\d+/messages") and _dm_texts(api), why="the DM")
    left_over = [u for u in crowd if lane_of(api, u) is None]
    assert len(left_over) == 1 and w.voice[left_over[0]] == scene.staging
    assert _dm_texts(api) == [TempVoice.CATEGORY_FULL]
    lanes = [lane_of(api, u) for u in crowd if lane_of(api, u)]
    assert len(set(lanes)) == 99, "a member shares a lane"
    assert len(w.children(scene.lanes_cat)) == 50 and len(w.children(scene.overflow_cat)) == 50
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=99)
    await api.until(lambda: len(api.bot_messages_with("tv_limit_btn")) == 99, why="99 lane panels")
    assert len(api.calls_to("POST", GUILD_CHANNELS)) == 99  # never a channel too many, none deleted again
    assert api.calls_to("DELETE", r"/channels/\d+") == []
    assert await bot.stop() == 0
    assert_invariants(api, bot)


def _dm_texts(api: LocalDiscord) -> list[str]:
    dms = set(api.world.dm_channels.values())
    return [str(m["content"]) for m in api.world.messages.values() if int(m["channel_id"]) in dms]


@pytest.mark.parametrize(
    "order",
    [Order.BEFORE, Order.AFTER, Order.LATE],
)
async def test_lane_survives_any_event_order(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, order: Order
) -> None:
    """The VOICE_STATE_UPDATE of the move into the new lane arrives before, 2 ms after or
    50 ms after the HTTP response of the move: the lane stays, its creator in it."""
    api, w = discord_api, discord_api.world
    await bot.start()
    api.rest.order = order
    member = scene.members[0]
    await api.join(member, scene.staging)
    await api.until(
        lambda: api.bot_messages_with("tv_limit_btn") or api.calls_to("DELETE", r"/channels/\d+"),
        why="the lane's panel, or the lane deleted",
    )
    await api.rest.settled()
    assert api.calls_to("DELETE", r"/channels/\d+") == [], "the new lane was deleted again"
    lane = lane_of(api, member)
    assert lane is not None and lane in w.channels
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_startup_reconcile_spares_a_lane_being_created(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api = discord_api
    member = scene.members[0]
    api.rest.holds.append(Hold("PATCH", re.compile(r"^/guilds/\d+/members/\d+$"), 3.5))
    bot.env["DEADLOCK_E2E_GUILD_READY_TIMEOUT"] = DISCORD_GUILD_READY_TIMEOUT  # room to join before ready
    await bot.start()
    await api.join(member, scene.staging)  # before ready; the move is answered after ready
    await api.until(lambda: api.calls_to("PATCH", r"/guilds/\d+/members/\d+"), max_wait=15, why="the move answered")
    await bot.quiet()
    assert api.calls_to("DELETE", r"/channels/\d+") == [], "the lane was deleted while it was being created"
    assert lane_of(api, member) is not None
    await api.until(lambda: api.bot_messages_with("tv_limit_btn"), why="the lane's panel")
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
    assert await bot.stop() == 0
    assert_invariants(api, bot)

"""Wiring of TempVoice into discord.py: real gateway parsing, real views, the adapter's mapping."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, cast

import discord
import pytest

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.discord_glue.adapter import DiscordPort, from_overwrite, mapped_errors, to_overwrite
from bot.discord_glue.ports import (
    Forbidden,
    LimitReached,
    NotFound,
    Overwrite,
    PortError,
    RateLimited,
    Target,
    TargetKind,
    VoiceMove,
)
from bot.features.tempvoice.cog import CUSTOM_IDS, MainView, TempVoiceCog, panel_embed
from bot.features.tempvoice.service import LaneService
from bot.features.tempvoice.settings import tempvoice_config
from bot.shared.settings import rank_roles
from tests.discord_objects import CATEGORY, GUILD, LANE, ROLE, STAGING, USER, offline_bot, voice_state

# Frozen here on purpose: changing one breaks every panel message already posted.
OLD_BOT_CUSTOM_IDS = [
    "tv_region_de", "tv_region_e", "tv_owner_claim", "tv_limit_btn",
    "tv_kick", "tv_ban", "tv_unban",
    "tv_minrank",
    "tv_tpl_reset", "tv_tpl_duo", "tv_tpl_trio",
]  # fmt: skip


@dataclasses.dataclass
class RecordingService:
    moves: list[VoiceMove] = dataclasses.field(default_factory=list)
    deleted: list[int] = dataclasses.field(default_factory=list)

    async def on_voice_move(self, move: VoiceMove) -> None:
        self.moves.append(move)

    async def on_channel_deleted(self, channel_id: int) -> None:
        self.deleted.append(channel_id)


async def test_gateway_voice_updates_reach_the_service_and_toggles_do_not() -> None:
    bot = await offline_bot()
    service = RecordingService()
    cog = TempVoiceCog(bot, cast(LaneService, service))
    await bot.add_cog(cog)
    try:
        for payload in [
            voice_state(STAGING),
            voice_state(STAGING, self_mute=True),
            voice_state(LANE),
            voice_state(None),
        ]:
            bot._connection.parse_voice_state_update(payload)  # discord.py's own parsing and dispatch
            await asyncio.sleep(0.01)
        assert service.moves == [
            VoiceMove(GUILD, USER, None, STAGING),
            VoiceMove(GUILD, USER, STAGING, LANE),
            VoiceMove(GUILD, USER, LANE, None),
        ]  # the mute toggle is not a move
        bot._connection.parse_channel_delete({"id": str(LANE), "type": 2, "guild_id": str(GUILD)})
        await asyncio.sleep(0.01)
        assert service.deleted == [LANE]
    finally:
        await bot.remove_cog(cog.qualified_name)
        await bot.close()


async def test_panel_keeps_the_old_custom_ids() -> None:
    view = MainView(cast(LaneService, RecordingService()))
    ids = [getattr(item, "custom_id", None) for item in sorted(view.children, key=lambda i: i.row or 0)]
    assert ids == OLD_BOT_CUSTOM_IDS == list(CUSTOM_IDS)
    assert view.is_persistent() and view.timeout is None
    minrank = next(i for i in view.children if isinstance(i, discord.ui.Select))
    assert [o.value for o in minrank.options][:3] == ["unknown", "initiate", "seeker"] and len(minrank.options) == 12
    labels = [getattr(i, "label", None) for i in view.children]
    assert "🎚️ Limit setzen" in labels and "Normale Lane" in labels


def test_panel_embed_texts() -> None:
    assert panel_embed(None, None).title == "TempVoice Interface"
    lane = panel_embed("Lane 3", 42)
    assert lane.title == "TempVoice Interface – Lane 3" and lane.fields[0].value == "Owner: <@42>"
    assert panel_embed("Lane 3", None).fields[0].value == "Owner: Unbekannt"


async def test_adapter_reads_discord_cache() -> None:
    bot = await offline_bot()
    try:
        port = DiscordPort(bot)
        lane = port.channel(LANE)
        assert lane is not None and (lane.name, lane.category_id, lane.user_limit) == ("Lane 1", CATEGORY, 4)
        assert lane.overwrites[Target(TargetKind.ROLE, ROLE)] == Overwrite(deny=frozenset({"connect"}))
        assert lane.overwrites[Target(TargetKind.MEMBER, USER)] == Overwrite(allow=frozenset({"speak"}))
        assert port.channel(123) is None
        bot._connection.parse_voice_state_update(voice_state(LANE))
        assert port.voice_members(LANE) == [USER] and port.voice_channel_of(GUILD, USER) == LANE
        member = port.member(GUILD, USER)
        assert member is not None and member.role_ids[-1] == ROLE and "alice" in member.names
        assert sorted(r.name for r in port.roles(GUILD)) == ["@everyone", "Archon"]
        assert port.channels_in_category(CATEGORY) == 2 and port.channels_in_guild(GUILD) == 3
        assert port.bitrate_limit(GUILD) == 96_000 and port.everyone_role_id(GUILD) == GUILD
        assert port.category_overwrites(CATEGORY) == {} and port.member(GUILD, 1) is None
        with pytest.raises(PortError, match="no panel view"):
            await port.send_panel(LANE, lane_id=LANE, owner_id=USER)
        assert port.own_member_id(GUILD) == 9999
    finally:
        await bot.close()


async def test_adapter_fetches_a_voice_state_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh GET of the member's voice state, not the cache (which may lag behind the bot's moves)."""
    bot = await offline_bot()
    try:
        port = DiscordPort(bot)
        asked: list[tuple[int, int]] = []

        async def voice_state_of(guild_id: int, member_id: int) -> dict[str, Any]:
            asked.append((guild_id, member_id))
            if member_id == USER:
                return {"channel_id": str(LANE), "user_id": str(USER)}
            raise discord.NotFound(_Response(404), {"code": 10065, "message": "Unknown Voice State"})

        monkeypatch.setattr(bot.http, "get_voice_state", voice_state_of)
        assert port.voice_channel_of(GUILD, USER) is None  # the cache has not seen it
        assert await port.fetch_voice_channel(GUILD, USER) == LANE
        assert await port.fetch_voice_channel(GUILD, 1) is None  # not in voice
        assert asked == [(GUILD, USER), (GUILD, 1)]
    finally:
        await bot.close()


def test_overwrite_conversion_round_trip() -> None:
    ow = discord.PermissionOverwrite(connect=False, speak=True, view_channel=None)
    assert to_overwrite(ow) == Overwrite(frozenset({"speak"}), frozenset({"connect"}))
    assert from_overwrite(to_overwrite(ow)) == ow


@dataclasses.dataclass
class _Response:
    status: int
    reason: str = "x"


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (discord.NotFound(_Response(404), {"code": 10003, "message": "Unknown Channel"}), NotFound),
        (discord.Forbidden(_Response(403), {"code": 50013, "message": "Missing Permissions"}), Forbidden),
        (discord.RateLimited(120.0), RateLimited),
        (
            discord.HTTPException(
                _Response(400), {"code": 30013, "message": "Maximum number of guild channels reached (500)"}
            ),
            LimitReached,
        ),
        (discord.HTTPException(_Response(500), {"code": 0, "message": "oops"}), PortError),
    ],
)
async def test_discord_errors_are_mapped(error: Exception, mapped: type[Exception]) -> None:
    with pytest.raises(mapped):
        async with mapped_errors():
            raise error


def test_tempvoice_config_from_environment() -> None:
    assert tempvoice_config({}) is None
    config = tempvoice_config({
        "TEMPVOICE_STAGING_CHANNEL_IDS": "1, 2",
        "TEMPVOICE_RANKED_CATEGORY_IDS": "3",
        "TEMPVOICE_MINRANK_CATEGORY_IDS": "3;4",
        "TEMPVOICE_OVERFLOW_CATEGORY_IDS": "5,6",
        "TEMPVOICE_ENGLISH_ONLY_ROLE_ID": "7",
        "TEMPVOICE_DEFAULT_CAP": "10",
        "RANK_ROLE_IDS": "11=99,1=98",
    })  # fmt: skip
    assert config is not None
    assert (config.staging_channel_ids, config.minrank_category_ids, config.overflow_category_ids) == (
        frozenset({1, 2}),
        frozenset({3, 4}),
        (5, 6),
    )
    assert (config.english_only_role_id, config.default_cap, config.ranked_cap) == (7, 10, 6)
    assert config.rank_roles.member_rank([(99, "whatever"), (98, "x")]) == 11
    for bad in ({"TEMPVOICE_STAGING_CHANNEL_IDS": "abc"},
                {"TEMPVOICE_STAGING_CHANNEL_IDS": "1", "TEMPVOICE_DEFAULT_CAP": "100"}):  # fmt: skip
        with pytest.raises(ValueError):
            tempvoice_config(bad)
    with pytest.raises(ValueError, match="RANK_ROLE_IDS"):
        rank_roles({"RANK_ROLE_IDS": "12=5"})
    assert rank_roles({}).member_rank([(1, "Oracle"), (2, "Seeker"), (3, "Mods")]) == 8


async def test_bot_adds_tempvoice_when_configured(
    db_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.delenv("TEMPVOICE_STAGING_CHANNEL_IDS", raising=False)
    off = DeadlockBot(SqliteDatabase(db_path))
    await off.setup_hook()
    assert off.get_cog("TempVoice") is None and "TempVoice is off" in caplog.text
    await off.close()

    monkeypatch.setenv("TEMPVOICE_STAGING_CHANNEL_IDS", str(STAGING))
    on = DeadlockBot(SqliteDatabase(db_path))
    await on.setup_hook()
    try:
        assert isinstance(on.get_cog("TempVoice"), TempVoiceCog) and on.port.panel_factory is not None
        assert "tvpanel" in {c.name for c in on.commands}
    finally:
        await on.close()
    assert not on.db.is_open

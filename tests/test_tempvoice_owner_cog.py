"""The owner actions in discord.py: one persistent panel with the old and the new custom_ids,
and the `/lane` hybrid commands registered with the bot."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import discord
import pytest
from discord.ext import commands

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.discord_glue.errors import member_text
from bot.discord_glue.texts import Common
from bot.features.tempvoice.access_service import LaneAccessService
from bot.features.tempvoice.cog import CUSTOM_IDS
from bot.features.tempvoice.owner_cog import OWNER_CUSTOM_IDS, LaneCommands, LanePanel
from bot.features.tempvoice.owner_service import LaneOwnerService
from bot.features.tempvoice.service import LaneService
from tests.discord_objects import STAGING

# Frozen here on purpose: changing one breaks every panel message already posted.
NEW_CUSTOM_IDS = ["tv_rename", "tv_lock", "tv_hide", "tv_permit", "tv_trust", "tv_reject", "tv_transfer", "tv_preset"]
LANE_SUBCOMMANDS = {
    "hilfe", "umbenennen", "sperren", "entsperren", "verstecken", "zeigen", "zulassen", "vertrauen", "misstrauen",
    "ablehnen", "entbannen", "uebertragen", "vorlage", "reset",
}  # fmt: skip


def panel() -> LanePanel:
    return LanePanel(cast(LaneService, object()), cast(LaneAccessService, object()), cast(LaneOwnerService, object()))


async def test_panel_has_old_and_new_custom_ids_and_stays_persistent() -> None:
    view = panel()
    ids = {getattr(item, "custom_id", None) for item in view.children}
    assert ids == set(CUSTOM_IDS) | set(NEW_CUSTOM_IDS) and list(OWNER_CUSTOM_IDS) == NEW_CUSTOM_IDS
    assert all(i.startswith("tv_") for i in NEW_CUSTOM_IDS)
    assert view.is_persistent() and view.timeout is None
    rows: dict[int, int] = {}
    for item in view.children:
        rows[item.row or 0] = rows.get(item.row or 0, 0) + item.width
    assert all(width <= 5 for width in rows.values()) and max(rows) <= 4  # Discord's 5 rows of 5
    labels = {getattr(i, "label", None) for i in view.children}
    assert {"✏️ Umbenennen", "⛔ Ablehnen", "🔁 Übertragen", "💾 Vorlage speichern"} <= labels


async def test_bot_registers_the_panel_and_lane_commands(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPVOICE_STAGING_CHANNEL_IDS", str(STAGING))
    monkeypatch.setenv("TEMPVOICE_NAME_BLOCKLIST", "foo")
    bot = DeadlockBot(SqliteDatabase(db_path))
    await bot.setup_hook()
    try:
        assert isinstance(bot.get_cog("Lane"), LaneCommands)
        views = [v for v in bot.persistent_views if isinstance(v, LanePanel)]
        assert len(views) == 1  # old panel messages (old custom_ids) and new ones reach the same view
        lane = bot.get_command("lane")
        assert isinstance(lane, commands.HybridGroup)
        assert {c.name for c in lane.commands} | {"hilfe"} == LANE_SUBCOMMANDS
        app = bot.tree.get_command("lane")
        assert isinstance(app, discord.app_commands.Group)
        assert {c.name for c in app.commands} == LANE_SUBCOMMANDS
        access = views[0].access
        assert access.config.name_blocklist == {"foo"}
    finally:
        await bot.close()


class RecordingContext:
    def __init__(self) -> None:
        self.guild = None
        self.command = None
        self.sent: list[str] = []

    async def send(self, text: str, **_: object) -> None:
        self.sent.append(text)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (commands.NoPrivateMessage(), Common.GUILD_ONLY),
        (commands.MemberNotFound("nobody"), Common.NOT_A_MEMBER.format(value="nobody")),
        (RuntimeError("boom"), None),  # a bug: logged, the member reads Common.ERROR
    ],
)
async def test_lane_commands_refuse_in_german(error: Exception, text: str | None) -> None:
    """/lane takes the bot's one error path (bot/discord_glue/errors.py), no handler of its own."""
    cog = LaneCommands(cast(LaneAccessService, object()), cast(LaneOwnerService, object()))
    ctx = RecordingContext()
    with pytest.raises(commands.NoPrivateMessage):
        await cog.cog_check(cast(commands.Context[commands.Bot], ctx))
    assert member_text(error) == text
    assert not LaneCommands._get_overridden_method(cog.cog_command_error)

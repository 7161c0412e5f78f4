"""Coaching on discord.py: the kept start custom_id and step components that carry their session."""

from __future__ import annotations

import re
from typing import Any, cast

import discord
import pytest

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.features.coaching.cog import (
    DYNAMIC_ITEMS,
    START_CUSTOM_ID,
    CommentButton,
    FinishButton,
    HeroSelect,
    RankSelect,
    StartView,
    SubrankSelect,
    step_view,
)
from bot.features.coaching.settings import claim_notifier, coaching_enabled


async def test_start_button_keeps_the_old_custom_id() -> None:
    view = StartView()
    assert [getattr(i, "custom_id", None) for i in view.children] == [START_CUSTOM_ID] == ["dl_start"]
    assert view.is_persistent()


@pytest.mark.parametrize(
    ("step", "ids"),
    [
        ("rank", ["dl:rank:42"]),
        ("subrank", ["dl:subrank:42"]),
        ("hero", ["dl:hero1:42", "dl:hero2:42"]),
        ("comment", ["dl:comment:42"]),
        ("finish", ["dl:finish:42"]),
    ],
)
async def test_step_components_carry_the_session(step: str, ids: list[str]) -> None:
    view = step_view(42, step)
    assert [getattr(i, "custom_id", None) for i in view.children] == ids
    assert view.is_persistent()


async def test_components_are_rebuilt_from_their_custom_id_after_a_restart() -> None:
    cases: list[tuple[type[Any], str]] = [
        (RankSelect, "dl:rank:7"),
        (SubrankSelect, "dl:subrank:7"),
        (HeroSelect, "dl:hero2:7"),
        (CommentButton, "dl:comment:7"),
        (FinishButton, "dl:finish:7"),
    ]
    for cls, custom_id in cases:
        template: re.Pattern[str] = cls.__discord_ui_compiled_template__
        match = template.fullmatch(custom_id)
        assert match is not None, custom_id
        item = await cls.from_custom_id(cast(discord.Interaction, None), cast(Any, None), match)
        assert item.session_id == 7 and getattr(item.item, "custom_id", None) == custom_id
    assert len(DYNAMIC_ITEMS) == 5


def test_coaching_settings() -> None:
    assert not coaching_enabled({}) and coaching_enabled({"COACHING_ENABLED": "1"})
    notifier = claim_notifier({"COACHING_CLAIM_PORT": "4000"})
    assert (notifier.host, notifier.port) == ("localhost", 4000)


async def test_bot_loads_coaching_when_enabled(db_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHING_ENABLED", "1")
    bot = DeadlockBot(SqliteDatabase(db_path))
    await bot.setup_hook()
    try:
        assert bot.get_cog("Coaching") is not None and bot.get_command("coaching") is not None
        assert any(v.is_persistent() for v in bot.persistent_views)
    finally:
        await bot.close()

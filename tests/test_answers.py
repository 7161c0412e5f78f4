"""Interactions answered in time: work that takes long is deferred after DEFER_AFTER seconds
and answered with a follow-up; fast work is answered directly (bot/discord_glue/answers.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import types
from typing import Any, cast

import discord
import pytest

from bot.discord_glue.answers import DEFER_AFTER, answer, in_time
from bot.shared.common import UserError

DEADLINE = 3.0  # Discord's


@dataclasses.dataclass
class FakeResponse:
    log: list[tuple[str, Any]]
    deferred: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    tried: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    expired: bool = False
    done: bool = False

    def is_done(self) -> bool:
        return self.done

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self.tried.set()
        if self.expired:
            raise discord.NotFound(cast(Any, types.SimpleNamespace(status=404, reason="Not Found")), "expired")
        assert not self.done, "answered twice"
        self.done = True
        self.log.append(("defer", (ephemeral, thinking, asyncio.get_running_loop().time())))
        self.deferred.set()

    async def send_message(self, text: str | None = None, **kw: Any) -> None:
        assert not self.done, "answered twice"
        self.done = True
        self.log.append(("message", text if text is not None else kw.get("view")))


@dataclasses.dataclass
class FakeFollowup:
    log: list[tuple[str, Any]]

    async def send(self, text: Any = None, **kw: Any) -> None:
        self.log.append(("followup", text if text is not discord.utils.MISSING else kw.get("view")))


class FakeInteraction:
    def __init__(self) -> None:
        self.id = 1
        self.log: list[tuple[str, Any]] = []
        self.response = FakeResponse(self.log)
        self.followup = FakeFollowup(self.log)
        self.created = asyncio.get_running_loop().time()

    def as_discord(self) -> discord.Interaction:
        return cast(discord.Interaction, self)


async def test_fast_work_is_answered_directly() -> None:
    i = FakeInteraction()

    async def work() -> str:
        return "Region: DE"

    await answer(i.as_discord(), await in_time(i.as_discord(), work()))
    assert i.log == [("message", "Region: DE")]


async def test_slow_work_is_deferred_then_followed_up() -> None:
    i, release = FakeInteraction(), asyncio.Event()

    async def work() -> str:
        await release.wait()  # the database or Discord is slow: done only when the test says so
        return "Mindest-Rang gesetzt"

    async def handler() -> None:
        await answer(i.as_discord(), await in_time(i.as_discord(), work(), after=0.1))

    task = asyncio.create_task(handler())
    await asyncio.wait_for(i.response.deferred.wait(), 10)
    (kind, (ephemeral, thinking, at)), *rest = i.log
    assert (kind, ephemeral, thinking, rest) == ("defer", True, True, [])
    assert at - i.created >= 0.1  # not before the work had its chance
    release.set()
    await asyncio.wait_for(task, 10)
    assert i.log[1:] == [("followup", "Mindest-Rang gesetzt")]


def test_the_defer_comes_well_before_discords_deadline() -> None:
    assert 0.5 <= DEFER_AFTER <= DEADLINE / 2  # room for a slow event loop and the defer's round trip


async def test_a_refusal_after_the_defer_is_the_follow_up() -> None:
    from bot.features.tempvoice.cog import _answer

    i, release = FakeInteraction(), asyncio.Event()

    async def refused() -> str:
        await release.wait()
        raise UserError("Das ist nicht deine Lane.")

    async def handler() -> None:
        await _answer(i.as_discord(), refused())

    task = asyncio.create_task(handler())
    await asyncio.wait_for(i.response.deferred.wait(), 10)  # after DEFER_AFTER
    release.set()
    await asyncio.wait_for(task, 10)
    assert [k for k, _ in i.log] == ["defer", "followup"] and i.log[1][1] == "Das ist nicht deine Lane."


async def test_an_expired_interaction_still_finishes_the_work(caplog: pytest.LogCaptureFixture) -> None:
    i, release = FakeInteraction(), asyncio.Event()
    i.response.expired = True
    done = []

    async def work() -> str:
        await release.wait()
        done.append(1)
        return "ok"

    task = asyncio.create_task(in_time(i.as_discord(), work(), after=0.05))
    await asyncio.wait_for(i.response.tried.wait(), 10)
    release.set()
    assert await asyncio.wait_for(task, 10) == "ok" and done == [1]
    assert "expired before it could be deferred" in caplog.text


async def test_a_cancelled_handler_cancels_its_work() -> None:
    i, started = FakeInteraction(), asyncio.Event()
    cancelled = asyncio.Event()

    async def work() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    task = asyncio.create_task(in_time(i.as_discord(), work()))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 10)  # no orphan work keeps running


async def test_a_view_is_sent_as_answer_or_follow_up() -> None:
    view = discord.ui.View()
    i = FakeInteraction()
    await answer(i.as_discord(), view=view)
    assert i.log == [("message", view)]
    i.response.done = True
    await answer(i.as_discord(), view=view)
    assert i.log[-1] == ("followup", view)

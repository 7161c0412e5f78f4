"""When the voice-status pass runs: once discord.py is ready (not an interval later), and
soon after a member joined or left a monitored channel (not up to an interval later), never
more often than the gap however many moves come. The interval here is an hour: any pass
seen within the test was started by readiness or by a move."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import cast

import pytest
from discord.ext import commands

from bot.db import Database
from bot.discord_glue.ports import VoiceMove
from bot.features.voice_status.cog import VoiceStatusCog
from bot.features.voice_status.service import PassReport, VoiceStatusConfig, VoiceStatusService
from bot.shared.clock import ManualClock
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps, until
from tests.test_voice_status import GUILD, NOW, link, watch
from tests.voice_status_env import ReadyBot

HOUR = 3600


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


class CountedService(VoiceStatusService):
    passes = 0

    async def run_pass(self) -> PassReport:
        report = await super().run_pass()
        self.passes += 1
        return report


@dataclasses.dataclass
class Setup:
    world: FakeDiscord
    service: CountedService
    bot: ReadyBot
    cog: VoiceStatusCog
    monitored: int
    elsewhere: int

    async def move(self, user: int, channel: int | None) -> None:
        """A member moves (Discord's cache first, then the event, as discord.py does)."""
        before = self.world.voice_channel_of(GUILD, user)
        self.world.user_moves(GUILD, user, channel)
        await self.cog.on_voice_move(VoiceMove(GUILD, user, before, channel))


@contextlib.asynccontextmanager
async def loaded(db: Database, *, gap: float, ready: bool = True) -> AsyncIterator[Setup]:
    """The cog loaded (and, with `ready`, past its pass at ready); unloaded at the end."""
    clock = ManualClock(NOW)
    world = FakeDiscord(clock, latency=(0, 0))
    world.add_guild(GUILD)
    category = world.add_category(GUILD, "Lanes")
    monitored = world.add_voice(GUILD, "Lane 1", category)
    elsewhere = world.add_voice(GUILD, "Stammtisch")
    for user in (1, 2, 3):
        world.add_member(GUILD, user)
        await link(db, user, f"7656{user:013d}")
    service = CountedService(make_deps(db, world, clock), VoiceStatusConfig((category,), interval_seconds=HOUR))
    bot = ReadyBot()
    cog = VoiceStatusCog(cast(commands.Bot, bot), service, sooner_gap=gap)
    await cog.cog_load()
    try:
        if ready:
            bot.ready.set()
            await until(lambda: service.passes == 1, "the pass at ready")
        yield Setup(world, service, bot, cog, monitored, elsewhere)
    finally:
        await cog.cog_unload()


async def test_the_first_pass_runs_once_ready_not_an_interval_later(db: Database) -> None:
    async with loaded(db, gap=0.05, ready=False) as s:
        await s.move(1, s.monitored)  # before ready: the cache is not filled, no pass yet
        await asyncio.sleep(0)
        assert s.service.passes == 0
        s.bot.ready.set()
        await until(lambda: s.service.passes == 1, "the pass at ready")
        assert [steam for steam, _, _ in await watch(db)] == ["7656" + f"{1:013d}"]


async def test_a_join_or_leave_in_a_monitored_channel_brings_the_pass_forward(db: Database) -> None:
    async with loaded(db, gap=0.05) as s:
        await s.move(2, s.monitored)
        assert s.cog.sooner_pass_planned
        await until(lambda: s.service.passes == 2, "the pass after the join")
        assert len(await watch(db)) == 1  # member 2's account is watched without waiting an hour
        await s.move(2, None)
        await until(lambda: s.service.passes == 3, "the pass after the leave")
        assert await watch(db) == []


async def test_moves_elsewhere_plan_no_pass(db: Database) -> None:
    async with loaded(db, gap=0.05) as s:
        await s.move(3, s.elsewhere)
        await s.move(3, None)
        assert not s.cog.sooner_pass_planned and s.service.passes == 1


async def test_a_burst_of_moves_starts_one_pass_after_the_gap(db: Database) -> None:
    async with loaded(db, gap=0.3) as s:
        for user in (1, 2, 3, 1, 2, 3):
            await s.move(user, s.monitored if s.world.voice_channel_of(GUILD, user) is None else None)
        await until(lambda: s.service.passes == 2, "the sooner pass")
        assert not s.cog.sooner_pass_planned
        assert s.service.passes == 2  # six moves, one pass


async def test_unloading_cancels_a_planned_pass(db: Database) -> None:
    async with loaded(db, gap=HOUR) as s:
        await s.move(1, s.monitored)
        assert s.cog.sooner_pass_planned
        await s.cog.cog_unload()
        assert not s.cog.sooner_pass_planned and not s.cog.loop.running

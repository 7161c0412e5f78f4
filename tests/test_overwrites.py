"""The overwrite composer: several features' connect wishes on one channel, merged and persisted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bot.db import Database, SqliteDatabase
from bot.discord_glue.ports import Overwrite, Target, TargetKind, VoiceMove
from bot.features.rank_voice.service import RankVoiceConfig, RankVoiceService
from bot.features.tempvoice import texts
from bot.features.tempvoice.service import LaneService, TempVoiceConfig
from bot.shared.clock import ManualClock
from bot.shared.coordination import CHANNEL_LOCKS, SharedLocks
from bot.shared.overwrites import CONNECT, VIEW, OverwriteComposer, Wish, merge
from bot.shared.ranks import RANK_NAMES, RankRoles
from bot.shared.rename import RenameScheduler
from tests.fakes.discord_world import BOT_USER_ID, FakeDiscord
from tests.helpers import make_deps

GUILD = 77
EVERYONE = Target(TargetKind.ROLE, GUILD)
ME = Target(TargetKind.MEMBER, BOT_USER_ID)
T = texts.TempVoice


def role(role_id: int) -> Target:
    return Target(TargetKind.ROLE, role_id)


def test_merge_rules() -> None:
    ban = Wish("tempvoice.ban", Target(TargetKind.MEMBER, 5), CONNECT, False)
    permit = Wish("lanes.permit", Target(TargetKind.MEMBER, 5), CONNECT, True)
    assert merge([ban, permit], {}, everyone=EVERYONE, me=ME) == {(ban.target, CONNECT): False}  # deny wins
    gates = {"tempvoice.minrank": frozenset({6, 7, 8, 9}), "rank_voice": frozenset({5, 6, 7})}
    merged = merge([], gates, everyone=EVERYONE, me=ME)
    assert merged == {
        (EVERYONE, CONNECT): False,
        (role(6), CONNECT): True,
        (role(7), CONNECT): True,
        (ME, CONNECT): True,
    }
    hide = Wish("lanes.hide", EVERYONE, VIEW, False)
    assert merge([hide], {}, everyone=EVERYONE, me=ME) == {(EVERYONE, VIEW): False, (ME, VIEW): True}
    assert merge([], {}, everyone=EVERYONE, me=ME) == {}


class World:
    """A ranked lane category that TempVoice (min rank) and rank voice both manage."""

    def __init__(self, db: Database) -> None:
        self.clock = ManualClock(0)
        self.world = world = FakeDiscord(self.clock)
        world.add_guild(GUILD)
        self.category = world.add_category(GUILD, "Ranked")
        self.staging = world.add_voice(GUILD, "➕ Ranked Lane", self.category)
        self.roles = {value: world.add_role(GUILD, name) for value, name in enumerate(RANK_NAMES) if value}
        self.db = db
        self.build()

    def build(self) -> None:
        """New services (as after a restart): nothing but the database and Discord is kept."""
        composer = OverwriteComposer(self.db, self.world, self.world)
        renamer = RenameScheduler(self.db, self.world, self.world, self.clock)
        deps = make_deps(self.db, self.world, self.clock, renamer=renamer, overwrites=composer)
        self.composer = composer
        self.lanes = LaneService(
            deps,
            TempVoiceConfig(
                staging_channel_ids=frozenset({self.staging}),
                ranked_category_ids=frozenset({self.category}),
                minrank_category_ids=frozenset({self.category}),
                rank_roles=RankRoles(),
            ),
        )
        self.rank_voice = RankVoiceService(
            deps,
            RankVoiceConfig(
                ranked_category_ids=frozenset({self.category}), excluded_channel_ids=frozenset({self.staging})
            ),
        )
        self.world.listener = self.both

    async def both(self, move: VoiceMove) -> None:
        await self.lanes.on_voice_move(move)
        await self.rank_voice.on_voice_move(move)

    def member(self, rank: int) -> int:
        return self.world.add_member(GUILD, roles=(self.roles[rank],))

    async def move(self, member: int, channel: int | None) -> None:
        await self.both(self.world.user_moves(GUILD, member, channel))
        await self.world.settle()

    def connect(self, channel: int, target: Target) -> bool | None:
        return self.world.channels[channel].overwrites.get(target, Overwrite()).bit(CONNECT)

    def admitted(self, channel: int) -> list[int]:
        return [v for v, r in self.roles.items() if self.connect(channel, role(r))]


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


async def test_min_rank_and_rank_voice_keep_each_others_allows(db: Database) -> None:
    w = World(db)
    archon = w.member(7)
    await w.move(archon, w.staging)
    lane = w.world.voice_channel_of(GUILD, archon)
    assert lane is not None and lane != w.staging
    assert w.admitted(lane) == [6, 7, 8]  # rank voice anchored the lane on its creator (+/-1)
    await w.lanes.panel.set_min_rank(GUILD, archon, lane, 7)
    assert w.admitted(lane) == [7, 8]  # both gates must admit a rank
    assert await w.lanes.panel.set_min_rank(GUILD, archon, lane, 0) == T.MINRANK_CLEARED
    # the old bot put every rank role back to "inherit" here while @everyone stayed denied
    assert w.admitted(lane) == [6, 7, 8]
    assert w.connect(lane, EVERYONE) is False and w.connect(lane, ME) is True
    # a ban beats the rank window
    pest = w.member(7)
    await w.lanes.panel.ban(GUILD, archon, lane, str(pest))
    assert w.connect(lane, Target(TargetKind.MEMBER, pest)) is False

    w.build()  # restart: the wishes come from the database
    await w.lanes.panel.set_min_rank(GUILD, archon, lane, 7)
    assert w.admitted(lane) == [7, 8]
    assert w.connect(lane, Target(TargetKind.MEMBER, pest)) is False
    await w.lanes.panel.set_min_rank(GUILD, archon, lane, 0)
    assert w.admitted(lane) == [6, 7, 8]


async def test_lifting_every_gate_puts_the_baseline_back_after_a_restart(db: Database) -> None:
    w = World(db)
    channel = w.world.add_voice(GUILD, "Ranked 1", w.category)
    w.world.channels[channel].overwrites[EVERYONE] = Overwrite(deny=frozenset({VIEW}), allow=frozenset({"speak"}))
    await w.composer.set_gate(channel, "rank_voice", [w.roles[3]], reason="test")
    await w.composer.set_gate(channel, "other", [w.roles[3], w.roles[4]], reason="test")
    assert w.world.channels[channel].overwrites[EVERYONE] == Overwrite(
        allow=frozenset({"speak"}), deny=frozenset({VIEW, CONNECT})
    )
    w.build()
    await w.composer.set_gate(channel, "rank_voice", None, reason="test")
    assert w.admitted(channel) == [3, 4] and w.connect(channel, EVERYONE) is False  # one gate still on
    await w.composer.clear(channel, "other", reason="test")
    overwrites = w.world.channels[channel].overwrites
    assert overwrites[EVERYONE] == Overwrite(allow=frozenset({"speak"}), deny=frozenset({VIEW}))
    assert set(overwrites) == {EVERYONE}  # the rank roles and the bot's own allow are gone again
    calls = w.world.count("set_overwrite")
    await w.composer.reapply(channel, reason="test")
    assert w.world.count("set_overwrite") == calls  # nothing to change: nothing written


async def test_a_wish_put_back_by_another_process_is_not_taken_as_the_baseline(db: Database) -> None:
    """Composer B wrote a wish, composer A (another process) put the baseline back; when B
    composes the bit again, its baseline is Discord's value, not B's stale own write."""
    w = World(db)
    channel = w.world.add_voice(GUILD, "Ranked 1", w.category)
    other = OverwriteComposer(db, w.world, w.world)
    member = Target(TargetKind.MEMBER, 5)
    await other.set_wish(channel, "test.member", member, CONNECT, True, reason="b")
    await w.composer.clear(channel, "test.member", reason="a")
    assert w.connect(channel, member) is None
    await other.set_wish(channel, "test.member", member, CONNECT, True, reason="b")
    await w.composer.clear(channel, "test.member", reason="a")
    assert w.connect(channel, member) is None


async def test_two_processes_composing_one_channel_end_with_the_merged_wishes(db: Database) -> None:
    """Two composers (as in two bot processes: their own locks are their own) on one database,
    called under the channel's shared lock as the features do."""
    w = World(db)
    channel = w.world.add_voice(GUILD, "Ranked 1", w.category)
    other = OverwriteComposer(db, w.world, w.world)
    locks_a = SharedLocks(db, CHANNEL_LOCKS)
    # an SQLite file belongs to one process: there, both composers share that process's locks
    locks_b = locks_a if isinstance(db, SqliteDatabase) else SharedLocks(db, CHANNEL_LOCKS)
    member = Target(TargetKind.MEMBER, 5)

    async def under(locks: SharedLocks, action: Awaitable[None]) -> None:
        async with locks(channel):
            await action

    for round_ in range(6):
        low = 1 + round_ % 3
        await asyncio.gather(
            under(
                locks_a,
                w.composer.set_gate(channel, "rank_voice", [w.roles[v] for v in range(low, low + 4)], reason="a"),
            ),
            under(
                locks_b,
                other.set_gate(channel, "tempvoice.minrank", [w.roles[v] for v in range(low + 1, 12)], reason="b"),
            ),
            under(locks_b, other.set_wish(channel, "test.member", member, CONNECT, round_ % 2 == 0, reason="b")),
        )
        assert w.admitted(channel) == list(range(low + 1, low + 4)), round_
        assert w.connect(channel, member) is (round_ % 2 == 0)
    await asyncio.gather(
        under(locks_a, w.composer.clear(channel, "rank_voice", reason="a")),
        under(locks_b, other.clear(channel, "tempvoice.minrank", reason="b")),
        under(locks_b, other.clear(channel, "test.member", reason="b")),
    )
    assert w.world.channels[channel].overwrites == {}  # every baseline back: nothing was there

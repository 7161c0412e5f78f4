"""Rank-anchored voice channels against the fake Discord and a real database file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import Overwrite, Target, TargetKind, VoiceMove
from bot.features.rank_voice import texts
from bot.features.rank_voice.rules import Mode, name_part, window
from bot.features.rank_voice.service import RankVoiceConfig, RankVoiceService
from bot.features.tempvoice.service import LaneService, TempVoiceConfig
from bot.shared.clock import ManualClock
from bot.shared.common import Reply
from bot.shared.ranks import RANK_NAMES
from bot.shared.rename import RenameScheduler
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps
from tests.raw_sql import execute


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


T = texts.RankVoice
GUILD = 55


@dataclasses.dataclass
class Env:
    world: FakeDiscord
    clock: ManualClock
    renamer: RenameScheduler
    service: RankVoiceService
    ranked: int
    grind: int
    roles: dict[int, int]
    config: RankVoiceConfig

    def member(self, rank: int, *, manage_channels: bool = False, manage_guild: bool = False) -> int:
        roles = (self.roles[rank],) if rank else ()
        return self.world.add_member(GUILD, roles=roles, manage_channels=manage_channels, manage_guild=manage_guild)

    async def move(self, member: int, channel: int | None) -> None:
        await self.service.on_voice_move(self.world.user_moves(GUILD, member, channel))

    def connect(self, channel: int, rank: int) -> bool | None:
        ow = self.world.channels[channel].overwrites.get(Target(TargetKind.ROLE, self.roles[rank]), Overwrite())
        return ow.bit("connect")

    def everyone(self, channel: int) -> Overwrite:
        return self.world.channels[channel].overwrites.get(Target(TargetKind.ROLE, GUILD), Overwrite())


def build(db: Database, world: FakeDiscord | None = None, clock: ManualClock | None = None) -> Env:
    clock = clock or ManualClock(0)
    if world is None:
        world = FakeDiscord(clock)
        world.add_guild(GUILD)
        ranked_cat = world.add_category(GUILD, "Ranked")
        grind_cat = world.add_category(GUILD, "Grind")
        world.add_voice(GUILD, "Rang-Sprachkanal", ranked_cat)
        world.add_voice(GUILD, "Grind", grind_cat)
        for value, name in enumerate(RANK_NAMES):
            if value:
                world.add_role(GUILD, name)
    cats = [c.id for c in world.channels.values() if c.kind == "category"]
    voices = [c.id for c in world.channels.values() if c.kind == "voice" and not c.created_by_bot]
    roles = {RANK_NAMES.index(r.name): r.id for r in world.roles(GUILD) if r.name in RANK_NAMES}
    config = RankVoiceConfig(frozenset({cats[0]}), frozenset({cats[1]}))
    renamer = RenameScheduler(db, world, world, clock)
    service = RankVoiceService(make_deps(db, world, clock, renamer=renamer), config)
    return Env(world, clock, renamer, service, voices[0], voices[1], roles, config)


def test_windows() -> None:
    assert window(7, Mode.RANKED) == (6, 8) and window(7, Mode.GRIND) == (5, 9)
    assert window(11, Mode.RANKED) == (10, 11) and window(1, Mode.GRIND) == (1, 3)
    assert window(0, Mode.RANKED) == (1, 2)  # no rank role: counts as Initiate
    assert name_part(7, 6, 8) == " • Archon +/-1" and name_part(11, 11, 11) == " • Eternus"


@pytest.mark.parametrize(("mode_channel", "low", "high"), [("ranked", 6, 8), ("grind", 5, 9)])
async def test_first_joiner_anchors_the_window(db: Database, mode_channel: str, low: int, high: int) -> None:
    env = build(db)
    channel = env.ranked if mode_channel == "ranked" else env.grind
    # the channel was hidden from @everyone before: that bit must survive anchoring and release
    env.world.channels[channel].overwrites[Target(TargetKind.ROLE, GUILD)] = Overwrite(deny=frozenset({"view_channel"}))
    env.world.channels[channel].overwrites[Target(TargetKind.ROLE, env.roles[2])] = Overwrite(
        allow=frozenset({"speak"}), deny=frozenset({"connect"})
    )
    archon = env.member(7)
    await env.move(archon, channel)
    assert env.everyone(channel) == Overwrite(deny=frozenset({"view_channel", "connect"}))  # merged, not replaced
    assert [v for v in range(1, 12) if env.connect(channel, v)] == list(range(low, high + 1))
    assert env.world.channels[channel].overwrites[Target(TargetKind.ROLE, env.roles[2])] == Overwrite(
        allow=frozenset({"speak"}), deny=frozenset({"connect"})
    )  # outside the window: nobody's wish, left as it was
    oracle = env.member(8)
    await env.move(oracle, channel)  # a later joiner does not move the anchor
    async with db.read() as conn:
        anchor = await queries.rank_voice.get_anchor(conn, channel_id=channel)
    assert anchor is not None and (anchor.rank_name, anchor.allowed_min, anchor.allowed_max) == ("Archon", low, high)
    await env.renamer.run_due()
    assert env.world.channels[channel].name.endswith(name_part(7, low, high))

    await env.move(archon, None)
    assert env.everyone(channel).bit("connect") is False  # someone is still inside
    await env.move(oracle, None)  # empty: anchor gone, connect bits back as they were
    assert env.everyone(channel) == Overwrite(deny=frozenset({"view_channel"}))
    assert [env.connect(channel, v) for v in range(1, 12)] == [None, False] + [None] * 9
    async with db.read() as conn:
        assert await queries.rank_voice.get_anchor(conn, channel_id=channel) is None
    await env.renamer.run_due()
    assert "+/-" not in env.world.channels[channel].name


async def test_user_ranks_table_is_the_fallback(db: Database) -> None:
    env = build(db)
    unranked = env.member(0)
    async with db.transaction() as conn:
        # written by the standalone rank bot
        await execute(conn, "INSERT INTO user_ranks (user_id, rank) VALUES ({}, {})", unranked, "Ascendant 5")
    await env.move(unranked, env.ranked)
    async with db.read() as conn:
        anchor = await queries.rank_voice.get_anchor(conn, channel_id=env.ranked)
    assert anchor is not None and (anchor.rank_value, anchor.anchor_subrank) == (10, 5)


async def test_toggle_persists_and_restores_everyone(db: Database, db_path: Path) -> None:
    env = build(db)
    admin = env.member(5, manage_channels=True)
    await env.move(admin, env.ranked)
    assert env.everyone(env.ranked).bit("connect") is False
    assert await env.service.set_enabled(GUILD, admin, env.ranked, False) == Reply(True, T.DISABLED)
    assert env.everyone(env.ranked).bit("connect") is None  # the old bot left @everyone locked here
    second = env.member(3)
    await env.move(second, env.ranked)
    assert env.everyone(env.ranked).bit("connect") is None  # disabled: no anchor

    restarted = build(db, env.world, env.clock)  # persisted: still off after a restart
    third = env.member(4)
    await restarted.move(third, restarted.ranked)
    assert restarted.everyone(restarted.ranked).bit("connect") is None
    assert await restarted.service.set_enabled(GUILD, admin, restarted.ranked, True) == Reply(True, T.ENABLED)
    assert restarted.everyone(restarted.ranked).bit("connect") is False  # re-anchored on who is inside


async def test_restore_after_restart(db: Database) -> None:
    env = build(db)
    a, b = env.member(7), env.member(9)
    await env.move(a, env.ranked)
    await env.move(b, env.grind)
    # while the bot is down: the grind channel empties, the ranked one is deleted and re-created
    env.world.user_moves(GUILD, b, None)
    restarted = build(db, env.world, env.clock)
    assert await restarted.service.restore(GUILD) == 1
    async with db.read() as conn:
        anchors = await queries.rank_voice.list_anchors(conn, guild_id=GUILD)
    assert [x.channel_id for x in anchors] == [env.ranked]
    assert restarted.everyone(env.grind).bit("connect") is None
    await restarted.renamer.run_due()
    assert restarted.world.channels[env.ranked].name.endswith(" • Archon +/-1")
    await env.world.delete_externally(env.ranked)
    assert await restarted.service.restore(GUILD) == 1
    async with db.read() as conn:
        assert await queries.rank_voice.list_anchors(conn, guild_id=GUILD) == []


async def test_state_changing_commands_need_permission(db: Database) -> None:
    env = build(db)
    member = env.member(7)
    await env.move(member, env.ranked)
    calls = len(env.world.calls)
    assert await env.service.set_enabled(GUILD, member, env.ranked, False) == Reply(False, T.NO_PERMISSION)
    assert await env.service.refresh(GUILD, member, env.ranked) == Reply(False, T.NO_PERMISSION)
    assert len(env.world.calls) == calls
    assert await env.service.is_enabled(env.ranked)
    mod = env.member(0, manage_guild=True)
    outside = env.world.add_voice(GUILD, "Elsewhere")
    assert await env.service.set_enabled(GUILD, mod, outside, False) == Reply(False, T.NOT_MANAGED)
    reply = await env.service.refresh(GUILD, mod, env.ranked)
    assert reply == Reply(True, T.REFRESHED.format(rank="Archon", low="Emissary", high="Oracle"))
    assert "Anker Archon" in await env.service.describe_channel(env.ranked)
    assert await env.service.describe_channel(outside) == T.NOT_MANAGED


async def test_tempvoice_and_rank_parts_share_the_name(db: Database) -> None:
    """A lane in a ranked category keeps 'Lane N' and gains the window: no rename ping-pong."""
    env = build(db)
    staging = env.world.add_voice(GUILD, "+ Lane", env.world.channels[env.ranked].category_id)
    lanes = LaneService(make_deps(db, env.world, env.clock, renamer=env.renamer), TempVoiceConfig(frozenset({staging})))

    async def both(move: VoiceMove) -> None:
        await lanes.on_voice_move(move)
        await env.service.on_voice_move(move)

    env.world.listener = both
    owner = env.member(7)
    await both(env.world.user_moves(GUILD, owner, staging))
    await env.world.settle()
    lane = env.world.voice_channel_of(GUILD, owner)
    assert lane is not None and lane != staging
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1 • Archon +/-1"
    for _ in range(10):
        await env.renamer.run_due()
    assert len(env.world.renames[lane]) == 1


async def test_names_after_a_restart_neither_keep_nor_pile_up_suffixes(db: Database) -> None:
    env = build(db)
    a = env.member(9)
    await env.move(a, env.grind)
    await env.renamer.run_due()
    grind_name = env.world.channels[env.grind].name
    assert grind_name == "Grind" + name_part(9, 7, 11)
    env.world.user_moves(GUILD, a, None)  # the channel empties while the bot is down

    restarted = build(db, env.world, env.clock)  # new services, nothing kept in memory
    assert await restarted.service.restore(GUILD) == 1
    await restarted.renamer.run_due()
    assert env.world.channels[env.grind].name == "Grind"  # the ended state's suffix is gone
    b = env.member(3)
    await restarted.move(b, env.grind)
    env.clock.advance(600)
    await restarted.renamer.run_due()
    assert env.world.channels[env.grind].name == "Grind" + name_part(3, 1, 5)  # replaced, not appended

"""Lock, hide, a ban, a min rank and a rank-voice window on one lane: every combination, put on
and taken off in different orders, and none erases another (all through the overwrite composer)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bot.db import Database
from bot.discord_glue.ports import Overwrite, Target, TargetKind, VoiceMove
from bot.features.rank_voice.service import RankVoiceConfig, RankVoiceService
from bot.features.tempvoice.access_service import LaneAccessService, OwnerActionsConfig
from bot.features.tempvoice.owner_service import LaneOwnerService
from bot.features.tempvoice.service import LaneService, TempVoiceConfig
from bot.shared.clock import ManualClock
from bot.shared.overwrites import CONNECT, VIEW
from bot.shared.ranks import RANK_NAMES, RankRoles
from tests.fakes.discord_world import BOT_USER_ID, FakeDiscord
from tests.helpers import make_deps

GUILD = 88
EVERYONE = Target(TargetKind.ROLE, GUILD)


@dataclasses.dataclass(frozen=True)
class On:
    lock: bool = False
    hide: bool = False
    ban: bool = False
    minrank: bool = False
    rankvoice: bool = False


def member(member_id: int) -> Target:
    return Target(TargetKind.MEMBER, member_id)


class Lane:
    def __init__(self, db: Database, *, rank_voice: bool) -> None:
        self.clock = ManualClock(0)
        self.world = world = FakeDiscord(self.clock)
        world.add_guild(GUILD)
        category = world.add_category(GUILD, "Ranked")
        staging = world.add_voice(GUILD, "➕ Ranked Lane", category)
        self.ranks = {value: world.add_role(GUILD, name) for value, name in enumerate(RANK_NAMES) if value}
        self.mod_role = world.add_role(GUILD, "Mods")
        deps = make_deps(db, world, self.clock)
        self.lanes = LaneService(
            deps,
            TempVoiceConfig(
                staging_channel_ids=frozenset({staging}),
                ranked_category_ids=frozenset({category}),
                minrank_category_ids=frozenset({category}),
                rank_roles=RankRoles(),
            ),
        )
        self.access = LaneAccessService(self.lanes, OwnerActionsConfig(moderator_role_ids=frozenset({self.mod_role})))
        LaneOwnerService(self.lanes, self.access)
        self.rank_voice = RankVoiceService(
            deps,
            RankVoiceConfig(
                ranked_category_ids=frozenset({category} if rank_voice else ()),
                excluded_channel_ids=frozenset({staging}),
            ),
        )
        world.listener = self.both
        self.owner = world.add_member(GUILD, roles=(self.ranks[7],))
        self.inside = world.add_member(GUILD, roles=(self.ranks[7],))
        self.pest = world.add_member(GUILD, roles=(self.ranks[7],))
        self.staging = staging

    async def both(self, move: VoiceMove) -> None:
        await self.lanes.on_voice_move(move)
        await self.rank_voice.on_voice_move(move)

    async def create(self) -> int:
        await self.both(self.world.user_moves(GUILD, self.owner, self.staging))
        await self.world.settle()
        lane = self.world.voice_channel_of(GUILD, self.owner)
        assert lane is not None and lane != self.staging
        self.lane = lane
        for member in (self.inside, self.pest):
            await self.both(self.world.user_moves(GUILD, member, lane))
            await self.world.settle()
        return lane

    async def switch(self, piece: str, on: bool) -> None:
        g, o, lane = GUILD, self.owner, self.lane
        if piece == "lock":
            assert await self.access.set_locked(g, o, lane, on)
        elif piece == "hide":
            assert await self.access.set_hidden(g, o, lane, on)
        elif piece == "ban":
            act = self.lanes.panel.ban if on else self.lanes.panel.unban
            assert await act(g, o, lane, str(self.pest))
            await self.world.settle()
        elif piece == "minrank":
            assert await self.lanes.panel.set_min_rank(g, o, lane, 7 if on else 0)
        else:
            raise AssertionError(piece)  # rank voice is on from the creation when configured

    def bits(self, target: Target) -> tuple[bool | None, bool | None]:
        ow = self.world.channels[self.lane].overwrites.get(target, Overwrite())
        return ow.bit(CONNECT), ow.bit(VIEW)

    def check(self, on: On, step: str) -> None:
        gated = on.lock or on.minrank or on.rankvoice
        assert self.bits(EVERYONE) == (False if gated else None, False if on.hide else None), step
        exception = (True if on.lock else None, True if on.hide else None)
        for m in (self.owner, self.inside):
            assert self.bits(member(m)) == exception, step
        assert self.bits(Target(TargetKind.ROLE, self.mod_role)) == exception, step
        assert self.bits(member(BOT_USER_ID)) == (True if gated else None, True if on.hide else None), step
        # the pest was inside when the lane was locked or hidden: banned, they lose even that
        pest = (False if on.ban else exception[0], None if on.ban else exception[1])
        assert self.bits(member(self.pest)) == pest, step
        window = set(range(6, 9)) if on.rankvoice else set(range(1, 12))
        floor = set(range(7, 12)) if on.minrank else set(range(1, 12))
        admitted = set() if on.lock or not (on.minrank or on.rankvoice) else window & floor
        assert {v for v, r in self.ranks.items() if self.bits(Target(TargetKind.ROLE, r))[0]} == admitted, step
        assert all(self.bits(Target(TargetKind.ROLE, r))[0] is not False for r in self.ranks.values()), step


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


SWITCHES = ("lock", "hide", "ban", "minrank")
SUBSETS = [c for n in range(len(SWITCHES) + 1) for c in itertools.combinations(SWITCHES, n)]


@pytest.mark.parametrize("rank_voice", [False, True], ids=["no-rank-voice", "rank-voice"])
@pytest.mark.parametrize("subset", SUBSETS, ids=["+".join(s) or "nothing" for s in SUBSETS])
async def test_every_combination_on_and_off(db: Database, rank_voice: bool, subset: tuple[str, ...]) -> None:
    """Switch the pieces on one by one and off in reverse order, then on in reverse and off in
    the same order; after each step the channel shows exactly what the pieces still on ask for."""
    w = Lane(db, rank_voice=rank_voice)
    await w.create()
    on = On(rankvoice=rank_voice)
    w.check(on, "created")
    for ups, downs in [(subset, subset[::-1]), (subset[::-1], subset[::-1])]:
        for piece in ups:
            await w.switch(piece, True)
            on = dataclasses.replace(on, **{piece: True})
            w.check(on, f"{piece} on")
        for piece in downs:
            await w.switch(piece, False)
            on = dataclasses.replace(on, **{piece: False})
            w.check(on, f"{piece} off")

"""Matches against the fake Discord and a real database file."""

from __future__ import annotations

import asyncio
import dataclasses
import random

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.features.balancer import texts
from bot.features.balancer.service import BalancerConfig, MatchReport, MatchService
from bot.shared.clock import ManualClock
from bot.shared.common import Reply
from bot.shared.ranks import RANK_NAMES
from bot.shared.timers import TimerService
from tests.fakes.discord_world import EVENT_DELIVERIES, EventDelivery, FakeDiscord
from tests.helpers import make_deps


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


T = texts.Balancer
GUILD = 77


@dataclasses.dataclass
class World:
    world: FakeDiscord
    clock: ManualClock
    timers: TimerService
    service: MatchService
    category: int
    lobby: int
    host: int
    ranks: dict[int, int]


@pytest.fixture(params=EVENT_DELIVERIES)
def delivery(request: pytest.FixtureRequest) -> EventDelivery:
    """The voice event of each move the bot makes comes before, after (lagging) or never."""
    return request.param  # type: ignore[no-any-return]


def build(db: Database, delivery: EventDelivery = "before", *, seed: int = 1) -> World:
    clock = ManualClock(1_700_000_000)
    world = FakeDiscord(clock, seed=seed, event_delivery=delivery)
    world.add_guild(GUILD)
    category = world.add_category(GUILD, "Matches")
    overflow = [world.add_category(GUILD, f"Matches {i}") for i in (2, 3)]
    lobby = world.add_voice(GUILD, "Lobby")
    host_role = world.add_role(GUILD, "Host")
    ranks = {v: world.add_role(GUILD, name) for v, name in enumerate(RANK_NAMES) if v}
    timers = TimerService(db, clock)
    service = MatchService(
        make_deps(db, world, clock, timers=timers),
        BalancerConfig((category, *overflow), frozenset({host_role})),
        rng=random.Random(seed),
    )
    host = world.add_member(GUILD, roles=(host_role,))
    return World(world, clock, timers, service, category, lobby, host, ranks)


def add_players(w: World, count: int, channel: int | None = None) -> list[int]:
    out = []
    for i in range(count):
        member = w.world.add_member(GUILD, roles=(w.ranks[1 + i % 11],))
        if channel is not None:
            w.world.user_moves(GUILD, member, channel)
        out.append(member)
    return out


async def test_preview_creates_nothing(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    players = add_players(w, 7, w.lobby)
    split = await w.service.preview(GUILD, players[0])
    assert not isinstance(split, Reply)
    assert len(split.team_a) == len(split.team_b) == 3 and len(split.bench) == 1
    assert w.world.calls == []
    assert await w.service.preview(GUILD, w.host) == Reply(False, T.NOT_IN_VOICE)


async def test_start_end_with_debrief(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    w.world.user_moves(GUILD, w.host, w.lobby)
    players = add_players(w, 9, w.lobby)
    report = await w.service.start(GUILD, w.host)
    assert isinstance(report, MatchReport)
    assert w.world.channels[report.team_a_channel].name == f"🟠 Team Amber • {report.label}"
    assert w.world.channels[report.team_b_channel].name == f"🔵 Team Sapphire • {report.label}"
    roster = await w.service.roster(report.match_id)
    assert sorted(roster["amber"] + roster["sapphire"] + roster["bench"]) == sorted([w.host, *players])
    assert len(roster["bench"]) == 0 and len(roster["amber"]) == 5  # 10 players: 5v5
    assert len(report.moved) == 10 and report.not_in_voice == ()
    async with db.read() as conn:
        snapshot = await queries.balancer.list_match_players(conn, match_id=report.match_id)
    assert {p.rank_name for p in snapshot} <= set(RANK_NAMES)

    reply = await w.service.end(GUILD, w.host, report.match_id)
    assert reply.ok and "Nachbesprechung" in reply.text
    debrief = [c for c in w.world.channels.values() if c.name == f"💬 Nachbesprechung • {report.label}"]
    assert len(debrief) == 1 and report.team_a_channel not in w.world.channels
    assert len(w.world.truth_members(debrief[0].id)) == 10  # in the debrief, whatever the cache says
    assert await w.service.end(GUILD, w.host, report.match_id) == Reply(False, T.NO_MATCH.format(id=report.label))
    await w.world.settle()  # the voice events of the moves, if they come at all
    *first, last = w.world.truth_members(debrief[0].id)
    for member in first:
        await w.service.on_voice_move(w.world.user_moves(GUILD, member, None))
    assert debrief[0].id in w.world.channels  # one is still inside
    await w.service.on_voice_move(w.world.user_moves(GUILD, last, None))  # the last one leaves: the match ends
    assert debrief[0].id not in w.world.channels
    async with db.read() as conn:
        match = await queries.balancer.get_match(conn, match_id=report.match_id)
    assert match is not None and match.state == "ended" and match.ended_at is not None


async def test_manual_with_bench_and_absent_players(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    in_voice = add_players(w, 4, w.lobby)
    offline = add_players(w, 3)
    report = await w.service.start(GUILD, w.host, [*in_voice, *offline], bench=[in_voice[0]])
    assert isinstance(report, MatchReport)
    assert [p.id for p in report.split.bench] == [in_voice[0]]
    assert sorted(report.not_in_voice) == sorted(offline)


async def test_permissions(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    players = add_players(w, 6, w.lobby)
    nobody = players[0]
    assert await w.service.start(GUILD, nobody) == Reply(False, T.NO_PERMISSION)
    assert await w.service.end(GUILD, nobody, 1) == Reply(False, T.NO_PERMISSION)
    assert await w.service.cleanup(GUILD, nobody) == Reply(False, T.NO_PERMISSION)
    assert w.world.calls == []
    mod = w.world.add_member(GUILD, manage_channels=True)
    w.world.user_moves(GUILD, mod, w.lobby)
    assert isinstance(await w.service.start(GUILD, mod), MatchReport)
    lonely = build(db, delivery)
    lonely.world.user_moves(GUILD, lonely.host, lonely.lobby)
    assert await lonely.service.start(GUILD, lonely.host) == Reply(False, T.TOO_FEW.format(count=1))


async def test_fifty_matches_concurrently(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    lobbies = [w.world.add_voice(GUILD, f"Lobby {i}") for i in range(50)]
    for lobby in lobbies:
        add_players(w, 4, lobby)
    hosts = []
    for lobby in lobbies:
        host = w.world.add_member(GUILD, manage_channels=True)
        w.world.user_moves(GUILD, host, lobby)
        hosts.append(host)
    reports = await asyncio.gather(*(w.service.start(GUILD, h) for h in hosts))
    assert all(isinstance(r, MatchReport) for r in reports)
    ids = [r.match_id for r in reports if isinstance(r, MatchReport)]
    assert len(set(ids)) == 50
    ends = await asyncio.gather(
        *(w.service.end(GUILD, h, i, skip_debrief=True) for h, i in zip(hosts, ids, strict=True))
    )
    assert all(r.ok for r in ends)
    assert not [c for c in w.world.channels.values() if c.created_by_bot]  # all channels gone
    async with db.read() as conn:
        states = [(await queries.balancer.get_match(conn, match_id=i)) for i in ids]
        players = [len(await queries.balancer.list_match_players(conn, match_id=i)) for i in ids]
    assert all(m is not None and m.state == "ended" for m in states) and players == [5] * 50
    assert await w.service.running(GUILD) == []


async def test_restart_then_end_and_stale_timer(db: Database, delivery: EventDelivery, db_path: object) -> None:
    w = build(db, delivery)
    w.world.user_moves(GUILD, w.host, w.lobby)
    add_players(w, 5, w.lobby)
    report = await w.service.start(GUILD, w.host)
    assert isinstance(report, MatchReport)
    # a new service (as after a restart) finds the match in the database
    again = MatchService(make_deps(db, w.world, w.clock), w.service.config)
    assert [m.match_id for m in await again.running(GUILD)] == [report.match_id]
    second = await again.start(GUILD, w.host, list(w.world.truth_members(report.team_a_channel))
                               + list(w.world.truth_members(report.team_b_channel)))  # fmt: skip
    assert isinstance(second, MatchReport) and second.match_id > report.match_id  # ids survive restarts
    # nobody ends them: the persisted timer cancels them after 6 hours
    w.clock.advance(6 * 3600 + 1)
    assert await again.timers.dispatch_due() == 2
    assert await again.running(GUILD) == []
    assert not [c for c in w.world.channels.values() if c.created_by_bot]


async def test_cleanup(db: Database, delivery: EventDelivery) -> None:
    w = build(db, delivery)
    w.world.user_moves(GUILD, w.host, w.lobby)
    add_players(w, 3, w.lobby)
    report = await w.service.start(GUILD, w.host)
    assert isinstance(report, MatchReport)
    assert await w.service.cleanup(GUILD, w.host, 2) == Reply(True, T.CLEANED.format(count=0))
    w.clock.advance(2 * 3600)
    assert await w.service.cleanup(GUILD, w.host, 2) == Reply(True, T.CLEANED.format(count=1))
    assert report.team_a_channel not in w.world.channels


@pytest.mark.parametrize("bad", [0, 99])
async def test_cleanup_hours_are_clamped(db: Database, delivery: EventDelivery, bad: int) -> None:
    w = build(db, delivery)
    assert (await w.service.cleanup(GUILD, w.host, bad)).ok

"""Match results and ratings against the fake Discord and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db import Database, SqliteDatabase
from bot.db.privacy import forget_user
from bot.db.queries import PlayerRating, queries
from bot.db.sqlite.migrations import latest_version, upgrade
from bot.features.balancer.history import HistoryService
from bot.features.balancer.ratings import Rating, seed
from bot.features.balancer.results import (
    Outcome,
    ResultService,
    ResultStatus,
    parse_outcome,
    rebuild_all,
    rebuild_guild,
)
from bot.features.balancer.rules import ValueSource
from bot.features.balancer.service import BalancerConfig, MatchReport, MatchService
from bot.shared.clock import ManualClock
from bot.shared.common import Reply
from bot.shared.ranks import Rank
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps, reopened
from tests.test_balancer_service import GUILD, World, add_players, build


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


def results_of(w: World) -> ResultService:
    return ResultService(make_deps(w.service.db, w.world, w.clock, timers=w.timers), w.service.is_host)


async def start(w: World, players: list[int]) -> MatchReport:
    report = await w.service.start(GUILD, w.host, players)
    assert isinstance(report, MatchReport)
    return report


async def stored(db: Database, user_id: int) -> PlayerRating | None:
    async with db.read() as conn:
        return await queries.balancer.get_rating(conn, guild_id=GUILD, user_id=user_id)


async def all_ratings(db: Database) -> list[PlayerRating]:
    async with db.read() as conn:
        rows = await queries.balancer.list_guild_ratings(conn, guild_id=GUILD)
    return [dataclasses.replace(r, updated_at=0) for r in rows]


def test_parse_outcome() -> None:
    assert parse_outcome("A") is Outcome.AMBER and parse_outcome(" b ") is Outcome.SAPPHIRE
    assert parse_outcome("abbrechen") is Outcome.ABORTED and parse_outcome("C") is None


async def test_only_hosts_record_and_a_result_moves_the_ratings(db: Database) -> None:
    w = build(db)
    players = add_players(w, 8, w.lobby)
    results = results_of(w)
    report = await start(w, players)
    nobody = players[0]
    assert (await results.record(GUILD, nobody, report.match_id, Outcome.AMBER)).status is ResultStatus.NO_PERMISSION
    assert (await results.record(GUILD, w.host, 999, Outcome.AMBER)).status is ResultStatus.NO_MATCH
    assert await all_ratings(db) == []

    recorded = await results.record(GUILD, w.host, report.match_id, Outcome.AMBER)
    assert recorded.status is ResultStatus.RECORDED and len(recorded.changes) == 8
    ranks = {p: await w.service.ranks.rank_of(GUILD, p) for p in players}
    amber = {p.id for p in report.split.team_a}
    for change in recorded.changes:
        assert change.before == seed(ranks[change.user_id])  # a first rating is seeded from the rank
        assert (change.after.mu > change.before.mu) == (change.user_id in amber)
    for p in players:
        row = await stored(db, p)
        assert row is not None and row.games == 1 and row.wins == (p in amber)
    async with db.read() as conn:
        match = await queries.balancer.get_match(conn, match_id=report.match_id)
    assert match is not None and match.winner == "amber"
    await w.service.end(GUILD, w.host, report.match_id, skip_debrief=True)  # ending keeps the winner
    async with db.read() as conn:
        match = await queries.balancer.get_match(conn, match_id=report.match_id)
    assert match is not None and match.state == "ended" and match.winner == "amber"


async def test_a_second_result_is_refused_unless_a_host_corrects_it(db: Database) -> None:
    w = build(db)
    players = add_players(w, 6, w.lobby)
    results = results_of(w)
    first = await start(w, players)
    second = await start(w, players)
    await results.record(GUILD, w.host, first.match_id, Outcome.AMBER)
    await results.record(GUILD, w.host, second.match_id, Outcome.SAPPHIRE)
    before = await all_ratings(db)

    again = await results.record(GUILD, w.host, first.match_id, Outcome.SAPPHIRE)
    assert again.status is ResultStatus.ALREADY_RECORDED and again.outcome is Outcome.AMBER
    assert await all_ratings(db) == before
    same = await results.record(GUILD, w.host, first.match_id, Outcome.AMBER, correct=True)
    assert same.status is ResultStatus.UNCHANGED

    corrected = await results.record(GUILD, w.host, first.match_id, Outcome.SAPPHIRE, correct=True)
    assert corrected.status is ResultStatus.CORRECTED and len(corrected.changes) == 6
    after = await all_ratings(db)
    assert after != before
    sapphire = {p.id for p in first.split.team_b}
    for row in after:  # both matches now won by sapphire (the teams of the second are the same people)
        assert row.games == 2
    assert all(c.after.mu > c.before.mu for c in corrected.changes if c.user_id in sapphire)
    async with db.transaction() as conn:  # the correction replayed everything: a rebuild changes nothing
        report = await rebuild_guild(conn, GUILD, w.clock.now())
    assert report.changed == 0 and report.matches == 2 and await all_ratings(db) == after

    aborted = await results.record(GUILD, w.host, second.match_id, Outcome.ABORTED, correct=True)
    assert aborted.status is ResultStatus.CORRECTED and aborted.changes == ()
    assert {r.games for r in await all_ratings(db)} == {1}


async def test_unrated_and_aborted_matches_move_no_rating(db: Database) -> None:
    w = build(db)
    players = add_players(w, 6, w.lobby)
    results = results_of(w)
    ended = await start(w, players)
    assert (await w.service.end(GUILD, w.host, ended.match_id, skip_debrief=True)).ok
    aborted = await start(w, players)
    assert (await results.record(GUILD, w.host, aborted.match_id, Outcome.ABORTED)).changes == ()
    assert await all_ratings(db) == []
    again = await results.record(GUILD, w.host, aborted.match_id, Outcome.AMBER)
    assert again.status is ResultStatus.ALREADY_RECORDED and again.outcome is Outcome.ABORTED
    history = HistoryService(db, rated_games=5)
    lines, page = await history.player_history(GUILD, players[0])
    assert page.total_items == 2 and [line.outcome for line in lines] == ["aborted", None]
    assert all(line.delta is None for line in lines)
    stats = await history.stats(GUILD, players[0])
    assert stats.matches == 2 and stats.games == 0 and stats.win_rate is None


async def test_the_balancer_uses_ratings_after_n_rated_games(db: Database) -> None:
    w = build(db)
    players = add_players(w, 6, w.lobby)
    results = results_of(w)
    for n in range(1, 6):
        report = await start(w, players)
        await results.record(GUILD, w.host, report.match_id, Outcome.AMBER)
        for p in players:  # back from the team channels
            w.world.user_moves(GUILD, p, w.lobby)
        preview = await w.service.preview(GUILD, players[0])
        assert not isinstance(preview, Reply)
        sources = {p.source for p in (*preview.team_a, *preview.team_b)}
        assert sources == ({ValueSource.RATING} if n >= 5 else {ValueSource.RANK}), n
        assert preview.win_chance is not None and 0.0 < preview.win_chance < 1.0
    row = await stored(db, players[0])
    assert row is not None and row.games == 5
    assert not isinstance(preview, Reply)
    rated = next(p for p in (*preview.team_a, *preview.team_b) if p.id == players[0])
    assert rated.rating == Rating(row.mu, row.sigma).balance_value

    history = HistoryService(db, rated_games=5)
    top, page = await history.top(GUILD)
    assert page.total_items == 6 and len(top) == 6
    assert [Rating(r.mu, r.sigma).conservative for r in top] == sorted(
        (Rating(r.mu, r.sigma).conservative for r in top), reverse=True
    )
    assert (await HistoryService(db, rated_games=6).top(GUILD))[0] == []  # the minimum to appear
    stats = await history.stats(GUILD, players[0])
    assert stats.games == 5 and stats.trend is not None and stats.trend_matches == 5


async def test_results_ratings_and_numbering_survive_a_restart(db: Database) -> None:
    w = build(db)
    players = add_players(w, 6, w.lobby)
    first = await start(w, players)
    second = await start(w, players)
    await results_of(w).record(GUILD, w.host, first.match_id, Outcome.SAPPHIRE)
    before = await all_ratings(db)
    async with reopened(db) as again:
        clock, world = w.clock, w.world
        service = MatchService(make_deps(again, world, clock), w.service.config)
        results = ResultService(make_deps(again, world, clock), service.is_host)
        double = await results.record(GUILD, w.host, first.match_id, Outcome.AMBER)
        assert double.status is ResultStatus.ALREADY_RECORDED
        assert await all_ratings(again) == before
        assert (await results.record(GUILD, w.host, second.match_id, Outcome.AMBER)).status is ResultStatus.RECORDED
        async with again.read() as conn:
            seqs = [(await queries.balancer.get_result(conn, match_id=m)) for m in (first.match_id, second.match_id)]
        assert [r.seq for r in seqs if r is not None] == [1, 2]
        after = await all_ratings(again)
        reports = await rebuild_all(again, clock.now())
        assert [(r.matches, r.changed) for r in reports] == [(2, 0)]
        assert await all_ratings(again) == after


async def test_replaying_a_random_history_gives_the_stored_ratings(db: Database) -> None:
    w = build(db)
    pool = add_players(w, 10, w.lobby)
    results = results_of(w)
    rng = random.Random(4)
    matches = []
    for _ in range(12):
        report = await start(w, rng.sample(pool, rng.choice([4, 6, 8, 10])))
        matches.append(report.match_id)
    for match_id in rng.sample(matches, len(matches)):  # results come in any order
        await results.record(GUILD, w.host, match_id, rng.choice(list(Outcome)))
    live = await all_ratings(db)
    assert live
    reports = await rebuild_all(db, w.clock.now())
    assert reports[0].changed == 0
    assert await all_ratings(db) == live  # exactly: the same floating-point steps in the same order


async def test_a_forgotten_player_leaves_the_rankings_and_keeps_an_anonymous_slot(db: Database) -> None:
    w = build(db)
    players = add_players(w, 6, w.lobby)
    results = results_of(w)
    for _ in range(2):
        report = await start(w, players)
        await results.record(GUILD, w.host, report.match_id, Outcome.AMBER)
    gone = players[0]
    others = {r.user_id: r for r in await all_ratings(db) if r.user_id != gone}
    counts = await forget_user(db, gone)
    assert counts["balancer ratings"] == 1 and counts["match slots made anonymous"] == 2
    assert await stored(db, gone) is None
    history = HistoryService(db, rated_games=1)
    assert gone not in [r.user_id for r in (await history.top(GUILD))[0]]
    async with db.read() as conn:
        roster = await queries.balancer.list_match_players(conn, match_id=report.match_id)
        changes = await queries.balancer.list_match_changes(conn, match_id=report.match_id)
    assert len(roster) == 6 and gone not in [p.user_id for p in roster]
    assert [p.user_id for p in roster if p.user_id < 0] == [-1]
    assert [c.user_id for c in changes if c.user_id < 0] == [-1]  # the rating change followed the slot
    await rebuild_all(db, w.clock.now())
    rebuilt = {r.user_id: r for r in await all_ratings(db)}
    assert set(rebuilt) == set(others)
    for user_id, row in others.items():  # the same up to the order of a floating-point sum
        assert rebuilt[user_id].games == row.games and abs(rebuilt[user_id].mu - row.mu) < 1e-9


async def test_seeding_uses_the_rank_stored_with_the_match(db: Database) -> None:
    """A rank change between the start and the result does not change the seed (a replay sees
    the rank stored with the match)."""
    w = build(db)
    players = add_players(w, 4, w.lobby)
    report = await start(w, players)
    async with db.read() as conn:
        roster = {p.user_id: p for p in await queries.balancer.list_match_players(conn, match_id=report.match_id)}
    changes = (await results_of(w).record(GUILD, w.host, report.match_id, Outcome.AMBER)).changes
    for change in changes:
        p = roster[change.user_id]
        assert change.before == seed(Rank(p.rank_value, p.rank_subtier))


def _config(w: World) -> BalancerConfig:
    return dataclasses.replace(w.service.config, rated_games=1)


async def test_the_threshold_is_a_setting(db: Database) -> None:
    w = build(db)
    players = add_players(w, 4, w.lobby)
    service = MatchService(make_deps(db, w.world, w.clock), _config(w), rng=random.Random(1))
    report = await service.start(GUILD, w.host, players)
    assert isinstance(report, MatchReport)
    await ResultService(make_deps(db, w.world, w.clock), service.is_host).record(
        GUILD, w.host, report.match_id, Outcome.SAPPHIRE
    )
    for p in players:
        w.world.user_moves(GUILD, p, w.lobby)
    preview = await service.preview(GUILD, players[0])
    assert not isinstance(preview, Reply)
    assert {p.source for p in (*preview.team_a, *preview.team_b)} == {ValueSource.RATING}


async def test_two_processes_record_results_at_once(db: Database) -> None:
    """Two bot processes on one database record the results of matches sharing players at the
    same time: every result gets its own number and the ratings equal the replay."""
    w = build(db)
    pool = add_players(w, 8, w.lobby)
    rng = random.Random(9)
    matches = [(await start(w, rng.sample(pool, 6))).match_id for _ in range(8)]
    async with reopened(db) as other:
        first = results_of(w)
        second = ResultService(make_deps(other, w.world, w.clock), w.service.is_host)
        reports = await asyncio.gather(
            *(
                (first if i % 2 else second).record(
                    GUILD, w.host, match_id, rng.choice([Outcome.AMBER, Outcome.SAPPHIRE])
                )
                for i, match_id in enumerate(matches)
            )
        )
    assert {r.status for r in reports} == {ResultStatus.RECORDED}
    async with db.read() as conn:
        stored_results = [await queries.balancer.get_result(conn, match_id=m) for m in matches]
    seqs = sorted(r.seq for r in stored_results if r is not None)
    assert seqs == list(range(1, 9))
    live = await all_ratings(db)
    assert sum(r.games for r in live) == 8 * 6
    assert (await rebuild_all(db, w.clock.now()))[0].changed == 0
    assert await all_ratings(db) == live


histories = st.lists(
    st.tuples(
        st.integers(2, 6).flatmap(lambda k: st.permutations(list(range(1, 13))).map(lambda ids: ids[: 2 * k])),
        st.sampled_from(list(Outcome)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories, st.randoms(use_true_random=False), st.booleans())
def test_recomputing_from_history_gives_the_stored_ratings(
    tmp_path: Path, history: list[tuple[list[int], Outcome]], rng: random.Random, correct: bool
) -> None:
    """Any matches, results recorded in any order (and maybe one corrected): a replay of the
    stored history gives exactly the stored ratings."""
    asyncio.run(_record_and_rebuild(tmp_path / "h.sqlite3", history, rng, correct))


_guilds = itertools.count(1)


async def _record_and_rebuild(
    path: Path, history: list[tuple[list[int], Outcome]], rng: random.Random, correct: bool
) -> None:
    guild = next(_guilds)  # one database for all examples, a guild of its own for each
    async with SqliteDatabase(path, max_schema_version=latest_version()) as db:
        await upgrade(db, backup=False)
        clock = ManualClock()
        results = ResultService(make_deps(db, FakeDiscord(clock), clock), lambda member: True)
        match_ids = []
        async with db.transaction() as conn:
            for ids, _ in history:
                match_id = await queries.balancer.create_match(
                    conn, guild_id=guild, host_id=1, origin_channel_id=None, seed=None, started_at=1
                )
                half = len(ids) // 2
                await queries.balancer.add_match_players(
                    conn,
                    [
                        {"match_id": match_id, "user_id": u, "team": "amber" if i < half else "sapphire",
                         "rank_value": u % 12, "rank_subtier": 1 + u % 6, "rank_name": "x"}
                        for i, u in enumerate(ids)
                    ],
                )  # fmt: skip
                match_ids.append(match_id)
        order = list(zip(match_ids, [o for _, o in history], strict=True))
        rng.shuffle(order)
        for match_id, outcome in order:
            assert (await results.record(guild, 1, match_id, outcome)).status is ResultStatus.RECORDED
        if correct:
            match_id, outcome = rng.choice(order)
            other = rng.choice([o for o in Outcome if o is not outcome])
            assert (await results.record(guild, 1, match_id, other, correct=True)).status is ResultStatus.CORRECTED
        async with db.read() as conn:
            live = await queries.balancer.list_guild_ratings(conn, guild_id=guild)
        async with db.transaction() as conn:
            report = await rebuild_guild(conn, guild, clock.now())
            replayed = await queries.balancer.list_guild_ratings(conn, guild_id=guild)
        assert report.changed == 0
        assert [(r.user_id, r.mu, r.sigma, r.games, r.wins) for r in replayed] == [
            (r.user_id, r.mu, r.sigma, r.games, r.wins) for r in live
        ]

"""Team balancing as pure functions: properties checked with hypothesis."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.balancer.rules import Player, balance, best_split, choose_bench, score
from bot.shared.ranks import Rank, parse_rank_label

ratings = st.floats(min_value=0, max_value=12, allow_nan=False, allow_infinity=False)


def players_strategy(low: int, high: int) -> st.SearchStrategy[list[Player]]:
    return st.lists(ratings, min_size=low, max_size=high).map(
        lambda rs: [Player(1000 + i, round(r, 3), waiting_since=float(i)) for i, r in enumerate(rs)]
    )


def brute_force_best(players: list[Player]) -> float:
    k = len(players) // 2
    best = float("inf")
    for team_a in itertools.combinations(players, k):
        team_b = [p for p in players if p not in team_a]
        best = min(best, score(team_a, team_b))
    return best


@settings(max_examples=60, deadline=None)
@given(players_strategy(4, 16), st.integers(0, 10_000))
def test_every_player_once_and_teams_even(players: list[Player], seed: int) -> None:
    split = balance(players, random.Random(seed))
    ids = [p.id for p in (*split.team_a, *split.team_b, *split.bench)]
    assert sorted(ids) == sorted(p.id for p in players)  # everyone exactly once: nobody dropped silently
    assert len(split.team_a) == len(split.team_b) <= 6
    assert len(split.bench) == len(players) - 2 * len(split.team_a)
    assert len(split.bench) <= 1 or len(players) > 12


@settings(max_examples=40, deadline=None)
@given(players_strategy(4, 10).filter(lambda ps: len(ps) % 2 == 0))
def test_score_equals_brute_force(players: list[Player]) -> None:
    split = best_split(players, random.Random(0), tolerance=0.0)
    assert split.score == pytest.approx(brute_force_best(players))


@settings(max_examples=40, deadline=None)
@given(players_strategy(4, 12).filter(lambda ps: len(ps) % 2 == 0), st.integers(0, 1000), st.randoms())
def test_independent_of_input_order(players: list[Player], seed: int, shuffler: random.Random) -> None:
    shuffled = list(players)
    shuffler.shuffle(shuffled)
    a = best_split(players, random.Random(seed))
    b = best_split(shuffled, random.Random(seed))
    assert {p.id for p in a.team_a} == {p.id for p in b.team_a}


def test_near_best_pick_varies_with_the_seed() -> None:
    players = [Player(i, 5.0) for i in range(8)]  # all equal: every split is best
    picks = {frozenset(p.id for p in best_split(players, random.Random(s)).team_a) for s in range(20)}
    assert len(picks) > 1


def test_bench_by_host_then_by_shortest_wait() -> None:
    players = [Player(i, 5.0, waiting_since=float(i)) for i in range(15)]
    playing, bench = choose_bench(players, host_bench=[0])
    assert [p.id for p in bench] == [0, 13, 14]  # the host's choice, then the two who came last
    assert len(playing) == 12
    playing, bench = choose_bench(players[:5])
    assert [p.id for p in bench] == [4]


def test_too_few_players_is_an_error() -> None:
    with pytest.raises(ValueError, match="even number"):
        best_split([Player(1, 1.0), Player(2, 2.0)], random.Random(0))


def test_rank_labels() -> None:
    assert parse_rank_label("Ascendant 3") == Rank(10, 3)
    assert parse_rank_label("arc 4") is None  # Arcanist or Archon: not guessed
    assert parse_rank_label("arca 4") == Rank(4, 4) and parse_rank_label("Asc 2") == Rank(10, 2)
    assert parse_rank_label("Eternus ✶") == Rank(11, 6)
    assert parse_rank_label("Phantom IV") == Rank(9, 4)
    assert parse_rank_label("nobody") is None and parse_rank_label("") is None
    assert parse_rank_label("a") is None
    assert Rank(11, 6).label == "Eternus ✶" and Rank(0).label == "Obscurus"
    assert Rank(10, 1).rating < Rank(10, 6).rating < Rank(11, 1).rating

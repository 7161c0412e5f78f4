"""The rating model and the split with ratings: properties (hypothesis) of the pure functions."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.balancer.ratings import (
    SIGMA0,
    K,
    RatedMatch,
    Rating,
    Slot,
    Standing,
    Team,
    apply_match,
    rate,
    replay,
    seed,
    win_chance,
)
from bot.features.balancer.rules import Player, ValueSource, balance, best_split, player_from, score, swap
from bot.shared.ranks import Rank

ratings = st.builds(Rating, mu=st.floats(0.0, 60.0), sigma=st.floats(0.5, SIGMA0))
teams = st.integers(1, 6).flatmap(
    lambda n: st.tuples(st.lists(ratings, min_size=n, max_size=n), st.lists(ratings, min_size=n, max_size=n))
)


@settings(max_examples=300, deadline=None)
@given(teams, st.sampled_from(list(Team)))
def test_a_win_never_lowers_a_winners_mu_nor_raises_a_losers(
    pair: tuple[list[Rating], list[Rating]], winner: Team
) -> None:
    amber, sapphire = pair
    new_a, new_b = rate(amber, sapphire, winner)
    winners, losers = (
        ((amber, new_a), (sapphire, new_b)) if winner is Team.AMBER else ((sapphire, new_b), (amber, new_a))
    )
    assert all(after.mu >= before.mu for before, after in zip(*winners, strict=True))
    assert all(after.mu <= before.mu for before, after in zip(*losers, strict=True))


def test_seed_maps_the_rank_scale_onto_the_conservative_rating() -> None:
    for rank in (Rank(0), Rank(1, 1), Rank(7, 3), Rank(11, 6)):
        rating = seed(rank)
        assert rating.sigma == SIGMA0
        assert abs(rating.balance_value - rank.rating) < 1e-12  # a seeded player balances like their rank
        assert abs(rating.conservative - (rating.mu - K * rating.sigma)) < 1e-12
    assert seed(Rank(11, 6)).mu > seed(Rank(11, 1)).mu > seed(Rank(10, 6)).mu


def test_win_chance_is_even_for_equal_teams_and_favours_the_stronger() -> None:
    even = [seed(Rank(7))] * 6
    assert abs(win_chance(even, even) - 0.5) < 1e-12
    assert win_chance([seed(Rank(9))] * 6, even) > 0.6


matches = st.lists(
    st.tuples(
        st.permutations(list(range(1, 11))).map(lambda ids: ids[: 2 * 3]),
        st.sampled_from(list(Team)),
        st.lists(st.integers(0, 11), min_size=10, max_size=10),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(matches)
def test_applying_matches_one_by_one_equals_the_replay(history: list[tuple[list[int], Team, list[int]]]) -> None:
    """What the bot does live (the stored standing of a known player, a snapshot of a new one)
    gives exactly what the replay from history gives."""
    live: dict[int, Standing] = {}
    played = []
    for number, (ids, winner, rank_values) in enumerate(history, 1):
        slots = tuple(
            Slot(
                u,
                Team.AMBER if i < 3 else Team.SAPPHIRE,
                Rank(rank_values[u - 1]),
                live[u].rating if u in live else None,
            )
            for i, u in enumerate(ids)
        )
        match = RatedMatch(number, winner, slots)
        after, _ = apply_match(live, match)
        live.update(after)
        played.append(match)
    replayed, changes = replay(played)
    assert replayed == live
    assert len(changes) == 6 * len(history)


def brute_force_best(players: list[Player]) -> float:
    best = float("inf")
    for team_a in itertools.combinations(players, len(players) // 2):
        team_b = [p for p in players if p not in team_a]
        best = min(best, score(team_a, team_b))
    return best


players_with_ratings = st.integers(2, 5).flatmap(
    lambda half: st.lists(
        st.builds(
            Player,
            id=st.integers(1, 10**6),
            rating=st.floats(0.0, 14.0),
            source=st.sampled_from(list(ValueSource)),
        ),
        min_size=2 * half,
        max_size=2 * half,
        unique_by=lambda p: p.id,
    )
)


@settings(max_examples=150, deadline=None)
@given(players_with_ratings, st.integers(0, 2**31))
def test_split_with_ratings_places_everyone_once_and_matches_brute_force(players: list[Player], rng_seed: int) -> None:
    split = best_split(players, random.Random(rng_seed), tolerance=0.0)
    placed = [p.id for p in (*split.team_a, *split.team_b)]
    assert sorted(placed) == sorted(p.id for p in players)
    assert len(split.team_a) == len(split.team_b)
    assert abs(split.score - brute_force_best(players)) < 1e-9
    near = best_split(players, random.Random(rng_seed))  # the default: a random near-best split
    assert near.score <= brute_force_best(players) + 0.25 + 1e-9


def test_rated_players_use_their_conservative_rating_after_n_games() -> None:
    rank = Rank(5, 3)
    stored = Standing(Rating(40.0, 4.0), games=4, wins=3)
    assert player_from(1, rank, stored, rated_games=5).source is ValueSource.RANK
    assert player_from(1, rank, stored, rated_games=5).rating == rank.rating
    rated = player_from(1, rank, Standing(Rating(40.0, 4.0), games=5, wins=3), rated_games=5)
    assert rated.source is ValueSource.RATING and rated.rating == (40.0 - K * 4.0) / 4.0
    fresh = player_from(2, rank, None, rated_games=5)
    assert fresh.source is ValueSource.RANK and fresh.skill == seed(rank)


def test_reroll_avoids_the_current_split_and_swap_exchanges_two_players() -> None:
    players = [Player(i, 5.0) for i in range(1, 9)]  # all equal: every split is near-best
    first = balance(players, random.Random(1))
    again = balance(players, random.Random(1), avoid=[p.id for p in first.team_a])
    assert {p.id for p in again.team_a} != {p.id for p in first.team_a}
    a, b = first.team_a[0].id, first.team_b[0].id
    swapped = swap(first, b, a)
    assert b in {p.id for p in swapped.team_a} and a in {p.id for p in swapped.team_b}
    assert len(swapped.team_a) == len(first.team_a)
    assert swapped.win_chance is None  # no skill ratings given


def test_bench_prints_its_figures() -> None:
    from bot.devtools.balancer_bench import run

    lines: list[str] = []
    figures = run(lines.append, repeat=2)
    assert len(lines) == len(figures) == 3
    assert all(value > 0 for value in figures.values())  # measured, not asserted against a budget

"""Team balancing: exhaustive search over splits, the old bot's score, a seeded pick among the best."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
import random
from collections.abc import Collection, Sequence

from bot.features.balancer.ratings import Rating, Standing, seed, win_chance
from bot.shared.ranks import Rank

MIN_PLAYERS = 4
MAX_PLAYERS = 12  # 6v6


class ValueSource(enum.Enum):
    """Where a player's balancing value comes from."""

    RANK = "rank"  # their rank (fewer rated matches than the threshold)
    RATING = "rating"  # their conservative OpenSkill rating, on the rank scale


@dataclasses.dataclass(frozen=True)
class Player:
    id: int
    rating: float  # the balancing value (rank scale)
    waiting_since: float = 0.0  # when they joined the channel: the longest waiting play first
    source: ValueSource = ValueSource.RANK
    skill: Rating | None = None  # their OpenSkill rating (stored or seeded), for the win chance
    rank_label: str = ""  # their rank as shown ("Ascendant 3"), whatever the value came from


@dataclasses.dataclass(frozen=True)
class Split:
    team_a: tuple[Player, ...]
    team_b: tuple[Player, ...]
    bench: tuple[Player, ...]
    score: float

    @property
    def avg_diff(self) -> float:
        return abs(_avg(self.team_a) - _avg(self.team_b))

    @property
    def win_chance(self) -> float | None:
        """Amber's predicted chance to win; None unless every player has a skill rating."""
        a = [p.skill for p in self.team_a if p.skill is not None]
        b = [p.skill for p in self.team_b if p.skill is not None]
        if len(a) != len(self.team_a) or len(b) != len(self.team_b) or not a or not b:
            return None
        return win_chance(a, b)

    @property
    def mark(self) -> str:
        """The old bot's grade of the average difference."""
        return "✅" if self.avg_diff < 1.0 else "⚠️" if self.avg_diff < 2.0 else "❌"


def _avg(team: Sequence[Player]) -> float:
    return sum(p.rating for p in team) / len(team) if team else 0.0


def team_sum(team: Sequence[Player]) -> float:
    return sum(p.rating for p in team)


def team_avg(team: Sequence[Player]) -> float:
    return _avg(team)


def team_var(team: Sequence[Player]) -> float:
    """The old bot's variance of a team's values (population variance)."""
    return _var(team)


def _var(team: Sequence[Player]) -> float:
    if not team:
        return 0.0
    mean = _avg(team)
    return sum((p.rating - mean) ** 2 for p in team) / len(team)


def score(team_a: Sequence[Player], team_b: Sequence[Player]) -> float:
    """|sum A - sum B| + 2 |avg A - avg B| + 0.5 (var A + var B); an empty team is infinitely bad."""
    if not team_a or not team_b:
        return math.inf
    sum_a, sum_b = sum(p.rating for p in team_a), sum(p.rating for p in team_b)
    return abs(sum_a - sum_b) + 2.0 * abs(_avg(team_a) - _avg(team_b)) + 0.5 * (_var(team_a) + _var(team_b))


def choose_bench(players: Sequence[Player], host_bench: Sequence[int] = ()) -> tuple[list[Player], list[Player]]:
    """(playing, bench): at most 12 play and an even number; the host's choice first, then the
    shortest waits sit out, so whoever waited longest plays. Nobody is dropped silently."""
    chosen = [p for p in players if p.id in set(host_bench)]
    rest = sorted((p for p in players if p.id not in set(host_bench)), key=lambda p: (p.waiting_since, p.id))
    playing = rest
    size = min(MAX_PLAYERS, len(playing))
    size -= size % 2
    return playing[:size], chosen + playing[size:]


def best_split(
    players: Sequence[Player], rng: random.Random, *, tolerance: float = 0.25, avoid: Collection[int] = ()
) -> Split:
    """The best split of an even 4..12 players; among splits within `tolerance` of the best, a
    seeded random one (so the same group does not always get the same teams). The result does
    not depend on the order the players come in. `avoid`: the ids of one team of a split to
    leave out ("Neu würfeln"), unless it is the only near-best one."""
    if len(players) < MIN_PLAYERS or len(players) > MAX_PLAYERS or len(players) % 2:
        raise ValueError(f"need an even number of {MIN_PLAYERS}..{MAX_PLAYERS} players, got {len(players)}")
    ordered = sorted(players, key=lambda p: (-p.rating, p.id))
    k = len(ordered) // 2
    first, others = ordered[0], ordered[1:]
    candidates: list[tuple[float, tuple[Player, ...], tuple[Player, ...]]] = []
    for combo in itertools.combinations(range(len(others)), k - 1):  # the first player is always in A: no mirrors
        chosen = set(combo)
        team_a = (first, *(others[i] for i in combo))
        team_b = tuple(others[i] for i in range(len(others)) if i not in chosen)
        candidates.append((score(team_a, team_b), team_a, team_b))
    best = min(c[0] for c in candidates)
    near = [c for c in candidates if c[0] <= best + tolerance + 1e-9]
    if avoid:
        other = [c for c in near if {p.id for p in c[1]} != set(avoid) and {p.id for p in c[2]} != set(avoid)]
        near = other or near
    s, team_a, team_b = near[rng.randrange(len(near))]
    return Split(team_a, team_b, (), s)


def balance(
    players: Sequence[Player],
    rng: random.Random,
    *,
    host_bench: Sequence[int] = (),
    tolerance: float = 0.25,
    avoid: Collection[int] = (),
) -> Split:
    playing, bench = choose_bench(players, host_bench)
    split = best_split(playing, rng, tolerance=tolerance, avoid=avoid)
    return dataclasses.replace(split, bench=tuple(bench))


def swap(split: Split, first: int, second: int) -> Split:
    """The split with two players of different teams exchanged (the host's swap before the start)."""
    a_ids, b_ids = {p.id for p in split.team_a}, {p.id for p in split.team_b}
    if first in b_ids:
        first, second = second, first
    if first not in a_ids or second not in b_ids:
        raise ValueError("swap two players of different teams")
    by_id = {p.id: p for p in (*split.team_a, *split.team_b)}
    team_a = tuple(by_id[second] if p.id == first else p for p in split.team_a)
    team_b = tuple(by_id[first] if p.id == second else p for p in split.team_b)
    return Split(team_a, team_b, split.bench, score(team_a, team_b))


def player_from(
    user_id: int, rank: Rank, stored: Standing | None, *, rated_games: int, waiting_since: float = 0.0
) -> Player:
    """A player's balancing value: their conservative rating once they have `rated_games` rated
    matches, else their rank's value; their skill (stored, else seeded from the rank) for the
    win chance."""
    if stored is not None and stored.games >= rated_games:
        return Player(
            user_id, stored.rating.balance_value, waiting_since, ValueSource.RATING, stored.rating, rank.label
        )
    skill = stored.rating if stored is not None else seed(rank)
    return Player(user_id, rank.rating, waiting_since, ValueSource.RANK, skill, rank.label)

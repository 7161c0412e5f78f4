"""Team balancing: exhaustive search over splits, the old bot's score, a seeded pick among the best."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections.abc import Sequence

MIN_PLAYERS = 4
MAX_PLAYERS = 12  # 6v6


@dataclasses.dataclass(frozen=True)
class Player:
    id: int
    rating: float
    waiting_since: float = 0.0  # when they joined the channel: the longest waiting play first


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
    def mark(self) -> str:
        """The old bot's grade of the average difference."""
        return "✅" if self.avg_diff < 1.0 else "⚠️" if self.avg_diff < 2.0 else "❌"


def _avg(team: Sequence[Player]) -> float:
    return sum(p.rating for p in team) / len(team) if team else 0.0


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


def best_split(players: Sequence[Player], rng: random.Random, *, tolerance: float = 0.25) -> Split:
    """The best split of an even 4..12 players; among splits within `tolerance` of the best, a
    seeded random one (so the same group does not always get the same teams). The result does
    not depend on the order the players come in."""
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
    s, team_a, team_b = near[rng.randrange(len(near))]
    return Split(team_a, team_b, (), s)


def balance(
    players: Sequence[Player], rng: random.Random, *, host_bench: Sequence[int] = (), tolerance: float = 0.25
) -> Split:
    playing, bench = choose_bench(players, host_bench)
    split = best_split(playing, rng, tolerance=tolerance)
    return dataclasses.replace(split, bench=tuple(bench))

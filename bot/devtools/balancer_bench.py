"""Bench figures of the balancer's ratings: `python -m bot.devtools.balancer_bench`.

Prints the median time of one OpenSkill update of a 6v6 match, of the exhaustive 12-player split
with ratings (462 splits scored, a near-best one picked, the win chance computed) and of a replay
of 1000 rated 6v6 matches (what `deadlock-bot ratings rebuild` computes per guild, without the
database)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from bot.features.balancer.ratings import RatedMatch, Slot, Team, rate, replay, seed
from bot.features.balancer.rules import Player, ValueSource, balance
from bot.shared.ranks import Rank


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(out: Callable[[str], None] = print, *, repeat: int = 50) -> dict[str, float]:
    rng = random.Random(7)
    ranks = [Rank(rng.randint(1, 11), rng.randint(1, 6)) for _ in range(12)]
    amber, sapphire = [seed(r) for r in ranks[:6]], [seed(r) for r in ranks[6:]]
    players = [Player(i, seed(r).balance_value, float(i), ValueSource.RATING, seed(r)) for i, r in enumerate(ranks, 1)]
    history = [
        RatedMatch(
            n,
            rng.choice(list(Team)),
            tuple(
                Slot(u, Team.AMBER if i < 6 else Team.SAPPHIRE, ranks[u % 12])
                for i, u in enumerate(rng.sample(range(1, 41), 12))
            ),
        )
        for n in range(1000)
    ]
    figures = {
        "rating update 6v6 (ms)": _median_ms(lambda: rate(amber, sapphire, Team.AMBER), repeat),
        "12-player split with ratings + win chance (ms)": _median_ms(lambda: balance(players, rng).win_chance, repeat),
        "replay of 1000 rated 6v6 matches (ms)": _median_ms(lambda: replay(history), max(1, repeat // 10)),
    }
    for name, value in figures.items():
        out(f"{name:<50} {value:8.3f}")
    return figures


if __name__ == "__main__":
    run()

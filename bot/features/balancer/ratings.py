"""OpenSkill ratings for the balancer: pure functions, no database.

Scale (documented in the README):

* a player's first rating is seeded from their rank: the rank scale `r` (tier + (sub-tier - 1) / 6,
  0 for no rank .. 11.83 for Eternus ✶) maps onto mu = MU_PER_RANK * r + K * SIGMA0 with
  sigma = SIGMA0 (OpenSkill's default 25/3);
* the balancer's value of a rated player is the conservative rating mu - K * sigma, divided by
  MU_PER_RANK: back on the rank scale, so rated and unrated players are balanced together; a
  freshly seeded player's value is exactly their rank's value;
* the model is OpenSkill's Plackett-Luce with its default beta (25/6) and tau (25/300).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence

from openskill.models import PlackettLuce, PlackettLuceRating

from bot.shared.ranks import Rank

SIGMA0 = 25.0 / 3.0
MU_PER_RANK = 4.0  # one rank = 4 mu points (about one beta: a rank higher wins ~3 of 4 duels)
K = 1.0  # conservative rating = mu - K * sigma

_MODEL = PlackettLuce()


class Team(enum.Enum):
    AMBER = "amber"
    SAPPHIRE = "sapphire"


@dataclasses.dataclass(frozen=True)
class Rating:
    mu: float
    sigma: float

    @property
    def conservative(self) -> float:
        return self.mu - K * self.sigma

    @property
    def balance_value(self) -> float:
        """The value the balancer uses, on the rank scale (0 .. ~12)."""
        return self.conservative / MU_PER_RANK


def seed(rank: Rank) -> Rating:
    """A player's first rating: their rank's value on the rating scale."""
    return Rating(MU_PER_RANK * rank.rating + K * SIGMA0, SIGMA0)


def _model_team(team: Sequence[Rating]) -> list[PlackettLuceRating]:
    return [_MODEL.rating(mu=r.mu, sigma=r.sigma) for r in team]


def rate(amber: Sequence[Rating], sapphire: Sequence[Rating], winner: Team) -> tuple[list[Rating], list[Rating]]:
    """The ratings of both teams after `winner` won (same order as given)."""
    if not amber or not sapphire:
        raise ValueError("both teams need players")
    ranks = [1.0, 2.0] if winner is Team.AMBER else [2.0, 1.0]
    new_a, new_b = _MODEL.rate([_model_team(amber), _model_team(sapphire)], ranks=ranks)
    return [Rating(r.mu, r.sigma) for r in new_a], [Rating(r.mu, r.sigma) for r in new_b]


def win_chance(amber: Sequence[Rating], sapphire: Sequence[Rating]) -> float:
    """The probability that amber wins, by the model (0.5 for equal teams)."""
    if not amber or not sapphire:
        raise ValueError("both teams need players")
    return _MODEL.predict_win([_model_team(amber), _model_team(sapphire)])[0]


@dataclasses.dataclass(frozen=True)
class Slot:
    """One player of a rated match, as a replay sees it."""

    user_id: int
    team: Team
    rank: Rank  # the rank stored with the match: seeds a player the replay has not seen yet
    snapshot: Rating | None = None  # the stored rating before the match, if any


@dataclasses.dataclass(frozen=True)
class RatedMatch:
    match_id: int
    winner: Team
    slots: tuple[Slot, ...]


@dataclasses.dataclass(frozen=True)
class Standing:
    rating: Rating
    games: int = 0
    wins: int = 0


@dataclasses.dataclass(frozen=True)
class MatchChange:
    match_id: int
    user_id: int
    before: Rating
    after: Rating


def apply_match(standings: Mapping[int, Standing], match: RatedMatch) -> tuple[dict[int, Standing], list[MatchChange]]:
    """The standings of the match's players after it, and their changes. A player not in
    `standings` starts from the match's snapshot of them, else from their rank's seed."""
    before: dict[int, Standing] = {}
    for slot in match.slots:
        known = standings.get(slot.user_id)
        before[slot.user_id] = known or Standing(slot.snapshot or seed(slot.rank))
    # by user id: the same order (and so the same floating-point sums) live and in a replay
    amber = sorted(s.user_id for s in match.slots if s.team is Team.AMBER)
    sapphire = sorted(s.user_id for s in match.slots if s.team is Team.SAPPHIRE)
    new_a, new_b = rate([before[u].rating for u in amber], [before[u].rating for u in sapphire], match.winner)
    after: dict[int, Standing] = {}
    changes = []
    for team, ids, ratings in ((Team.AMBER, amber, new_a), (Team.SAPPHIRE, sapphire, new_b)):
        for user_id, rating in zip(ids, ratings, strict=True):
            old = before[user_id]
            after[user_id] = Standing(rating, old.games + 1, old.wins + (team is match.winner))
            changes.append(MatchChange(match.match_id, user_id, old.rating, rating))
    return after, changes


def replay(matches: Iterable[RatedMatch]) -> tuple[dict[int, Standing], list[MatchChange]]:
    """Every player's standing after the matches in order, and every change on the way."""
    standings: dict[int, Standing] = {}
    changes: list[MatchChange] = []
    for match in matches:
        after, match_changes = apply_match(standings, match)
        standings.update(after)
        changes.extend(match_changes)
    return standings, changes

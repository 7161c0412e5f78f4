"""Match results and the ratings they move: record once, correct with confirmation, rebuild.

A result is stored once per match (`balancer_results`, keyed by the match): the winning team,
or `aborted` (the match stays unrated). A second result is refused unless a host confirms it
as a correction; a correction replays the guild's rated matches (the ratings after it depend
on it). Each rated match stores every playing player's rating before and after, and the
results are numbered in the order they were recorded, so a replay of the history gives the
stored ratings again (`deadlock-bot ratings rebuild`).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import logging
from collections.abc import Callable, Sequence

from bot.db import Database
from bot.db.connections import WriteConn
from bot.db.queries import MatchPlayer, PlayerRating, RatedSlot, queries
from bot.discord_glue.ports import MemberInfo
from bot.features.balancer.ratings import MatchChange, RatedMatch, Rating, Slot, Standing, Team, apply_match, replay
from bot.shared.common import KeyedLocks
from bot.shared.deps import Deps
from bot.shared.ranks import Rank

log = logging.getLogger(__name__)
RECORD_ATTEMPTS = 5  # a result number taken by another process at the same moment: try the next


class Outcome(enum.Enum):
    AMBER = "amber"
    SAPPHIRE = "sapphire"
    ABORTED = "aborted"

    @property
    def winner(self) -> Team | None:
        return None if self is Outcome.ABORTED else Team(self.value)


_OUTCOME_WORDS = {
    "a": Outcome.AMBER,
    "amber": Outcome.AMBER,
    "b": Outcome.SAPPHIRE,
    "sapphire": Outcome.SAPPHIRE,
    "abbrechen": Outcome.ABORTED,
    "abgebrochen": Outcome.ABORTED,
    "abbruch": Outcome.ABORTED,
}


def parse_outcome(word: str) -> Outcome | None:
    """`A`, `B` or `abbrechen` as typed after `!balance result <id>`; None if it is none of them."""
    return _OUTCOME_WORDS.get(word.strip().lower())


class ResultStatus(enum.Enum):
    RECORDED = "recorded"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"  # a correction to the result it already has
    ALREADY_RECORDED = "already_recorded"  # needs a host's confirmed correction
    NO_PERMISSION = "no_permission"
    NO_MATCH = "no_match"


@dataclasses.dataclass(frozen=True)
class ResultReport:
    status: ResultStatus
    match_id: int
    outcome: Outcome | None = None  # the result stored now (or the one already stored)
    changes: tuple[MatchChange, ...] = ()


@dataclasses.dataclass(frozen=True)
class RebuildReport:
    guild_id: int
    matches: int
    players: int
    changed: int  # players whose stored rating differed from the replay


def _rank(row: MatchPlayer | RatedSlot) -> Rank:
    return Rank(row.rank_value, row.rank_subtier)


def _standing(row: PlayerRating) -> Standing:
    return Standing(Rating(row.mu, row.sigma), row.games, row.wins)


async def _write(conn: WriteConn, guild_id: int, standings: dict[int, Standing], now: int) -> None:
    await queries.balancer.upsert_ratings(
        conn,
        [
            {"guild_id": guild_id, "user_id": user_id, "mu": s.rating.mu, "sigma": s.rating.sigma,
             "games": s.games, "wins": s.wins, "updated_at": now}
            for user_id, s in sorted(standings.items())
            if user_id > 0  # anonymous slots of forgotten players have no rating
        ],
    )  # fmt: skip


async def _write_changes(conn: WriteConn, changes: Sequence[MatchChange]) -> None:
    await queries.balancer.add_rating_changes(
        conn,
        [
            {"match_id": c.match_id, "user_id": c.user_id, "mu_before": c.before.mu,
             "sigma_before": c.before.sigma, "mu_after": c.after.mu, "sigma_after": c.after.sigma}
            for c in changes
        ],
    )  # fmt: skip


def _history(slots: Sequence[RatedSlot]) -> list[RatedMatch]:
    matches = []
    for (_, match_id, outcome), group in itertools.groupby(slots, key=lambda s: (s.seq, s.match_id, s.outcome)):
        rows = list(group)
        matches.append(
            RatedMatch(
                match_id,
                Team(outcome),
                tuple(
                    Slot(
                        r.user_id,
                        Team(r.team),
                        _rank(r),
                        Rating(r.mu_before, r.sigma_before)
                        if r.mu_before is not None and r.sigma_before is not None
                        else None,
                    )
                    for r in rows
                ),
            )
        )
    return matches


async def rebuild_guild(conn: WriteConn, guild_id: int, now: int) -> RebuildReport:
    """Replay the guild's rated matches in the order their results were recorded and store the
    ratings and every match's before/after again (inside the caller's transaction)."""
    history = _history(await queries.balancer.list_rated_slots(conn, guild_id=guild_id))
    standings, changes = replay(history)
    old = {r.user_id: r for r in await queries.balancer.list_guild_ratings(conn, guild_id=guild_id)}
    changed = sum(
        1
        for user_id, s in standings.items()
        if user_id > 0
        and (
            (row := old.get(user_id)) is None
            or (row.mu, row.sigma, row.games, row.wins) != (s.rating.mu, s.rating.sigma, s.games, s.wins)
        )
    ) + len(set(old) - set(standings))
    await queries.balancer.delete_guild_rating_changes(conn, guild_id=guild_id)
    await queries.balancer.delete_guild_ratings(conn, guild_id=guild_id)
    await _write(conn, guild_id, standings, now)
    await _write_changes(conn, changes)
    return RebuildReport(guild_id, len(history), len([u for u in standings if u > 0]), changed)


async def rebuild_all(db: Database, now: int) -> list[RebuildReport]:
    """`deadlock-bot ratings rebuild`: every guild with results, each in one transaction."""
    async with db.read() as conn:
        guilds = [row.guild_id for row in await queries.balancer.list_rated_guilds(conn)]
    reports = []
    for guild_id in guilds:
        async with db.exclusive(_lock_name(guild_id)), db.transaction() as conn:
            reports.append(await rebuild_guild(conn, guild_id, now))
    return reports


def _lock_name(guild_id: int) -> str:
    """A guild's ratings change one result (or rebuild) at a time across processes sharing the
    database; without it a rebuild could overwrite a result recorded meanwhile."""
    return f"balancer_ratings:{guild_id}"


class ResultService:
    """`!balance result` and the match message's result buttons."""

    def __init__(self, deps: Deps, is_host: Callable[[MemberInfo | None], bool]) -> None:
        self.db = deps.db
        self.view = deps.view
        self.clock = deps.clock
        self.is_host = is_host  # the balancer's host check (MatchService.is_host)
        self._locks = KeyedLocks()

    async def record(
        self, guild_id: int, actor_id: int, match_id: int, outcome: Outcome, *, correct: bool = False
    ) -> ResultReport:
        """Record the match's result; with `correct` (a host's confirmation) replace an existing one."""
        if not self.is_host(self.view.member(guild_id, actor_id)):
            return ResultReport(ResultStatus.NO_PERMISSION, match_id)
        async with self._locks(("ratings", guild_id)), self.db.exclusive(_lock_name(guild_id)):
            async with self.db.read() as conn:
                match = await queries.balancer.get_match(conn, match_id=match_id)
            if match is None or match.guild_id != guild_id:
                return ResultReport(ResultStatus.NO_MATCH, match_id)
            for _ in range(RECORD_ATTEMPTS):
                report = await self._try_record(guild_id, actor_id, match_id, outcome, correct)
                if report is not None:
                    return report
            raise RuntimeError(f"the result of match {match_id} could not be numbered")

    async def _try_record(
        self, guild_id: int, actor_id: int, match_id: int, outcome: Outcome, correct: bool
    ) -> ResultReport | None:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            seq = await queries.balancer.record_result(
                conn, match_id=match_id, guild_id=guild_id, outcome=outcome.value, recorded_by=actor_id,
                recorded_at=now,
            )  # fmt: skip
            if seq is not None:
                changes = await self._rate(conn, guild_id, match_id, outcome, now)
                return ResultReport(ResultStatus.RECORDED, match_id, outcome, tuple(changes))
            existing = await queries.balancer.get_result(conn, match_id=match_id)
            if existing is None:
                return None  # another process took this result number: try again
            stored = Outcome(existing.outcome)
            if not correct:
                return ResultReport(ResultStatus.ALREADY_RECORDED, match_id, stored)
            if stored is outcome:
                return ResultReport(ResultStatus.UNCHANGED, match_id, stored)
            await queries.balancer.correct_result(
                conn, match_id=match_id, outcome=outcome.value, recorded_by=actor_id, corrected_at=now
            )
            winner = outcome.winner
            await queries.balancer.set_match_winner(conn, match_id=match_id, winner=winner.value if winner else None)
            await rebuild_guild(conn, guild_id, now)
            stored_changes = await queries.balancer.list_match_changes(conn, match_id=match_id)
        log.info("match %s: result corrected from %s to %s by %s", match_id, stored.value, outcome.value, actor_id)
        return ResultReport(
            ResultStatus.CORRECTED,
            match_id,
            outcome,
            tuple(
                MatchChange(match_id, c.user_id, Rating(c.mu_before, c.sigma_before), Rating(c.mu_after, c.sigma_after))
                for c in stored_changes
            ),
        )

    async def _rate(
        self, conn: WriteConn, guild_id: int, match_id: int, outcome: Outcome, now: int
    ) -> list[MatchChange]:
        """Move the ratings of the match's players by its result (nothing for an aborted match)."""
        winner = outcome.winner
        await queries.balancer.set_match_winner(conn, match_id=match_id, winner=winner.value if winner else None)
        if winner is None:
            return []
        roster = [p for p in await queries.balancer.list_match_players(conn, match_id=match_id) if p.team != "bench"]
        standings: dict[int, Standing] = {}
        for p in roster:
            row = await queries.balancer.get_rating(conn, guild_id=guild_id, user_id=p.user_id)
            if row is not None:
                standings[p.user_id] = _standing(row)
        slots = tuple(
            Slot(p.user_id, Team(p.team), _rank(p), standings[p.user_id].rating if p.user_id in standings else None)
            for p in roster
        )
        after, changes = apply_match(standings, RatedMatch(match_id, winner, slots))
        await _write(conn, guild_id, after, now)
        await _write_changes(conn, changes)
        return changes

    async def ratings_of(self, guild_id: int, user_ids: Sequence[int]) -> dict[int, PlayerRating]:
        out = {}
        async with self.db.read() as conn:
            for user_id in user_ids:
                row = await queries.balancer.get_rating(conn, guild_id=guild_id, user_id=user_id)
                if row is not None:
                    out[user_id] = row
        return out

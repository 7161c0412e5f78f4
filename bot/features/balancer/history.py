"""Reading the balancer's past: a player's or the guild's matches, the leaderboard, a player's stats."""

from __future__ import annotations

import dataclasses

from bot.db import Database
from bot.db.queries import GuildHistoryEntry, HistoryEntry, MatchPlayer, PlayerRating, queries
from bot.features.balancer.ratings import K, Rating

PAGE_SIZE = 5  # matches per history page
TOP_PAGE_SIZE = 10
TREND_MATCHES = 5


@dataclasses.dataclass(frozen=True)
class Page:
    number: int  # 0-based
    total_items: int
    size: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total_items // self.size))


@dataclasses.dataclass(frozen=True)
class MatchLine:
    """One match in a history: the viewed player's entry (if any), its roster."""

    match_id: int
    started_at: int
    state: str
    outcome: str | None
    roster: tuple[MatchPlayer, ...]
    entry: HistoryEntry | None = None

    @property
    def delta(self) -> float | None:
        """The viewed player's change of the conservative rating in this match."""
        e = self.entry
        if e is None or e.mu_before is None or e.sigma_before is None or e.mu_after is None or e.sigma_after is None:
            return None
        return Rating(e.mu_after, e.sigma_after).conservative - Rating(e.mu_before, e.sigma_before).conservative


@dataclasses.dataclass(frozen=True)
class Stats:
    user_id: int
    matches: int  # every match they were in (rated or not)
    rating: PlayerRating | None
    trend: float | None  # change of the conservative rating over their last rated matches
    trend_matches: int

    @property
    def games(self) -> int:
        return self.rating.games if self.rating else 0

    @property
    def wins(self) -> int:
        return self.rating.wins if self.rating else 0

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.games if self.games else None


class HistoryService:
    def __init__(self, db: Database, *, rated_games: int) -> None:
        self.db = db
        self.rated_games = rated_games

    async def player_history(self, guild_id: int, user_id: int, page: int = 0) -> tuple[list[MatchLine], Page]:
        async with self.db.read() as conn:
            total = await queries.balancer.count_player_matches(conn, guild_id=guild_id, user_id=user_id) or 0
            info = Page(max(0, min(page, -(-total // PAGE_SIZE) - 1)), total, PAGE_SIZE)
            entries = await queries.balancer.list_player_history(
                conn, guild_id=guild_id, user_id=user_id, limit=PAGE_SIZE, offset=info.number * PAGE_SIZE
            )
            lines = [
                MatchLine(
                    e.match_id,
                    e.started_at,
                    e.state,
                    e.outcome,
                    tuple(await queries.balancer.list_match_players(conn, match_id=e.match_id)),
                    e,
                )
                for e in entries
            ]
        return lines, info

    async def guild_history(self, guild_id: int, page: int = 0) -> tuple[list[MatchLine], Page]:
        async with self.db.read() as conn:
            total = await queries.balancer.count_guild_matches(conn, guild_id=guild_id) or 0
            info = Page(max(0, min(page, -(-total // PAGE_SIZE) - 1)), total, PAGE_SIZE)
            entries: list[GuildHistoryEntry] = await queries.balancer.list_guild_history(
                conn, guild_id=guild_id, limit=PAGE_SIZE, offset=info.number * PAGE_SIZE
            )
            lines = [
                MatchLine(
                    e.match_id,
                    e.started_at,
                    e.state,
                    e.outcome,
                    tuple(await queries.balancer.list_match_players(conn, match_id=e.match_id)),
                )
                for e in entries
            ]
        return lines, info

    async def top(self, guild_id: int, page: int = 0) -> tuple[list[PlayerRating], Page]:
        """The leaderboard: players with at least `rated_games` rated matches, by mu - K*sigma."""
        async with self.db.read() as conn:
            total = await queries.balancer.count_leaderboard(conn, guild_id=guild_id, min_games=self.rated_games) or 0
            info = Page(max(0, min(page, -(-total // TOP_PAGE_SIZE) - 1)), total, TOP_PAGE_SIZE)
            rows = await queries.balancer.list_leaderboard(
                conn,
                guild_id=guild_id,
                min_games=self.rated_games,
                k=K,
                limit=TOP_PAGE_SIZE,
                offset=info.number * TOP_PAGE_SIZE,
            )
        return rows, info

    async def stats(self, guild_id: int, user_id: int) -> Stats:
        async with self.db.read() as conn:
            matches = await queries.balancer.count_player_matches(conn, guild_id=guild_id, user_id=user_id) or 0
            rating = await queries.balancer.get_rating(conn, guild_id=guild_id, user_id=user_id)
            recent = await queries.balancer.list_player_history(
                conn, guild_id=guild_id, user_id=user_id, limit=50, offset=0
            )
        rated = [MatchLine(e.match_id, e.started_at, e.state, e.outcome, (), e) for e in recent]
        deltas = [d for line in rated if (d := line.delta) is not None][:TREND_MATCHES]
        return Stats(user_id, matches, rating, sum(deltas) if deltas else None, len(deltas))

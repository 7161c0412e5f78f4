"""The host's selection (more than 12 players) and the preview of `!balance auto`, kept in the
database (balancer_panels, balancer_panel_players): their buttons carry the panel's id, so they
keep working after a restart, and a panel expires 15 minutes after it was opened.

Every change to a panel is one transaction that bumps the panel's revision first: changes to
the same panel wait for each other (PostgreSQL's row lock, SQLite's write lock), so a
selection never holds more than 12 and a panel starts one match at most.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Sequence

from bot.db import Database
from bot.db.queries import BalancerPanel, PanelPlayer, queries
from bot.features.balancer.rules import MAX_PLAYERS, Player, Split, balance, score, swap
from bot.features.balancer.service import MatchService
from bot.shared.clock import Clock

PANEL_SECONDS = 15 * 60
SELECT, PREVIEW = "select", "preview"
TEAMS = ("amber", "sapphire", "bench")


class Toggle(enum.Enum):
    DONE = "done"
    TOO_MANY = "too_many"


@dataclasses.dataclass(frozen=True)
class Selection:
    panel_id: int
    owner_id: int
    players: tuple[int, ...]  # in the order shown
    chosen: frozenset[int]

    @property
    def ready(self) -> bool:
        return 4 <= len(self.chosen) <= MAX_PLAYERS


@dataclasses.dataclass(frozen=True)
class Preview:
    panel_id: int
    owner_id: int
    split: Split


class PanelService:
    def __init__(self, matches: MatchService, rng: random.Random | None = None) -> None:
        self.matches = matches
        self.rng = rng or random.Random()

    @property
    def db(self) -> Database:
        return self.matches.db

    @property
    def clock(self) -> Clock:
        return self.matches.clock

    # -- opening -------------------------------------------------------------------------

    async def _open(self, guild_id: int, kind: str, owner_id: int, rows: Sequence[tuple[int, str | None]]) -> int:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await queries.balancer.delete_expired_panels(conn, now=now)
            panel_id = await queries.balancer.create_panel(
                conn, guild_id=guild_id, kind=kind, owner_id=owner_id, created_at=now, expires_at=now + PANEL_SECONDS
            )
            await queries.balancer.add_panel_players(
                conn,
                [
                    {"panel_id": panel_id, "user_id": user_id, "position": i, "chosen": 0, "team": team}
                    for i, (user_id, team) in enumerate(rows)
                ],
            )
        return int(panel_id)

    async def open_selection(self, guild_id: int, owner_id: int, player_ids: Sequence[int]) -> Selection:
        ids = list(dict.fromkeys(player_ids))
        panel_id = await self._open(guild_id, SELECT, owner_id, [(i, None) for i in ids])
        return Selection(panel_id, owner_id, tuple(ids), frozenset())

    async def open_preview(self, guild_id: int, owner_id: int, split: Split) -> Preview:
        panel_id = await self._open(guild_id, PREVIEW, owner_id, _rows(split))
        return Preview(panel_id, owner_id, split)

    # -- reading -------------------------------------------------------------------------

    async def _load(self, panel_id: int, guild_id: int, kind: str) -> tuple[BalancerPanel, list[PanelPlayer]] | None:
        """The panel and its players; None when it is gone, expired, of another guild or kind."""
        async with self.db.read() as conn:
            panel = await queries.balancer.get_panel(conn, panel_id=panel_id)
            if not self._usable(panel, guild_id, kind):
                return None
            assert panel is not None
            return panel, await queries.balancer.list_panel_players(conn, panel_id=panel_id)

    def _usable(self, panel: BalancerPanel | None, guild_id: int, kind: str) -> bool:
        return (
            panel is not None
            and panel.guild_id == guild_id
            and panel.kind == kind
            and panel.expires_at > self.clock.now()
        )

    async def owner(self, panel_id: int, guild_id: int, kind: str) -> int | None:
        """Who opened the panel; None when it cannot be used any more."""
        loaded = await self._load(panel_id, guild_id, kind)
        return loaded[0].owner_id if loaded else None

    async def selection(self, panel_id: int, guild_id: int) -> Selection | None:
        loaded = await self._load(panel_id, guild_id, SELECT)
        return _selection(*loaded) if loaded else None

    async def preview(self, panel_id: int, guild_id: int) -> Preview | None:
        loaded = await self._load(panel_id, guild_id, PREVIEW)
        if loaded is None:
            return None
        panel, rows = loaded
        return Preview(panel_id, panel.owner_id, await self._split(guild_id, rows))

    async def _split(self, guild_id: int, rows: Sequence[PanelPlayer]) -> Split:
        """The split the panel shows, with each player's value as it is now (rank or rating)."""
        players = {p.id: p for p in await self.matches.players(guild_id, [r.user_id for r in rows])}
        teams: dict[str, list[Player]] = {t: [] for t in TEAMS}
        for r in rows:
            if r.user_id in players and r.team in teams:
                teams[r.team].append(players[r.user_id])
        a, b, bench = (tuple(teams[t]) for t in TEAMS)
        return Split(a, b, bench, score(a, b))

    # -- changing ------------------------------------------------------------------------

    async def toggle(self, panel_id: int, guild_id: int, user_id: int) -> Selection | Toggle | None:
        """Pick or unpick a player of the selection; TOO_MANY instead of a 13th."""
        async with self.db.transaction() as conn:
            panel = await queries.balancer.get_panel(conn, panel_id=panel_id)
            if not self._usable(panel, guild_id, SELECT) or not await queries.balancer.bump_panel(
                conn, panel_id=panel_id
            ):
                return None
            rows = await queries.balancer.list_panel_players(conn, panel_id=panel_id)
            row = next((r for r in rows if r.user_id == user_id), None)
            if row is None:
                return None
            if not row.chosen and sum(r.chosen for r in rows) >= MAX_PLAYERS:
                return Toggle.TOO_MANY
            chosen = 0 if row.chosen else 1
            await queries.balancer.set_panel_chosen(
                conn, [{"panel_id": panel_id, "user_id": user_id, "chosen": chosen}]
            )
        return await self.selection(panel_id, guild_id)

    async def pick_random(self, panel_id: int, guild_id: int) -> Selection | None:
        """A real random choice of 12 (the old bot always took the first 12)."""
        async with self.db.transaction() as conn:
            panel = await queries.balancer.get_panel(conn, panel_id=panel_id)
            if not self._usable(panel, guild_id, SELECT) or not await queries.balancer.bump_panel(
                conn, panel_id=panel_id
            ):
                return None
            ids = [r.user_id for r in await queries.balancer.list_panel_players(conn, panel_id=panel_id)]
            picked = set(self.rng.sample(ids, min(MAX_PLAYERS, len(ids))))
            await queries.balancer.set_panel_chosen(
                conn, [{"panel_id": panel_id, "user_id": i, "chosen": int(i in picked)} for i in ids]
            )
        return await self.selection(panel_id, guild_id)

    async def reroll(self, panel_id: int, guild_id: int) -> Preview | None:
        """Another near-best split of the same players (the current one only if it is the only one)."""
        current = await self.preview(panel_id, guild_id)
        if current is None:
            return None
        split = current.split
        players = [*split.team_a, *split.team_b, *split.bench]
        new = balance(players, self.rng, host_bench=[p.id for p in split.bench], avoid=[p.id for p in split.team_a])
        if not await self._store_teams(panel_id, guild_id, new):
            return None
        return Preview(panel_id, current.owner_id, new)

    async def swap(self, panel_id: int, guild_id: int, first: int, second: int) -> Preview | None:
        """Two players of different teams change places; ValueError for any other pair."""
        current = await self.preview(panel_id, guild_id)
        if current is None:
            return None
        new = swap(current.split, first, second)
        if not await self._store_teams(panel_id, guild_id, new):
            return None
        return Preview(panel_id, current.owner_id, new)

    async def _store_teams(self, panel_id: int, guild_id: int, split: Split) -> bool:
        async with self.db.transaction() as conn:
            panel = await queries.balancer.get_panel(conn, panel_id=panel_id)
            if not self._usable(panel, guild_id, PREVIEW) or not await queries.balancer.bump_panel(
                conn, panel_id=panel_id
            ):
                return False
            await queries.balancer.set_panel_teams(
                conn,
                [
                    {"panel_id": panel_id, "user_id": user_id, "team": team, "position": i}
                    for i, (user_id, team) in enumerate(_rows(split))
                ],
            )
        return True

    async def take_selection(self, panel_id: int, guild_id: int) -> list[int] | None:
        """The chosen players, once: the panel is used up (None when it is gone or expired)."""
        loaded = await self._take(panel_id, guild_id, SELECT)
        return [r.user_id for r in loaded if r.chosen] if loaded is not None else None

    async def take_preview(self, panel_id: int, guild_id: int) -> Split | None:
        """The teams the preview shows, once: the panel is used up."""
        rows = await self._take(panel_id, guild_id, PREVIEW)
        return await self._split(guild_id, rows) if rows is not None else None

    async def _take(self, panel_id: int, guild_id: int, kind: str) -> list[PanelPlayer] | None:
        async with self.db.transaction() as conn:
            panel = await queries.balancer.get_panel(conn, panel_id=panel_id)
            if not self._usable(panel, guild_id, kind):
                return None
            rows = await queries.balancer.list_panel_players(conn, panel_id=panel_id)
            if not await queries.balancer.delete_panel(conn, panel_id=panel_id):
                return None  # started by another click meanwhile
        return rows


def _rows(split: Split) -> list[tuple[int, str | None]]:
    """(player, team) in the order the preview shows them."""
    teams = (split.team_a, split.team_b, split.bench)
    return [(p.id, team) for team, players in zip(TEAMS, teams, strict=True) for p in players]


def _selection(panel: BalancerPanel, rows: Sequence[PanelPlayer]) -> Selection:
    return Selection(
        panel.panel_id,
        panel.owner_id,
        tuple(r.user_id for r in rows),
        frozenset(r.user_id for r in rows if r.chosen),
    )

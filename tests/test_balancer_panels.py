"""The selection and preview panels in the database (both engines): their state survives a
restart (new services on the same database), changes to one panel wait for each other, a panel
starts one match at most and expires after 15 minutes."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.db import Database
from bot.db.privacy import forget_user
from bot.db.queries import queries
from bot.features.balancer.panels import PANEL_SECONDS, PanelService, Selection, Toggle
from bot.features.balancer.rules import MAX_PLAYERS
from bot.features.balancer.service import MatchService
from bot.shared.common import Reply
from bot.shared.timers import TimerService
from tests.helpers import make_deps, reopened
from tests.raw_sql import fetch_one
from tests.test_balancer_service import GUILD, World, add_players, build


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


def panels_of(w: World, db: Database | None = None, seed: int = 5) -> PanelService:
    """The panels on `db` (default: the world's); a new database object is a restart."""
    if db is None:
        return PanelService(w.service, random.Random(seed))
    timers = TimerService(db, w.clock)
    matches = MatchService(make_deps(db, w.world, w.clock, timers=timers), w.service.config, rng=random.Random(seed))
    return PanelService(matches, random.Random(seed))


async def count_panels(db: Database) -> int:
    async with db.read() as conn:
        row = await fetch_one(conn, "SELECT COUNT(*) FROM balancer_panels")
    assert row is not None
    return int(row[0])


async def test_a_selection_survives_a_restart_and_starts_once(db: Database) -> None:
    w = build(db)
    players = add_players(w, 16, w.lobby)
    panels = panels_of(w)
    opened = await panels.open_selection(GUILD, w.host, players)
    assert opened.players == tuple(players) and opened.chosen == frozenset() and not opened.ready
    for p in players[:12]:
        assert isinstance(await panels.toggle(opened.panel_id, GUILD, p), Selection)
    assert await panels.toggle(opened.panel_id, GUILD, players[12]) is Toggle.TOO_MANY
    unpicked = await panels.toggle(opened.panel_id, GUILD, players[0])
    assert isinstance(unpicked, Selection) and unpicked.chosen == frozenset(players[1:12])

    async with reopened(db) as again:  # a restart: new objects, the same database
        after = panels_of(w, again)
        state = await after.selection(opened.panel_id, GUILD)
        assert state == Selection(opened.panel_id, w.host, tuple(players), frozenset(players[1:12]))
        assert await after.owner(opened.panel_id, GUILD, "select") == w.host
        assert await after.selection(opened.panel_id, GUILD + 1) is None  # another guild's id names nothing
        assert await after.preview(opened.panel_id, GUILD) is None  # nor is a selection a preview
        randomly = await after.pick_random(opened.panel_id, GUILD)
        assert randomly is not None and len(randomly.chosen) == MAX_PLAYERS and randomly.ready
        chosen = await after.take_selection(opened.panel_id, GUILD)
        assert chosen is not None and set(chosen) == randomly.chosen
        assert await after.take_selection(opened.panel_id, GUILD) is None  # used up
        assert await after.toggle(opened.panel_id, GUILD, players[0]) is None
        assert await count_panels(again) == 0


async def test_the_random_pick_is_random(db: Database) -> None:
    w = build(db)
    players = add_players(w, 20, w.lobby)
    panels = panels_of(w)
    opened = await panels.open_selection(GUILD, w.host, players)
    picks = set()
    for _ in range(4):
        picked = await panels.pick_random(opened.panel_id, GUILD)
        assert picked is not None
        picks.add(picked.chosen)
    assert len(picks) > 1  # not always the same 12 (the old bot always took the first 12)


async def test_a_preview_survives_a_restart_with_its_rerolled_and_swapped_teams(db: Database) -> None:
    w = build(db)
    players = add_players(w, 9, w.lobby)
    split = await w.service.preview(GUILD, players[0])
    assert not isinstance(split, Reply)
    panels = panels_of(w)
    opened = await panels.open_preview(GUILD, players[0], split)
    rerolled = await panels.reroll(opened.panel_id, GUILD)
    assert rerolled is not None
    assert {p.id for p in rerolled.split.team_a} != {p.id for p in split.team_a}
    assert [p.id for p in rerolled.split.bench] == [p.id for p in split.bench]
    a, b = rerolled.split.team_a[0].id, rerolled.split.team_b[0].id
    swapped = await panels.swap(opened.panel_id, GUILD, a, b)
    assert swapped is not None and b in {p.id for p in swapped.split.team_a}
    with pytest.raises(ValueError):
        await panels.swap(opened.panel_id, GUILD, swapped.split.team_a[0].id, swapped.split.team_a[1].id)

    async with reopened(db) as again:
        after = panels_of(w, again)
        shown = await after.preview(opened.panel_id, GUILD)
        assert shown is not None and shown.owner_id == players[0]
        for team in ("team_a", "team_b", "bench"):
            assert [p.id for p in getattr(shown.split, team)] == [p.id for p in getattr(swapped.split, team)]
        assert shown.split.score == pytest.approx(swapped.split.score)
        taken = await after.take_preview(opened.panel_id, GUILD)
        assert taken is not None and [p.id for p in taken.team_a] == [p.id for p in swapped.split.team_a]
        assert await after.take_preview(opened.panel_id, GUILD) is None
        assert await after.reroll(opened.panel_id, GUILD) is None
        assert await after.swap(opened.panel_id, GUILD, a, b) is None


async def test_panels_expire_after_15_minutes_and_are_cleared(db: Database) -> None:
    w = build(db)
    players = add_players(w, 14, w.lobby)
    panels = panels_of(w)
    first = await panels.open_selection(GUILD, w.host, players)
    w.clock.advance(PANEL_SECONDS - 1)
    assert await panels.toggle(first.panel_id, GUILD, players[0]) is not None  # still usable
    w.clock.advance(1)
    assert await panels.selection(first.panel_id, GUILD) is None
    assert await panels.toggle(first.panel_id, GUILD, players[0]) is None
    assert await panels.pick_random(first.panel_id, GUILD) is None
    assert await panels.take_selection(first.panel_id, GUILD) is None
    assert await count_panels(db) == 1  # expired, not yet cleared
    second = await panels.open_selection(GUILD, w.host, players)  # opening one clears expired ones
    assert second.panel_id != first.panel_id and await count_panels(db) == 1


async def test_concurrent_clicks_never_pick_more_than_12_nor_start_twice(db: Database) -> None:
    w = build(db)
    players = add_players(w, 16, w.lobby)
    panels = panels_of(w)
    opened = await panels.open_selection(GUILD, w.host, players)
    for p in players[:10]:
        await panels.toggle(opened.panel_id, GUILD, p)
    async with reopened(db) as other:  # a second process on the same database
        elsewhere = panels_of(w, other)
        results = await asyncio.gather(
            *((panels if i % 2 else elsewhere).toggle(opened.panel_id, GUILD, p) for i, p in enumerate(players[10:]))
        )
        assert sum(r is Toggle.TOO_MANY for r in results) == 4
        state = await panels.selection(opened.panel_id, GUILD)
        assert state is not None and len(state.chosen) == MAX_PLAYERS
        taken = await asyncio.gather(
            panels.take_selection(opened.panel_id, GUILD), elsewhere.take_selection(opened.panel_id, GUILD)
        )
        assert sorted(t is None for t in taken) == [False, True]
    async with db.read() as conn:
        assert await queries.balancer.list_panel_players(conn, panel_id=opened.panel_id) == []


async def test_forget_user_removes_the_panels_they_opened_or_are_listed_in(db: Database) -> None:
    w = build(db)
    players = add_players(w, 14, w.lobby)
    panels = panels_of(w)
    theirs = await panels.open_selection(GUILD, w.host, players)
    others = await panels.open_selection(GUILD, players[0], players[1:])
    counts = await forget_user(db, players[13])  # listed in both
    assert counts["open balancer panels"] == 2 and await count_panels(db) == 0
    third = await panels.open_selection(GUILD, w.host, players[:13])
    assert (await forget_user(db, w.host))["open balancer panels"] == 1
    assert await panels.selection(third.panel_id, GUILD) is None
    assert theirs.panel_id != others.panel_id

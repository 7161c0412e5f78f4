"""What must hold over a whole e2e run, whatever the scenario."""

from __future__ import annotations

from collections import Counter

from tests.e2e.harness import BotProcess
from tests.e2e.server import LocalDiscord
from tests.e2e.world import CATEGORY


def assert_invariants(api: LocalDiscord, bot: BotProcess) -> None:
    """Clean log, no rename refused with a 429, no two channels of one name in a category,
    every interaction answered once and in time, no route the local API does not know."""
    bot.assert_clean_log()
    assert api.rest.renames.refused == 0, "a rename was refused: the 2-per-10-minutes budget was overspent"
    names = Counter(
        (c.get("parent_id"), c["name"])
        for c in api.world.channels.values()
        if c.get("type") != CATEGORY and "name" in c
    )
    assert [k for k, n in names.items() if n > 1] == []
    ints = api.interactions
    assert [p.id for p in ints.unanswered()] == [], "interactions left unanswered"
    assert ints.refused_twice == 0 and all(p.late == 0 for p in ints.all)
    assert api.rest.unhandled == [], api.rest.unhandled


def lane_of(api: LocalDiscord, uid: int) -> int | None:
    cid = api.world.voice.get(uid)
    if cid is None or not str(api.world.channels[cid]["name"]).startswith("Lane "):
        return None
    return cid

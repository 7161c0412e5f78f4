"""Match coaching: the steps of a session, what may happen in each, and what a valid answer is."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from importlib import resources

from bot.shared.ranks import RANK_NAMES, SUBTIERS

MATCH_ID_MAX = 50
COMMENT_MAX = 1000
TIMEOUT_SECONDS = 600

STEPS = ("rank", "subrank", "hero", "comment", "finish", "closed")
EVENTS = ("rank", "subrank", "hero", "comment", "finish", "timeout", "cancel")
ACTIVE = frozenset(STEPS[:-1])

#: (step, event) -> the next step. Everything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("rank", "rank"): "subrank",
    ("subrank", "subrank"): "hero",
    ("hero", "hero"): "comment",
    ("comment", "comment"): "finish",
    ("finish", "finish"): "closed",
    **{(step, "timeout"): "closed" for step in ACTIVE},
    **{(step, "cancel"): "closed" for step in ACTIVE},
}


class StepRefused(ValueError):
    pass


def transition(step: str, event: str) -> str:
    nxt = TRANSITIONS.get((step, event))
    if nxt is None:
        raise StepRefused(f"{event} is not possible in step {step}")
    return nxt


#: The rank keys the old wizard stored (no Obscurus), and its sub-tier keys.
RANK_KEYS = tuple(name.lower() for name in RANK_NAMES[1:])
SUBRANK_KEYS = ("i", "ii", "iii", "iv", "v", "✶")
SUBRANK_LABELS = dict(zip(SUBRANK_KEYS, SUBTIERS, strict=True))


@dataclasses.dataclass(frozen=True)
class Hero:
    key: str
    name: str


@cache
def heroes() -> tuple[Hero, ...]:
    """The hero list, kept in one data file (bot/features/coaching/heroes.json)."""
    raw = json.loads(resources.files("bot.features.coaching").joinpath("heroes.json").read_text(encoding="utf-8"))
    return tuple(Hero(h["key"], h["name"]) for h in raw["heroes"])


def hero_pages() -> tuple[tuple[Hero, ...], tuple[Hero, ...]]:
    """Two selects (Discord allows 25 options each): A-M and N-Z by display name."""
    first = tuple(h for h in heroes() if h.name[0].upper() <= "M")
    return first, tuple(h for h in heroes() if h.name[0].upper() > "M")


def hero_name(key: str | None) -> str:
    return next((h.name for h in heroes() if h.key == key), key or "–")


def valid_answer(step: str, value: str) -> bool:
    if step == "rank":
        return value in RANK_KEYS
    if step == "subrank":
        return value in SUBRANK_KEYS
    if step == "hero":
        return any(h.key == value for h in heroes())
    if step == "comment":
        return 0 < len(value.strip()) <= COMMENT_MAX
    return False


def clean_match_id(raw: str) -> str | None:
    text = " ".join(raw.split())
    return text if 0 < len(text) <= MATCH_ID_MAX else None

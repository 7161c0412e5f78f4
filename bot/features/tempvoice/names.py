"""Rules for a lane name an owner types (pure: no asyncio, no discord.py, no database)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from bot.features.tempvoice.rules import LANE_PREFIX, MAX_NAME


class NameProblem(enum.Enum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    MENTION = "mention"
    INVITE = "invite"
    URL = "url"
    BLOCKED_WORD = "blocked_word"
    RESERVED = "reserved"  # "Lane 7": the bot's own numbering


class NameRefused(ValueError):
    def __init__(self, problem: NameProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail


_MENTION = re.compile(r"@(everyone|here)\b|<(@[!&]?|#)\d+>|<a?:\w+:\d+>", re.IGNORECASE)
_INVITE = re.compile(
    r"(discord(app)?\.com/invite|discord\.(gg|io|me|li)|dsc\.gg|invite\.gg)\s*/?\s*[\w-]*", re.IGNORECASE
)
_URL = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|"  # a scheme or www.
    r"\b[\w-]+(\.[\w-]+)*\.(com|net|org|gg|io|de|eu|tv|xyz|me|co|ly|link|app|dev|ru|uk|info|biz|to|sh|at|ch|fr)\b",
    re.IGNORECASE,
)
_RESERVED = re.compile(rf"^{LANE_PREFIX}\s*\d+$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def is_numbered(name: str) -> bool:
    """A "Lane N" name: the bot's own numbering, not an owner's choice."""
    return _RESERVED.match(name.strip()) is not None


def parse_blocklist(raw: str) -> frozenset[str]:
    """TEMPVOICE_NAME_BLOCKLIST: words separated by commas (case does not matter)."""
    return frozenset(w.strip().casefold() for w in raw.split(",") if w.strip())


def _blocked_word(name: str, blocklist: Iterable[str]) -> str | None:
    folded = name.casefold()
    words = set(re.findall(r"\w+", folded))
    for entry in sorted(blocklist):
        if " " in entry or not entry.isalnum():
            if entry in folded:  # a phrase or a word with symbols: anywhere in the name
                return entry
        elif entry in words:
            return entry
    return None


def validate_lane_name(raw: str, blocklist: Iterable[str] = ()) -> str:
    """The name to use (trimmed, runs of whitespace and line breaks as one space), or NameRefused."""
    name = _SPACES.sub(" ", raw).strip()
    if not name:
        raise NameRefused(NameProblem.EMPTY)
    if len(name) > MAX_NAME:
        raise NameRefused(NameProblem.TOO_LONG, str(len(name)))
    if _MENTION.search(name):
        raise NameRefused(NameProblem.MENTION)
    if _INVITE.search(name):
        raise NameRefused(NameProblem.INVITE)
    if _URL.search(name):
        raise NameRefused(NameProblem.URL)
    if _RESERVED.match(name):
        raise NameRefused(NameProblem.RESERVED)
    word = _blocked_word(name, blocklist)
    if word is not None:
        raise NameRefused(NameProblem.BLOCKED_WORD, word)
    return name

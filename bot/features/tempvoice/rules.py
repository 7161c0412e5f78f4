"""TempVoice lane rules: names, numbers, caps, limits (pure functions)."""

from __future__ import annotations

from bot.features.tempvoice.texts import TempVoice as T
from bot.shared.ranks import MINRANK_SUFFIX_THRESHOLD, rank_name

LANE_PREFIX = "Lane"
MAX_NAME = 100
MAX_USER_LIMIT = 99


def lane_name(number: int) -> str:
    return f"{LANE_PREFIX} {number}"


def minrank_suffix(min_rank: int) -> str:
    """' • ab <Rank>' from Emissary upwards, nothing below (the old bot's rule)."""
    return T.MINRANK_SUFFIX.format(rank=rank_name(min_rank)) if min_rank >= MINRANK_SUFFIX_THRESHOLD else ""


class LimitError(ValueError):
    pass


def parse_user_limit(raw: str) -> int:
    """The limit modal's text: a whole number from 0 (no limit) to 99."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise LimitError(text)
    value = int(text)
    if not 0 <= value <= MAX_USER_LIMIT:
        raise LimitError(text)
    return value


#: Templates of the panel: base name (None = "Lane N") and user limit (None = the category's default cap).
TEMPLATES: dict[str, tuple[str | None, int | None]] = {
    "duo": (T.TEMPLATE_DUO, 2),
    "trio": (T.TEMPLATE_TRIO, 3),
    "reset": (None, None),
}

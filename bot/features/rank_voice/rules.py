"""Rank-anchored voice channels: the window the first joiner fixes, and the name part it shows."""

from __future__ import annotations

import enum

from bot.features.rank_voice.texts import RankVoice as T
from bot.shared.ranks import TOP_RANK, rank_name


class Mode(enum.Enum):
    RANKED = 1  # +-1
    GRIND = 2  # +-2


def window(anchor: int, mode: Mode) -> tuple[int, int]:
    """[anchor - d, anchor + d] clamped to 1..11; an anchor without rank (0) counts as 1."""
    base = max(1, anchor)
    return max(1, base - mode.value), min(TOP_RANK, base + mode.value)


def name_part(anchor: int, low: int, high: int) -> str:
    """' • <Rank> +/-N' (just the rank when the window is that rank alone)."""
    radius = max(anchor - low, high - anchor, 0)
    return T.NAME_PART.format(rank=rank_name(anchor)) + (T.NAME_RADIUS.format(radius=radius) if radius else "")

"""Deadlock ranks as the community's roles name them (original_spec.md §4.1), shared by every feature."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

#: Index = rank value. 0 is "no rank role" (Obscurus).
RANK_NAMES: tuple[str, ...] = (
    "Obscurus",
    "Initiate",
    "Seeker",
    "Alchemist",
    "Arcanist",
    "Ritualist",
    "Emissary",
    "Archon",
    "Oracle",
    "Phantom",
    "Ascendant",
    "Eternus",
)
TOP_RANK = len(RANK_NAMES) - 1
#: The lane name shows " • ab <Rank>" only from this rank on (the old bot's threshold).
MINRANK_SUFFIX_THRESHOLD = RANK_NAMES.index("Emissary")

_BY_KEY = {name.lower(): value for value, name in enumerate(RANK_NAMES)}
_BY_KEY["unknown"] = 0  # the old TempVoice select's value for "no limit"


def rank_name(value: int) -> str:
    return RANK_NAMES[max(0, min(TOP_RANK, value))]


def rank_key(value: int) -> str:
    """The lower-case key the old bot stored and its selects send ("unknown" for no rank)."""
    return "unknown" if value <= 0 else rank_name(value).lower()


def rank_from_key(key: str) -> int | None:
    """A rank from a role name or a select value ("archon", "Archon", "unknown"); None if it is none."""
    return _BY_KEY.get(key.strip().lower())


@dataclasses.dataclass(frozen=True)
class RankRoles:
    """Which guild roles are rank roles: configured role IDs win, else roles named like a rank."""

    by_role_id: Mapping[int, int] = dataclasses.field(default_factory=dict)

    def rank_of_role(self, role_id: int, role_name: str) -> int | None:
        if role_id in self.by_role_id:
            return self.by_role_id[role_id]
        value = rank_from_key(role_name)
        return value if value else None

    def member_rank(self, roles: Iterable[tuple[int, str]]) -> int:
        """The highest rank among a member's roles; 0 without any."""
        values = [v for rid, name in roles if (v := self.rank_of_role(rid, name))]
        return max(values, default=0)

    def member_rank_detail(self, roles: Iterable[tuple[int, str]]) -> Rank | None:
        """The highest rank role with its sub-tier where the role name carries one ("Ascendant 3")."""
        found = []
        for rid, name in roles:
            if rid in self.by_role_id:
                found.append(parse_rank_label(name) or Rank(self.by_role_id[rid]))
                continue
            parsed = parse_rank_label(name)
            if parsed is not None and parsed.value:
                found.append(parsed)
        return max(found, default=None)


#: Sub-tiers as the coaching and rank bots write them (I..V, then ✶ the top one).
SUBTIERS: tuple[str, ...] = ("I", "II", "III", "IV", "V", "✶")
DEFAULT_SUBTIER = 3  # unknown sub-tier: the middle, as the old anchors' default


@dataclasses.dataclass(frozen=True, order=True)
class Rank:
    """A rank with its sub-tier (1..6); `rating` orders and balances them on one scale."""

    value: int
    subtier: int = DEFAULT_SUBTIER

    @property
    def rating(self) -> float:
        return self.value + (self.subtier - 1) / len(SUBTIERS) if self.value else 0.0

    @property
    def name(self) -> str:
        return rank_name(self.value)

    @property
    def label(self) -> str:
        return self.name if self.value == 0 else f"{self.name} {SUBTIERS[self.subtier - 1]}"


def parse_rank_label(text: str) -> Rank | None:
    """'Ascendant 3', 'Arc 4', 'eternus', 'Oracle ✶', 'Phantom IV' -> Rank; None if it is no rank."""
    parts = text.strip().split()
    if not parts:
        return None
    word = parts[0].lower()
    value = rank_from_key(word)
    if value is None and len(word) >= 3:  # short names as the rank bot writes them ("Arc", "Asc")
        hits = [v for v, name in enumerate(RANK_NAMES) if name.lower().startswith(word)]
        value = hits[0] if len(hits) == 1 else None
    if value is None:
        return None
    subtier = DEFAULT_SUBTIER
    if len(parts) > 1:
        tier = parts[1].upper()
        if tier.isdigit() and 1 <= int(tier) <= len(SUBTIERS):
            subtier = int(tier)
        elif tier in SUBTIERS:
            subtier = SUBTIERS.index(tier) + 1
        elif tier in ("*", "STAR"):
            subtier = len(SUBTIERS)
    return Rank(value, subtier)

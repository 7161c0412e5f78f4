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

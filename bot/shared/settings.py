"""Reading settings from the environment: the helpers every feature's settings use."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.shared.ranks import TOP_RANK, RankRoles


def env_ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").replace(";", ",")
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"{name} must be a comma-separated list of Discord ids, not {raw!r}")
        out.append(int(part))
    return tuple(out)


def env_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def rank_roles(env: Mapping[str, str] | None = None) -> RankRoles:
    """RANK_ROLE_IDS="1=<role id>,2=<role id>,..." (rank value 1..11); else roles named like the ranks count."""
    env = os.environ if env is None else env
    mapping: dict[int, int] = {}
    for part in (p.strip() for p in env.get("RANK_ROLE_IDS", "").split(",")):
        if not part:
            continue
        value, _, role = part.partition("=")
        if not (value.strip().isdigit() and role.strip().isdigit() and 1 <= int(value) <= TOP_RANK):
            raise ValueError(f"RANK_ROLE_IDS entries look like '11=123456789012345678', not {part!r}")
        mapping[int(role)] = int(value)
    return RankRoles(mapping)

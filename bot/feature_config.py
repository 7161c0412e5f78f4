"""The features' settings from the environment. Kept apart from bot.config, which the
command line needs before (and without) any feature code: `sql generate` must work even
while the generated queries are stale."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.domain.ranks import TOP_RANK, RankRoles
from bot.services.balancer import BalancerConfig
from bot.services.claims import TcpClaimNotifier
from bot.services.rank_voice import RankVoiceConfig
from bot.services.tempvoice import TempVoiceConfig
from bot.services.voice_status import VoiceStatusConfig


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    raw = env.get(name, "").replace(";", ",")
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"{name} must be a comma-separated list of Discord ids, not {raw!r}")
        out.append(int(part))
    return tuple(out)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
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


def tempvoice_config(env: Mapping[str, str] | None = None) -> TempVoiceConfig | None:
    """TempVoice's settings; None (feature off) without TEMPVOICE_STAGING_CHANNEL_IDS."""
    env = os.environ if env is None else env
    staging = _ids(env, "TEMPVOICE_STAGING_CHANNEL_IDS")
    if not staging:
        return None
    english = _ids(env, "TEMPVOICE_ENGLISH_ONLY_ROLE_ID")
    return TempVoiceConfig(
        staging_channel_ids=frozenset(staging),
        ranked_category_ids=frozenset(_ids(env, "TEMPVOICE_RANKED_CATEGORY_IDS")),
        minrank_category_ids=frozenset(_ids(env, "TEMPVOICE_MINRANK_CATEGORY_IDS")),
        overflow_category_ids=_ids(env, "TEMPVOICE_OVERFLOW_CATEGORY_IDS"),
        english_only_role_id=english[0] if english else None,
        default_cap=_int(env, "TEMPVOICE_DEFAULT_CAP", 8, 0, 99),
        ranked_cap=_int(env, "TEMPVOICE_RANKED_CAP", 6, 0, 99),
        rank_roles=rank_roles(env),
    )


def rank_voice_config(env: Mapping[str, str] | None = None) -> RankVoiceConfig | None:
    """Rank-anchored channels; None (off) without RANKVOICE_RANKED_CATEGORY_IDS or RANKVOICE_GRIND_CATEGORY_IDS."""
    env = os.environ if env is None else env
    ranked = frozenset(_ids(env, "RANKVOICE_RANKED_CATEGORY_IDS"))
    grind = frozenset(_ids(env, "RANKVOICE_GRIND_CATEGORY_IDS"))
    if not ranked and not grind:
        return None
    excluded = frozenset(_ids(env, "RANKVOICE_EXCLUDED_CHANNEL_IDS")) | frozenset(
        _ids(env, "TEMPVOICE_STAGING_CHANNEL_IDS")
    )
    return RankVoiceConfig(ranked, grind, excluded)


def balancer_config(env: Mapping[str, str] | None = None) -> BalancerConfig | None:
    """The balancer; None (off) without BALANCER_MATCH_CATEGORY_IDS."""
    env = os.environ if env is None else env
    categories = _ids(env, "BALANCER_MATCH_CATEGORY_IDS")
    if not categories:
        return None
    return BalancerConfig(
        match_category_ids=categories,
        host_role_ids=frozenset(_ids(env, "BALANCER_HOST_ROLE_IDS")),
        stale_after_seconds=_int(env, "BALANCER_STALE_HOURS", 6, 1, 72) * 3600,
    )


def voice_status_config(env: Mapping[str, str] | None = None) -> VoiceStatusConfig | None:
    """The live voice status; None (off) without VOICE_STATUS_CATEGORY_IDS."""
    env = os.environ if env is None else env
    categories = _ids(env, "VOICE_STATUS_CATEGORY_IDS")
    if not categories:
        return None
    return VoiceStatusConfig(categories, _int(env, "VOICE_STATUS_INTERVAL_SECONDS", 60, 15, 3600))


def coaching_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Match coaching is off unless COACHING_ENABLED=1 (the old bot had it switched off)."""
    env = os.environ if env is None else env
    return env.get("COACHING_ENABLED", "").strip().lower() in ("1", "true", "yes", "on")


def claim_notifier(env: Mapping[str, str] | None = None) -> TcpClaimNotifier:
    env = os.environ if env is None else env
    return TcpClaimNotifier(
        env.get("COACHING_CLAIM_HOST", "localhost") or "localhost",
        _int(env, "COACHING_CLAIM_PORT", 45680, 1, 65535),
    )

"""Rank voice's settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.features.rank_voice.service import RankVoiceConfig
from bot.shared.settings import env_ids


def rank_voice_config(env: Mapping[str, str] | None = None) -> RankVoiceConfig | None:
    """Rank-anchored channels; None (off) without RANKVOICE_RANKED_CATEGORY_IDS or RANKVOICE_GRIND_CATEGORY_IDS."""
    env = os.environ if env is None else env
    ranked = frozenset(env_ids(env, "RANKVOICE_RANKED_CATEGORY_IDS"))
    grind = frozenset(env_ids(env, "RANKVOICE_GRIND_CATEGORY_IDS"))
    if not ranked and not grind:
        return None
    excluded = frozenset(env_ids(env, "RANKVOICE_EXCLUDED_CHANNEL_IDS")) | frozenset(
        env_ids(env, "TEMPVOICE_STAGING_CHANNEL_IDS")
    )
    return RankVoiceConfig(ranked, grind, excluded)

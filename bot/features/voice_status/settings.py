"""The live voice status's settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.features.voice_status.service import VoiceStatusConfig
from bot.shared.settings import env_ids, env_int


def voice_status_config(env: Mapping[str, str] | None = None) -> VoiceStatusConfig | None:
    """The live voice status; None (off) without VOICE_STATUS_CATEGORY_IDS."""
    env = os.environ if env is None else env
    categories = env_ids(env, "VOICE_STATUS_CATEGORY_IDS")
    if not categories:
        return None
    return VoiceStatusConfig(categories, env_int(env, "VOICE_STATUS_INTERVAL_SECONDS", 60, 15, 3600))

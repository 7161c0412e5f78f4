"""Match coaching's settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.features.coaching.claims import TcpClaimNotifier
from bot.shared.settings import env_int


def coaching_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Match coaching is off unless COACHING_ENABLED=1 (the old bot had it switched off)."""
    env = os.environ if env is None else env
    return env.get("COACHING_ENABLED", "").strip().lower() in ("1", "true", "yes", "on")


def claim_notifier(env: Mapping[str, str] | None = None) -> TcpClaimNotifier:
    env = os.environ if env is None else env
    return TcpClaimNotifier(
        env.get("COACHING_CLAIM_HOST", "localhost") or "localhost",
        env_int(env, "COACHING_CLAIM_PORT", 45680, 1, 65535),
    )

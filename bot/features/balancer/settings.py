"""The balancer's settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.features.balancer.service import BalancerConfig
from bot.shared.settings import env_ids, env_int


def balancer_config(env: Mapping[str, str] | None = None) -> BalancerConfig | None:
    """The balancer; None (off) without BALANCER_MATCH_CATEGORY_IDS."""
    env = os.environ if env is None else env
    categories = env_ids(env, "BALANCER_MATCH_CATEGORY_IDS")
    if not categories:
        return None
    return BalancerConfig(
        match_category_ids=categories,
        host_role_ids=frozenset(env_ids(env, "BALANCER_HOST_ROLE_IDS")),
        stale_after_seconds=env_int(env, "BALANCER_STALE_HOURS", 6, 1, 72) * 3600,
        rated_games=env_int(env, "BALANCER_RATED_GAMES", 5, 1, 1000),
    )

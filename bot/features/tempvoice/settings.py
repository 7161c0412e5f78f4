"""TempVoice's settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.features.tempvoice.access_service import OwnerActionsConfig
from bot.features.tempvoice.lanes import TempVoiceConfig
from bot.features.tempvoice.names import parse_blocklist
from bot.shared.settings import env_ids, env_int, rank_roles


def tempvoice_config(env: Mapping[str, str] | None = None) -> TempVoiceConfig | None:
    """TempVoice's settings; None (feature off) without TEMPVOICE_STAGING_CHANNEL_IDS."""
    env = os.environ if env is None else env
    staging = env_ids(env, "TEMPVOICE_STAGING_CHANNEL_IDS")
    if not staging:
        return None
    english = env_ids(env, "TEMPVOICE_ENGLISH_ONLY_ROLE_ID")
    return TempVoiceConfig(
        staging_channel_ids=frozenset(staging),
        ranked_category_ids=frozenset(env_ids(env, "TEMPVOICE_RANKED_CATEGORY_IDS")),
        minrank_category_ids=frozenset(env_ids(env, "TEMPVOICE_MINRANK_CATEGORY_IDS")),
        overflow_category_ids=env_ids(env, "TEMPVOICE_OVERFLOW_CATEGORY_IDS"),
        english_only_role_id=english[0] if english else None,
        default_cap=env_int(env, "TEMPVOICE_DEFAULT_CAP", 8, 0, 99),
        ranked_cap=env_int(env, "TEMPVOICE_RANKED_CAP", 6, 0, 99),
        rank_roles=rank_roles(env),
    )


def owner_actions_config(env: Mapping[str, str] | None = None) -> OwnerActionsConfig:
    """TEMPVOICE_NAME_BLOCKLIST (comma-separated words no lane name may contain) and
    TEMPVOICE_MODERATOR_ROLE_IDS (roles that keep access to locked and hidden lanes)."""
    env = os.environ if env is None else env
    return OwnerActionsConfig(
        name_blocklist=parse_blocklist(env.get("TEMPVOICE_NAME_BLOCKLIST", "")),
        moderator_role_ids=frozenset(env_ids(env, "TEMPVOICE_MODERATOR_ROLE_IDS")),
    )

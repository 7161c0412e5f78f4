"""Changing permission overwrites one bit at a time (never replacing a whole overwrite)."""

from __future__ import annotations

import logging

from bot.discord_glue.ports import DiscordActions, GuildView, NotFound, Overwrite, PortError, Target

log = logging.getLogger(__name__)


async def set_overwrite_bit(
    actions: DiscordActions, view: GuildView, channel_id: int, target: Target, bit: str, value: bool | None, *,
    reason: str,
) -> None:  # fmt: skip
    """Allow (True), deny (False) or inherit (None) one bit of one target's overwrite on a
    channel, keeping every other bit. No call when nothing changes; a vanished channel is fine."""
    channel = view.channel(channel_id)
    if channel is None:
        return
    current = channel.overwrites.get(target, Overwrite())
    wanted = current.with_bit(bit, value)
    if wanted == current:
        return
    try:
        await actions.set_overwrite(channel_id, target, None if wanted.is_empty else wanted, reason=reason)
    except NotFound:
        pass
    except PortError as e:
        log.warning("permission change on channel %s failed: %s", channel_id, e)

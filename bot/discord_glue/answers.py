"""Answering interactions in time.

Discord drops an interaction that got no answer within 3 seconds ("Unknown interaction"; the
member sees "Die Interaktion ist fehlgeschlagen"). A panel action's work may take longer: the
database is busy, Discord is slow with the edit, a lock is held. `in_time` runs the work and,
if it has not finished after `DEFER_AFTER` seconds, acknowledges the interaction (ephemeral
"thinking"); `answer` then sends the text as the first answer or, after the defer, as the
follow-up. Fast work is answered directly, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

#: defer when the work has not finished after this long (Discord's deadline is 3 seconds;
#: the rest is room for the defer's own round trip)
DEFER_AFTER = 1.5
NO_MENTIONS = discord.AllowedMentions.none()


async def defer(interaction: discord.Interaction, *, thinking: bool = True) -> None:
    """Acknowledge the interaction now (no-op when it is answered already). `thinking=False`
    acknowledges a component without a new message (the answer edits the message then)."""
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer(ephemeral=True, thinking=thinking)
    except discord.NotFound:  # the deadline passed already: the follow-up will say so in the log
        log.warning("interaction %s expired before it could be deferred", interaction.id)
    except discord.HTTPException as e:
        if e.code != 40060:  # acknowledged meanwhile by another path: nothing to do
            raise


async def in_time(
    interaction: discord.Interaction, work: Awaitable[T], *, after: float = DEFER_AFTER, thinking: bool = True
) -> T:
    """The work's result; if it takes longer than `after` seconds, the interaction is
    deferred meanwhile, so it is answered within Discord's 3 seconds whatever the work takes."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=after)
        if not done:
            await defer(interaction, thinking=thinking)
        return await task
    except BaseException:
        task.cancel()  # the handler was cancelled (shutdown) or the defer failed: no orphan work
        raise


async def answer(
    interaction: discord.Interaction,
    text: str | None = None,
    *,
    view: discord.ui.View | None = None,
    embed: discord.Embed | None = None,
) -> None:
    """The ephemeral answer: the first response, or the follow-up after a defer."""
    extra: dict[str, Any] = {}
    if view is not None:
        extra["view"] = view
    if embed is not None:
        extra["embed"] = embed
    if interaction.response.is_done():
        content: Any = discord.utils.MISSING if text is None else text
        await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)

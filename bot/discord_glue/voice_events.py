"""Voice state updates as moves: the one place that turns discord.py's event into a VoiceMove."""

from __future__ import annotations

from typing import Protocol

import discord
from discord.ext import commands

from bot.discord_glue.ports import VoiceMove


def voice_move_from(member: discord.Member, before: discord.VoiceState, after: discord.VoiceState) -> VoiceMove | None:
    """The move in a voice update, or None for mute/deafen/stream/video toggles.

    Snapshot at once: `after` is discord.py's live object and later events change it.
    """
    before_id = before.channel.id if before.channel else None
    after_id = after.channel.id if after.channel else None
    if before_id == after_id:
        return None
    return VoiceMove(member.guild.id, member.id, before_id, after_id)


class VoiceMoveHandler(Protocol):
    async def on_voice_move(self, move: VoiceMove) -> None: ...


class VoiceMovesCog(commands.Cog):
    """Base of the cogs whose service follows voice moves; set `voice_handler` in __init__."""

    voice_handler: VoiceMoveHandler

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        move = voice_move_from(member, before, after)
        if move is not None:
            await self.voice_handler.on_voice_move(move)

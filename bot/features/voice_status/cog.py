"""The live voice status loop and `!dlvs` (admins)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.features.voice_status.service import VoiceStatusService, trace
from bot.shared.loop import WakeableLoop

log = logging.getLogger(__name__)
TRACE_FILE = Path("data") / "voice_status_trace.log"


class VoiceStatusCog(commands.Cog, name="VoiceStatus"):
    def __init__(self, bot: commands.Bot, service: VoiceStatusService, trace_file: Path = TRACE_FILE) -> None:
        self.bot = bot
        self.service = service
        self.trace_file = trace_file
        self._trace_handler: logging.Handler | None = None
        self.loop = WakeableLoop("voice status", self._pass)

    async def _pass(self) -> float:
        if self.bot.is_ready():
            report = await self.service.run_pass()
            log.debug("voice status pass: %s", report)
        return float(self.service.config.interval_seconds)

    async def cog_load(self) -> None:
        self.loop.start()

    async def cog_unload(self) -> None:
        await self.loop.stop()
        self.set_trace(False)
        if self.service.leases is not None:  # another process takes the passes over at once
            await self.service.leases.release_all()

    def set_trace(self, on: bool) -> None:
        """Trace lines (one JSON line per channel and pass) go to a rotating file: 1 MB x 3."""
        if on and self._trace_handler is None:
            self.trace_file.parent.mkdir(parents=True, exist_ok=True)
            self._trace_handler = logging.handlers.RotatingFileHandler(
                self.trace_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
            )
            trace.addHandler(self._trace_handler)
            trace.setLevel(logging.INFO)
        elif not on and self._trace_handler is not None:
            trace.removeHandler(self._trace_handler)
            self._trace_handler.close()
            self._trace_handler = None
            trace.setLevel(logging.CRITICAL)

    @commands.group(name="dlvs", invoke_without_command=True)
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def dlvs(self, ctx: commands.Context[commands.Bot]) -> None:
        """Live-Voice-Status: Zustand aller überwachten Kanäle."""
        assert ctx.guild is not None
        rows = await self.service.statuses(ctx.guild.id)
        lines = [f"<#{r.channel_id}>: {r.state}{r.suffix or ''}" for r in rows[:25]]
        await ctx.reply("\n".join(lines) or "Noch keine Entscheidungen.", mention_author=False)

    @dlvs.command(name="snapshot")  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def snapshot(self, ctx: commands.Context[commands.Bot], kanal: discord.VoiceChannel | None = None) -> None:
        """Die letzte Entscheidung für einen Kanal (oder deinen)."""
        channel = kanal or (ctx.author.voice.channel if isinstance(ctx.author, discord.Member) and ctx.author.voice
                            else None)  # fmt: skip
        if channel is None:
            await ctx.reply("Nenne einen Sprachkanal oder tritt einem bei.", mention_author=False)
            return
        status = await self.service.snapshot(channel.id)
        if status is None:
            await ctx.reply("Für diesen Kanal gibt es noch keine Entscheidung.", mention_author=False)
            return
        await ctx.reply(
            f"<#{status.channel_id}>: {status.state}{status.suffix or ''} · Spieler {status.players}/{status.slots}"
            f" · zuletzt umbenannt <t:{status.last_rename_at or 0}:R>\n```json\n{status.detail or '{}'}\n```",
            mention_author=False,
        )

    @dlvs.command(name="trace")  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def trace_command(self, ctx: commands.Context[commands.Bot], zustand: str = "status") -> None:
        """Tracing in eine rotierende Datei ein- oder ausschalten (aus als Standard)."""
        if zustand.lower() in ("on", "ein", "an"):
            self.set_trace(True)
        elif zustand.lower() in ("off", "aus"):
            self.set_trace(False)
        state = "an" if self._trace_handler else "aus"
        await ctx.reply(f"Tracing ist {state} ({self.trace_file}).", mention_author=False)

    async def cog_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        if isinstance(error, commands.MissingPermissions):
            await ctx.reply("Dafür brauchst du die Berechtigung „Server verwalten“.", mention_author=False)
        else:
            log.error("!dlvs %s failed", ctx.command, exc_info=error)
            await ctx.reply("Da ist etwas schiefgelaufen.", mention_author=False)

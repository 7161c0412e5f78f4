"""The live voice status loop and `!dlvs` (admins)."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import math
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.checks import require_guild_permission
from bot.discord_glue.ports import VoiceMove
from bot.discord_glue.texts import Common
from bot.discord_glue.voice_events import VoiceMovesCog
from bot.features.voice_status import texts
from bot.features.voice_status.service import VoiceStatusService, trace
from bot.shared.loop import WakeableLoop

log = logging.getLogger(__name__)
T = texts.VoiceStatus
TRACE_FILE = Path("data") / "voice_status_trace.log"


#: a member joining or leaving a monitored channel brings the next pass forward, but passes
#: start at most this often: the watch list gets their Steam account (and the channel its
#: player count) within seconds instead of up to a whole interval later
SOONER_PASS_GAP_SECONDS = 5.0


class VoiceStatusCog(VoiceMovesCog, name="VoiceStatus"):
    def __init__(
        self,
        bot: commands.Bot,
        service: VoiceStatusService,
        trace_file: Path = TRACE_FILE,
        *,
        sooner_gap: float = SOONER_PASS_GAP_SECONDS,
    ) -> None:
        self.bot = bot
        self.service = service
        self.voice_handler = self
        self.trace_file = trace_file
        self._trace_handler: logging.Handler | None = None
        # the first pass runs once discord.py is ready (before it, no channel is cached), not an
        # interval later: a status that ended while the bot was down is replaced at start
        self.loop = WakeableLoop("voice status", self._pass, before_each=bot.wait_until_ready)
        self.sooner_gap = sooner_gap
        self._last_pass_at = -math.inf  # the event loop's clock
        self._sooner: asyncio.TimerHandle | None = None

    async def _pass(self) -> float:
        self._last_pass_at = asyncio.get_running_loop().time()
        report = await self.service.run_pass()
        log.debug("voice status pass: %s", report)
        return float(self.service.config.interval_seconds)

    async def on_voice_move(self, move: VoiceMove) -> None:
        if self._sooner is not None or self._last_pass_at == -math.inf:
            return  # a pass is planned already (the first at ready): it sees this move too
        if not (self.service.monitors(move.before) or self.service.monitors(move.after)):
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_pass_at + self.sooner_gap - loop.time())
        self._sooner = loop.call_later(delay, self._pass_sooner)

    @property
    def sooner_pass_planned(self) -> bool:
        return self._sooner is not None

    def _pass_sooner(self) -> None:
        self._sooner = None
        self.loop.wake()

    async def cog_load(self) -> None:
        self.loop.start()

    async def cog_unload(self) -> None:
        if self._sooner is not None:
            self._sooner.cancel()
            self._sooner = None
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

    async def cog_check(self, ctx: commands.Context[Any]) -> bool:
        """Every `!dlvs` path (subcommands too) needs „Server verwalten“."""
        return require_guild_permission(ctx, "manage_guild")

    @commands.hybrid_group(  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
        name="dlvs",
        invoke_without_command=True,
        fallback="status",
        description=texts.Commands.DLVS,
    )
    @app_commands.default_permissions(manage_guild=True)
    @commands.guild_only()
    async def dlvs(self, ctx: commands.Context[commands.Bot]) -> None:
        """Live-Voice-Status: Zustand aller überwachten Kanäle."""
        assert ctx.guild is not None
        rows = await self.service.statuses(ctx.guild.id)
        lines = [T.LINE.format(channel=r.channel_id, state=r.state, suffix=r.suffix or "") for r in rows[:25]]
        await ctx.reply("\n".join(lines) or T.NO_DECISIONS, mention_author=False)

    @dlvs.command(name="snapshot", description=texts.Commands.DLVS_SNAPSHOT)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(kanal=Common.OPTION_CHANNEL)
    async def snapshot(self, ctx: commands.Context[commands.Bot], kanal: discord.VoiceChannel | None = None) -> None:
        """Die letzte Entscheidung für einen Kanal (oder deinen)."""
        channel = kanal or (ctx.author.voice.channel if isinstance(ctx.author, discord.Member) and ctx.author.voice
                            else None)  # fmt: skip
        if channel is None:
            await ctx.reply(T.NAME_A_CHANNEL, mention_author=False)
            return
        status = await self.service.snapshot(channel.id)
        if status is None:
            await ctx.reply(T.NO_DECISION, mention_author=False)
            return
        # no rename yet: said so, not "<t:0:R>" (which Discord shows as 56 years ago)
        at = status.last_rename_at
        renamed = T.NEVER_RENAMED if at is None else T.RENAMED_AT.format(at=at)
        text = T.SNAPSHOT.format(
            channel=status.channel_id, state=status.state, suffix=status.suffix or "", players=status.players,
            slots=status.slots, renamed=renamed, detail=status.detail or "{}",
        )  # fmt: skip
        await ctx.reply(text, mention_author=False)

    @dlvs.command(name="trace", description=texts.Commands.DLVS_TRACE)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(zustand=texts.Options.STATE)
    async def trace_command(self, ctx: commands.Context[commands.Bot], zustand: str = "status") -> None:
        """Tracing in eine rotierende Datei ein- oder ausschalten (aus als Standard)."""
        if zustand.lower() in ("on", "ein", "an"):
            self.set_trace(True)
        elif zustand.lower() in ("off", "aus"):
            self.set_trace(False)
        state = T.TRACE_ON if self._trace_handler else T.TRACE_OFF
        await ctx.reply(T.TRACE.format(state=state, file=self.trace_file), mention_author=False)

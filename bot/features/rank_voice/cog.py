"""`!rrang` (also /rrang) and the voice events of rank-anchored channels."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.errors import text_prefix
from bot.discord_glue.texts import Common
from bot.discord_glue.voice_events import VoiceMovesCog
from bot.features.rank_voice import texts
from bot.features.rank_voice.service import RankVoiceService
from bot.shared.loop import WakeableLoop
from bot.shared.ranks import RANK_NAMES

log = logging.getLogger(__name__)
T = texts.RankVoice
ON = {"ein", "on", "an", "aktivieren", "enable", "true", "1"}
#: not Optional: a name that is no member is an error the member hears, not the caller's rank instead
CALLER = commands.parameter(default=lambda ctx: ctx.author, displayed_default="du")
OFF = {"aus", "off", "deaktivieren", "disable", "false", "0"}


def _voice_channel_id(ctx: commands.Context[Any]) -> int | None:
    author = ctx.author
    if isinstance(author, discord.Member) and author.voice and author.voice.channel:
        return author.voice.channel.id
    return None


class RankVoiceCog(VoiceMovesCog, name="RankVoice"):
    def __init__(self, bot: commands.Bot, service: RankVoiceService) -> None:
        self.bot = bot
        self.service = service
        self.voice_handler = service
        # once, when the guilds exist (the old bot looked too early)
        self._restorer = WakeableLoop("rank voice restore", self._restore_all, before=bot.wait_until_ready)

    async def cog_load(self) -> None:
        self._restorer.start()

    async def cog_unload(self) -> None:
        await self._restorer.stop()

    async def _restore_all(self) -> None:
        for guild in list(self.bot.guilds):
            await self._restore(guild)

    async def _restore(self, guild: discord.Guild) -> None:
        try:
            removed = await self.service.restore(guild.id)
            if removed:
                log.info("rank voice: %d stale anchor(s) of %s removed", removed, guild.name)
        except Exception:
            log.exception("rank voice: restoring guild %s failed", guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._restore(guild)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.service.on_channel_deleted(channel.id)

    @commands.hybrid_group(name="rrang", fallback="hilfe", description=texts.Commands.RRANG)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @commands.guild_only()
    async def rrang(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.reply(T.HELP.format(prefix=text_prefix(ctx)), mention_author=False)

    @rrang.command(name="status", description=texts.Commands.RRANG_STATUS)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def status(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        rank = await self.service.ranks.rank_of(ctx.guild.id, ctx.author.id)
        anchors = await self.service.list_anchors(ctx.guild.id)
        await ctx.reply(T.STATUS.format(count=len(anchors), rank=rank.label), mention_author=False)

    @rrang.command(name="anker", description=texts.Commands.RRANG_ANKER)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def anker(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        anchors = await self.service.list_anchors(ctx.guild.id)
        lines = [
            T.ANCHOR_LINE.format(
                channel=a.channel_id, rank=a.rank_name, low=RANK_NAMES[a.allowed_min], high=RANK_NAMES[a.allowed_max]
            )
            for a in anchors[:10]
        ]
        await ctx.reply("\n".join(lines) or T.NO_ANCHORS, mention_author=False)

    @rrang.command(name="toggle", description=texts.Commands.RRANG_TOGGLE)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(zustand=texts.Options.STATE)
    async def toggle(self, ctx: commands.Context[commands.Bot], zustand: str | None = None) -> None:
        assert ctx.guild is not None
        channel = _voice_channel_id(ctx)
        if channel is None:
            await ctx.reply(T.NOT_IN_VOICE, mention_author=False)
            return
        if zustand is None or zustand.lower() not in ON | OFF:
            await ctx.reply(await self.service.describe_channel(channel), mention_author=False)
            return
        reply = await self.service.set_enabled(ctx.guild.id, ctx.author.id, channel, zustand.lower() in ON)
        await ctx.reply(reply.text, mention_author=False)

    @rrang.command(name="vcstatus", description=texts.Commands.RRANG_VCSTATUS)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def vcstatus(self, ctx: commands.Context[commands.Bot]) -> None:
        channel = _voice_channel_id(ctx)
        text = await self.service.describe_channel(channel) if channel else T.NOT_IN_VOICE
        await ctx.reply(text, mention_author=False)

    @rrang.command(name="info", description=texts.Commands.RRANG_INFO)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=Common.OPTION_MEMBER)
    async def info(
        self,
        ctx: commands.Context[commands.Bot],
        mitglied: discord.Member = CALLER,
    ) -> None:
        assert ctx.guild is not None
        rank = await self.service.ranks.rank_of(ctx.guild.id, mitglied.id)
        text = T.INFO.format(name=mitglied.display_name, rank=rank.label)
        await ctx.reply(f"{text}\n{T.BALANCING_RULE}", mention_author=False)

    @rrang.command(name="aktualisieren", description=texts.Commands.RRANG_AKTUALISIEREN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(kanal=Common.OPTION_CHANNEL)
    async def aktualisieren(
        self, ctx: commands.Context[commands.Bot], kanal: discord.VoiceChannel | None = None
    ) -> None:
        assert ctx.guild is not None
        channel = kanal.id if kanal else _voice_channel_id(ctx)
        if channel is None:
            await ctx.reply(T.NOT_IN_VOICE, mention_author=False)
            return
        reply = await self.service.refresh(ctx.guild.id, ctx.author.id, channel)
        await ctx.reply(reply.text, mention_author=False)

    @rrang.command(name="rollen", description=texts.Commands.RRANG_ROLLEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def rollen(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        lines = []
        for role in ctx.guild.roles:
            value = self.service.ranks.rank_roles.rank_of_role(role.id, role.name)
            if value:
                lines.append(
                    (value, T.ROLE_LINE.format(rank=RANK_NAMES[value], role=role.mention, count=len(role.members)))
                )
        await ctx.reply("\n".join(text for _, text in sorted(lines)) or T.NO_ROLES,
                        mention_author=False, allowed_mentions=discord.AllowedMentions.none())  # fmt: skip

    @rrang.command(name="kanaele", aliases=["kanäle"], description=texts.Commands.RRANG_KANAELE)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def kanaele(self, ctx: commands.Context[commands.Bot]) -> None:
        config = self.service.config
        ranked = ", ".join(f"<#{c}>" for c in sorted(config.ranked_category_ids)) or "–"
        grind = ", ".join(f"<#{c}>" for c in sorted(config.grind_category_ids)) or "–"
        excluded = ", ".join(f"<#{c}>" for c in sorted(config.excluded_channel_ids)) or "–"
        await ctx.reply(T.CATEGORIES.format(ranked=ranked, grind=grind, excluded=excluded), mention_author=False)

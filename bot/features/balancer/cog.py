"""`!balance` (aliases !bal, !teams; also /balance): balanced teams from a voice channel."""

from __future__ import annotations

import logging
import random
import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.errors import configured_prefix, text_prefix
from bot.discord_glue.texts import Common
from bot.discord_glue.voice_events import VoiceMovesCog
from bot.features.balancer import texts
from bot.features.balancer.embeds import history_embed, member_name, names, split_embed, stats_embed, top_embed
from bot.features.balancer.history import HistoryService
from bot.features.balancer.panel_items import DYNAMIC_ITEMS, PLAYER_BUTTONS, preview_view, selection_view
from bot.features.balancer.panels import PanelService
from bot.features.balancer.results import ResultService, parse_outcome
from bot.features.balancer.rules import MAX_PLAYERS, MIN_PLAYERS
from bot.features.balancer.service import MatchReport, MatchService, match_label
from bot.features.balancer.views import PagerView, ResultButton, answer_result, result_view
from bot.shared.common import Reply, is_valid_id

log = logging.getLogger(__name__)
T = texts.Balancer
R = texts.Results
MENTION = re.compile(r"<@!?(\d+)>|\b(\d{15,20})\b")


def _event_id(ctx: commands.Context[commands.Bot]) -> int:
    """The command's own snowflake (slash: the interaction, prefix: the message): what two
    processes seeing the same command agree on."""
    return ctx.interaction.id if ctx.interaction is not None else ctx.message.id


class BalancerCog(VoiceMovesCog, name="Balancer"):
    def __init__(
        self,
        bot: commands.Bot,
        service: MatchService,
        rng: random.Random | None = None,
        *,
        results: ResultService | None = None,
        history: HistoryService | None = None,
        panels: PanelService | None = None,
    ) -> None:
        self.bot = bot
        self.service = service
        self.voice_handler = service
        self.rng = rng or random.Random()
        self.results = results
        self.history = history
        #: the selection and preview panels live in the database: their buttons survive a restart
        self.panels = panels or PanelService(service, self.rng)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ResultButton, *DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ResultButton, *DYNAMIC_ITEMS)

    def _results(self) -> ResultService:
        if self.results is None:
            raise RuntimeError("the balancer was set up without results")
        return self.results

    def _history(self) -> HistoryService:
        if self.history is None:
            raise RuntimeError("the balancer was set up without history")
        return self.history

    async def announce(self, guild: discord.Guild, send: Any, result: MatchReport | Reply) -> None:
        if isinstance(result, Reply):
            if not result.silent:  # silent: another process started this match and announces it
                await send(result.text)
            return
        embed = split_embed(guild, result.split, T.STARTED.format(id=result.label, moved=len(result.moved)))
        if result.not_in_voice:
            absent = T.NOT_IN_VOICE_LIST.format(names=names(guild, result.not_in_voice))
            embed.add_field(name=R.NOTE_FIELD, value=absent)
        embed.set_footer(text=R.RESULT_FOOTER.format(prefix=configured_prefix(self.bot), id=result.label))
        await send(embed=embed, view=result_view(result.match_id), allowed_mentions=discord.AllowedMentions.none())

    @commands.hybrid_group(  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
        name="balance", aliases=["bal", "teams"], fallback="hilfe", description=texts.Commands.BALANCE
    )
    @commands.guild_only()
    async def balance(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.reply(T.HELP.format(prefix=text_prefix(ctx)), mention_author=False)

    @balance.command(name="auto", aliases=["voice"], description=texts.Commands.BALANCE_AUTO)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def auto(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        result = await self.service.preview(ctx.guild.id, ctx.author.id)
        if isinstance(result, Reply):
            await ctx.reply(result.text, mention_author=False)
            return
        guild = ctx.guild
        preview = await self.panels.open_preview(guild.id, ctx.author.id, result)
        view = preview_view(preview, lambda user_id: member_name(guild, user_id))
        await ctx.reply(embed=split_embed(guild, result), view=view, mention_author=False)

    @balance.command(name="start", description=texts.Commands.BALANCE_START)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def start(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        author = ctx.author
        if not self.service.is_host(self.service.view.member(ctx.guild.id, author.id)):
            await ctx.reply(T.NO_PERMISSION, mention_author=False)
            return
        channel = author.voice.channel if isinstance(author, discord.Member) and author.voice else None
        members = [m for m in channel.members if not m.bot] if channel else []
        if len(members) > MAX_PLAYERS:
            await self._select(ctx, members)
            return
        result = await self.service.start(ctx.guild.id, author.id, event_id=_event_id(ctx))
        await self.announce(ctx.guild, ctx.send, result)

    async def _select(self, ctx: commands.Context[commands.Bot], members: list[discord.Member]) -> None:
        """More than 12 players: the host's selection of up to 12 (stored: it survives a restart)."""
        assert ctx.guild is not None
        guild = ctx.guild
        selection = await self.panels.open_selection(guild.id, ctx.author.id, [m.id for m in members][:PLAYER_BUTTONS])
        view = selection_view(selection, lambda user_id: member_name(guild, user_id))
        await ctx.reply(T.SELECT_TITLE, view=view, mention_author=False)

    @balance.command(name="manual", description=texts.Commands.BALANCE_MANUAL)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(spieler=texts.Options.PLAYERS)
    async def manual(self, ctx: commands.Context[commands.Bot], *, spieler: str) -> None:
        assert ctx.guild is not None
        ids = [int(a or b) for a, b in MENTION.findall(spieler)]
        strangers = [str(i) for i in ids if not is_valid_id(i) or ctx.guild.get_member(i) is None]
        if strangers:
            await ctx.reply(T.NOT_MEMBERS.format(ids=", ".join(strangers)), mention_author=False)
            return
        unique = list(dict.fromkeys(ids))
        if len(unique) < MIN_PLAYERS:
            await ctx.reply(T.TOO_FEW.format(count=len(unique)), mention_author=False)
            return
        if len(unique) > MAX_PLAYERS:  # as with a full voice channel: the host picks the 12
            if not self.service.is_host(self.service.view.member(ctx.guild.id, ctx.author.id)):
                await ctx.reply(T.NO_PERMISSION, mention_author=False)
                return
            found = [ctx.guild.get_member(i) for i in unique]
            await self._select(ctx, [m for m in found if m is not None and not m.bot])
            return
        result = await self.service.start(ctx.guild.id, ctx.author.id, ids, event_id=_event_id(ctx))
        await self.announce(ctx.guild, ctx.send, result)

    @balance.command(name="end", usage="<id> [skip]", description=texts.Commands.BALANCE_END)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(match_id=texts.Options.MATCH_ID, skip=texts.Options.SKIP)
    async def end(
        self, ctx: commands.Context[commands.Bot], match_id: int, skip: Literal["skip"] | None = None
    ) -> None:
        assert ctx.guild is not None
        reply = await self.service.end(ctx.guild.id, ctx.author.id, match_id, skip_debrief=skip is not None)
        await ctx.reply(reply.text, mention_author=False)

    @balance.command(name="result", description=texts.Commands.BALANCE_RESULT)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(match_id=texts.Options.MATCH_ID, ergebnis=texts.Commands.OPTION_OUTCOME)
    async def result(self, ctx: commands.Context[commands.Bot], match_id: int, ergebnis: str) -> None:
        assert ctx.guild is not None
        outcome = parse_outcome(ergebnis)
        if outcome is None:
            await ctx.reply(R.BAD_OUTCOME, mention_author=False)
            return
        text, view = await answer_result(self._results(), ctx.guild.id, ctx.author.id, match_id, outcome)
        if view is None:
            await ctx.reply(text, mention_author=False)
        else:
            await ctx.reply(text, view=view, mention_author=False)

    async def _paged(self, ctx: commands.Context[commands.Bot], first: discord.Embed, pages: int, fetch: Any) -> None:
        if pages <= 1:
            await ctx.reply(embed=first, mention_author=False, allowed_mentions=discord.AllowedMentions.none())
            return
        view = PagerView(ctx.author.id, 0, pages, fetch)
        await ctx.reply(embed=first, view=view, mention_author=False, allowed_mentions=discord.AllowedMentions.none())

    @balance.command(name="history", description=texts.Commands.BALANCE_HISTORY)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_HISTORY_MEMBER)
    async def history_command(
        self, ctx: commands.Context[commands.Bot], mitglied: discord.Member | None = None
    ) -> None:
        assert ctx.guild is not None
        guild, history = ctx.guild, self._history()

        async def page_of(page: int) -> tuple[discord.Embed, int]:
            if mitglied is None:
                lines, info = await history.guild_history(guild.id, page)
                return history_embed(guild, R.GUILD_HISTORY_TITLE, lines, info), info.count
            lines, info = await history.player_history(guild.id, mitglied.id, page)
            return history_embed(guild, R.HISTORY_TITLE.format(name=mitglied.display_name), lines, info), info.count

        async def fetch(page: int) -> discord.Embed:
            return (await page_of(page))[0]

        first, pages = await page_of(0)
        await self._paged(ctx, first, pages, fetch)

    @balance.command(name="top", description=texts.Commands.BALANCE_TOP)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def top(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        guild, history = ctx.guild, self._history()

        async def fetch(page: int) -> discord.Embed:
            rows, info = await history.top(guild.id, page)
            return top_embed(guild, rows, info, history.rated_games)

        rows, info = await history.top(guild.id)
        await self._paged(ctx, top_embed(guild, rows, info, history.rated_games), info.count, fetch)

    @balance.command(name="stats", description=texts.Commands.BALANCE_STATS)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=Common.OPTION_MEMBER)
    async def stats(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member | None = None) -> None:
        assert ctx.guild is not None
        target = mitglied or ctx.author
        history = self._history()
        stats = await history.stats(ctx.guild.id, target.id)
        embed = stats_embed(ctx.guild, stats, history.rated_games)
        await ctx.reply(embed=embed, mention_author=False, allowed_mentions=discord.AllowedMentions.none())

    @balance.command(name="cleanup", description=texts.Commands.BALANCE_CLEANUP)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(stunden=texts.Options.HOURS)
    async def cleanup(self, ctx: commands.Context[commands.Bot], stunden: int = 2) -> None:
        assert ctx.guild is not None
        reply = await self.service.cleanup(ctx.guild.id, ctx.author.id, stunden)
        await ctx.reply(reply.text, mention_author=False)

    @balance.command(name="matches", description=texts.Commands.BALANCE_MATCHES)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def matches(self, ctx: commands.Context[commands.Bot]) -> None:
        assert ctx.guild is not None
        running = await self.service.running(ctx.guild.id)
        now = discord.utils.utcnow().timestamp()
        lines = [
            f"**{match_label(m.match_id)}** ({m.state}) seit {int((now - m.started_at) // 60)} Min." for m in running
        ]
        await ctx.reply("\n".join(lines) or T.NO_MATCHES, mention_author=False)

    @balance.command(name="status", description=texts.Commands.BALANCE_STATUS)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=Common.OPTION_MEMBER)
    async def status(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member | None = None) -> None:
        assert ctx.guild is not None
        target = mitglied or ctx.author
        from_roles = self.service.ranks.from_roles(ctx.guild.id, target.id)
        effective = await self.service.ranks.rank_of(ctx.guild.id, target.id)
        roles = from_roles.label if from_roles else T.NO_RANK_ROLE
        await ctx.reply(
            T.STATUS.format(name=target.display_name, rank=effective.label, role=roles), mention_author=False
        )

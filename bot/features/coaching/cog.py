"""Match coaching on discord.py: the start button, the modal, the steps in a private thread.

The start button keeps the old custom_id `dl_start`. Every step component carries its
session id in its custom_id (dynamic items), so steps keep working after a restart.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.answers import answer, in_time
from bot.discord_glue.checks import require_guild_permission
from bot.discord_glue.errors import Modal, View, answer_errors
from bot.discord_glue.ports import PortError
from bot.features.coaching import texts
from bot.features.coaching.rules import COMMENT_MAX, MATCH_ID_MAX, RANK_KEYS, SUBRANK_KEYS, SUBRANK_LABELS, hero_pages
from bot.features.coaching.service import CoachingService
from bot.shared.common import Reply

log = logging.getLogger(__name__)
T = texts.Coaching
START_CUSTOM_ID = "dl_start"  # the old bot's: its start messages keep working
NO_MENTIONS = discord.AllowedMentions.none()


def _service(interaction: discord.Interaction) -> CoachingService:
    cog = interaction.client.get_cog("Coaching")  # type: ignore[attr-defined]
    if not isinstance(cog, CoachingCog):
        raise RuntimeError("the coaching cog is not loaded")
    return cog.service


async def _reply(interaction: discord.Interaction, reply: Reply) -> None:
    if reply.silent:  # another process handles this submission and answers it
        return
    await answer(interaction, reply.text)


class DiscordCoachingUI:
    """CoachingUI on discord.py."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _thread(self, thread_id: int) -> discord.Thread:
        thread = self.client.get_channel(thread_id)
        if not isinstance(thread, discord.Thread):
            raise PortError(f"thread {thread_id} not found")
        return thread

    async def create_thread(self, guild_id: int, channel_id: int, user_id: int, name: str) -> int:
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise PortError("coaching needs a text channel")
        try:
            thread = await channel.create_thread(name=name, type=discord.ChannelType.private_thread, invitable=False)
            await thread.add_user(discord.Object(user_id))
        except discord.HTTPException as e:
            raise PortError(str(e)) from e
        return thread.id

    async def post_step(self, thread_id: int, session_id: int, step: str) -> None:
        prompts = {
            "rank": T.STEP_RANK,
            "subrank": T.STEP_SUBRANK,
            "hero": T.STEP_HERO,
            "comment": T.STEP_COMMENT,
            "finish": T.STEP_FINISH,
        }
        view = step_view(session_id, step)
        try:
            await self._thread(thread_id).send(prompts[step], view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as e:
            raise PortError(str(e)) from e

    async def post_text(self, thread_id: int, text: str) -> None:
        try:
            await self._thread(thread_id).send(text, allowed_mentions=NO_MENTIONS)  # @everyone pings nobody
        except discord.HTTPException as e:
            raise PortError(str(e)) from e

    async def close_thread(self, thread_id: int) -> None:
        try:
            await self._thread(thread_id).edit(archived=True, locked=True)
        except discord.HTTPException as e:
            raise PortError(str(e)) from e


class RankSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dl:rank:(?P<sid>\d+)"):
    def __init__(self, session_id: int) -> None:
        options = [discord.SelectOption(label=key.title(), value=key) for key in RANK_KEYS]
        super().__init__(discord.ui.Select(custom_id=f"dl:rank:{session_id}", options=options))
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RankSelect:
        return cls(int(match["sid"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            value = self.item.values[0]
            work = _service(interaction).answer(self.session_id, interaction.user.id, "rank", value)
            await _reply(interaction, await in_time(interaction, work))


class SubrankSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dl:subrank:(?P<sid>\d+)"):
    def __init__(self, session_id: int) -> None:
        options = [discord.SelectOption(label=SUBRANK_LABELS[k], value=k) for k in SUBRANK_KEYS]
        super().__init__(discord.ui.Select(custom_id=f"dl:subrank:{session_id}", options=options))
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SubrankSelect:
        return cls(int(match["sid"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            value = self.item.values[0]
            work = _service(interaction).answer(self.session_id, interaction.user.id, "subrank", value)
            reply = await in_time(interaction, work)
            await _reply(interaction, reply)


class HeroSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"dl:hero(?P<page>[12]):(?P<sid>\d+)"):
    def __init__(self, session_id: int, page: int) -> None:
        heroes = hero_pages()[page - 1]
        options = [discord.SelectOption(label=h.name, value=h.key) for h in heroes]
        placeholder = T.HERO_PAGE_1 if page == 1 else T.HERO_PAGE_2
        super().__init__(
            discord.ui.Select(custom_id=f"dl:hero{page}:{session_id}", options=options, placeholder=placeholder)
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> HeroSelect:
        return cls(int(match["sid"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            value = self.item.values[0]
            work = _service(interaction).answer(self.session_id, interaction.user.id, "hero", value)
            await _reply(interaction, await in_time(interaction, work))


class CommentModal(Modal, title=T.COMMENT_BUTTON):
    comment: discord.ui.TextInput[CommentModal] = discord.ui.TextInput(
        label=T.COMMENT_LABEL, style=discord.TextStyle.paragraph, max_length=COMMENT_MAX
    )

    def __init__(self, session_id: int) -> None:
        super().__init__(timeout=600)
        self.session_id = session_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        work = _service(interaction).answer(self.session_id, interaction.user.id, "comment", self.comment.value)
        reply = await in_time(interaction, work)
        await _reply(interaction, reply)


class CommentButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dl:comment:(?P<sid>\d+)"):
    def __init__(self, session_id: int) -> None:
        super().__init__(discord.ui.Button(label=T.COMMENT_BUTTON, custom_id=f"dl:comment:{session_id}"))
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CommentButton:
        return cls(int(match["sid"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            await interaction.response.send_modal(CommentModal(self.session_id))


class FinishButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dl:finish:(?P<sid>\d+)"):
    def __init__(self, session_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=T.FINISH_BUTTON, style=discord.ButtonStyle.success, custom_id=f"dl:finish:{session_id}"
            )
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FinishButton:
        return cls(int(match["sid"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            await interaction.response.defer(ephemeral=True, thinking=True)  # the claim bot may take a moment
            await _reply(interaction, await _service(interaction).finish(self.session_id, interaction.user.id))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    RankSelect,
    SubrankSelect,
    HeroSelect,
    CommentButton,
    FinishButton,
)


def step_view(session_id: int, step: str) -> discord.ui.View:
    view = View(timeout=None)
    if step == "rank":
        view.add_item(RankSelect(session_id))
    elif step == "subrank":
        view.add_item(SubrankSelect(session_id))
    elif step == "hero":
        view.add_item(HeroSelect(session_id, 1))
        view.add_item(HeroSelect(session_id, 2))
    elif step == "comment":
        view.add_item(CommentButton(session_id))
    elif step == "finish":
        view.add_item(FinishButton(session_id))
    return view


class MatchIdModal(Modal, title=T.MATCH_ID_TITLE):
    match_id: discord.ui.TextInput[MatchIdModal] = discord.ui.TextInput(label=T.MATCH_ID_LABEL, max_length=MATCH_ID_MAX)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply, _ = await _service(interaction).start(
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            interaction.user.display_name,
            self.match_id.value,
            event_id=interaction.id,
        )
        await _reply(interaction, reply)


class StartView(View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label=T.START_BUTTON, style=discord.ButtonStyle.primary, custom_id=START_CUSTOM_ID)
    async def start(self, interaction: discord.Interaction, _: discord.ui.Button[StartView]) -> None:
        await interaction.response.send_modal(MatchIdModal())


class CoachingCog(commands.Cog, name="Coaching"):
    def __init__(self, bot: commands.Bot, service: CoachingService) -> None:
        self.bot = bot
        self.service = service
        self.start_view = StartView()

    async def cog_load(self) -> None:
        self.bot.add_view(self.start_view)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.start_view.stop()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_check(self, ctx: commands.Context[Any]) -> bool:
        """Every `!coaching` path (subcommands too) needs „Server verwalten“."""
        return require_guild_permission(ctx, "manage_guild")

    @commands.hybrid_group(  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
        name="coaching",
        invoke_without_command=True,
        fallback="hilfe",
        description=texts.Commands.COACHING,
    )
    @app_commands.default_permissions(manage_guild=True)
    @commands.guild_only()
    async def coaching(self, ctx: commands.Context[commands.Bot]) -> None:
        """Match-Coaching verwalten: `!coaching panel` postet die Startnachricht."""
        await ctx.reply(T.PANEL_HELP.format(prefix=ctx.clean_prefix), mention_author=False)

    @coaching.command(name="panel", description=texts.Commands.COACHING_PANEL)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def panel(self, ctx: commands.Context[commands.Bot]) -> None:
        """Postet die Startnachricht, wenn es noch keine gibt."""
        assert ctx.guild is not None
        existing = await self.service.panel(ctx.guild.id)
        if existing is not None:
            channel = self.bot.get_channel(existing[0])
            if isinstance(channel, discord.TextChannel):
                with contextlib.suppress(discord.NotFound):
                    message = await channel.fetch_message(existing[1])
                    await ctx.reply(T.PANEL_EXISTS.format(link=message.jump_url), mention_author=False)
                    return
        embed = discord.Embed(title=T.PANEL_TITLE, description=T.PANEL_TEXT, colour=discord.Colour.dark_teal())
        message = await ctx.send(embed=embed, view=self.start_view)
        await self.service.remember_panel(ctx.guild.id, ctx.channel.id, message.id)

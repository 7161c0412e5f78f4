"""TempVoice on discord.py: voice events and panel clicks become LaneService calls.

The panel keeps the old bot's custom_ids, so panel messages posted by the old bot keep
working. Every decision (is this a lane, is the clicker its owner, ...) is the service's.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.answers import answer, in_time
from bot.discord_glue.errors import Modal, View
from bot.discord_glue.voice_events import VoiceMovesCog
from bot.features.tempvoice import texts
from bot.features.tempvoice.service import LaneService
from bot.shared.common import UserError
from bot.shared.loop import WakeableLoop
from bot.shared.ranks import RANK_NAMES, rank_from_key, rank_key

log = logging.getLogger(__name__)
T = texts.TempVoice

#: The old bot's custom_ids: old panel messages keep working only while these stay the same.
CUSTOM_IDS = (
    "tv_region_de",
    "tv_region_e",
    "tv_owner_claim",
    "tv_limit_btn",
    "tv_kick",
    "tv_ban",
    "tv_unban",
    "tv_minrank",
    "tv_tpl_reset",
    "tv_tpl_duo",
    "tv_tpl_trio",
)
RECONCILE_EVERY = 180.0


async def _reply(interaction: discord.Interaction, text: str) -> None:
    await answer(interaction, text)


async def _answer(interaction: discord.Interaction, action: Awaitable[str]) -> None:
    """Run a panel action and answer with its text, or with the refusal's (deferred first
    when the action takes long: the answer comes within Discord's 3 seconds either way)."""
    try:
        text = await in_time(interaction, action)
    except UserError as e:
        text = e.text
    await _reply(interaction, text)


def _where(interaction: discord.Interaction) -> tuple[int, int, int | None]:
    assert interaction.guild_id is not None
    return interaction.guild_id, interaction.user.id, interaction.channel_id


class LimitModal(Modal, title=T.LIMIT_MODAL_TITLE):
    limit: discord.ui.TextInput[LimitModal] = discord.ui.TextInput(
        label=T.LIMIT_MODAL_LABEL, min_length=1, max_length=2
    )

    def __init__(self, service: LaneService) -> None:
        super().__init__(timeout=120)
        self.service = service

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.service.panel.set_limit(*_where(interaction), self.limit.value))


class MemberModal(Modal):
    who: discord.ui.TextInput[MemberModal] = discord.ui.TextInput(label=T.USER_MODAL_LABEL, max_length=64)

    def __init__(self, service: LaneService, *, unban: bool) -> None:
        super().__init__(title=T.UNBAN_MODAL_TITLE if unban else T.BAN_MODAL_TITLE, timeout=120)
        self.service = service
        self.unban = unban

    async def on_submit(self, interaction: discord.Interaction) -> None:
        act = self.service.panel.unban if self.unban else self.service.panel.ban
        await _answer(interaction, act(*_where(interaction), self.who.value))


class KickSelect(discord.ui.Select["KickView"]):
    def __init__(self, service: LaneService, options: list[discord.SelectOption]) -> None:
        super().__init__(placeholder=T.KICK_PLACEHOLDER, options=options, min_values=1, max_values=1)
        self.service = service

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.service.panel.kick(*_where(interaction), int(self.values[0])))


class KickView(View):
    def __init__(self, service: LaneService, options: list[discord.SelectOption]) -> None:
        super().__init__(timeout=60)
        self.add_item(KickSelect(service, options))


class MainView(View):
    """The persistent panel (global with !tvpanel, and one in each lane's voice chat)."""

    def __init__(self, service: LaneService) -> None:
        super().__init__(timeout=None)
        self.service = service

    @discord.ui.button(label=T.BUTTON_DE, style=discord.ButtonStyle.secondary, custom_id="tv_region_de", row=0)
    async def region_de(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.set_region(*_where(interaction), "DE"))

    @discord.ui.button(label=T.BUTTON_EU, style=discord.ButtonStyle.secondary, custom_id="tv_region_e", row=0)
    async def region_eu(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.set_region(*_where(interaction), "EU"))

    @discord.ui.button(label=T.BUTTON_CLAIM, style=discord.ButtonStyle.primary, custom_id="tv_owner_claim", row=0)
    async def claim(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.claim(*_where(interaction)))

    @discord.ui.button(label=T.BUTTON_LIMIT, style=discord.ButtonStyle.secondary, custom_id="tv_limit_btn", row=0)
    async def limit(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await interaction.response.send_modal(LimitModal(self.service))

    @discord.ui.button(label=T.BUTTON_KICK, style=discord.ButtonStyle.danger, custom_id="tv_kick", row=1)
    async def kick(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        try:
            found = await in_time(interaction, self.service.panel.kick_candidates(*_where(interaction)))
        except UserError as e:
            await _reply(interaction, e.text)
            return
        options = [discord.SelectOption(label=m.display_name[:100], value=str(m.id)) for m in found]
        await answer(interaction, view=KickView(self.service, options))

    @discord.ui.button(label=T.BUTTON_BAN, style=discord.ButtonStyle.danger, custom_id="tv_ban", row=1)
    async def ban(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await interaction.response.send_modal(MemberModal(self.service, unban=False))

    @discord.ui.button(label=T.BUTTON_UNBAN, style=discord.ButtonStyle.secondary, custom_id="tv_unban", row=1)
    async def unban(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await interaction.response.send_modal(MemberModal(self.service, unban=True))

    @discord.ui.select(
        custom_id="tv_minrank",
        placeholder=T.MINRANK_PLACEHOLDER,
        row=2,
        options=[discord.SelectOption(label=T.MINRANK_NONE, value="unknown")]
        + [discord.SelectOption(label=name, value=rank_key(v)) for v, name in enumerate(RANK_NAMES) if v],
    )
    async def minrank(self, interaction: discord.Interaction, select: discord.ui.Select[MainView]) -> None:
        value = rank_from_key(select.values[0]) or 0
        await _answer(interaction, self.service.panel.set_min_rank(*_where(interaction), value))

    @discord.ui.button(label=T.BUTTON_RESET, style=discord.ButtonStyle.secondary, custom_id="tv_tpl_reset", row=3)
    async def tpl_reset(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.apply_template(*_where(interaction), "reset"))

    @discord.ui.button(label=T.BUTTON_DUO, style=discord.ButtonStyle.secondary, custom_id="tv_tpl_duo", row=3)
    async def tpl_duo(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.apply_template(*_where(interaction), "duo"))

    @discord.ui.button(label=T.BUTTON_TRIO, style=discord.ButtonStyle.secondary, custom_id="tv_tpl_trio", row=3)
    async def tpl_trio(self, interaction: discord.Interaction, _: discord.ui.Button[MainView]) -> None:
        await _answer(interaction, self.service.panel.apply_template(*_where(interaction), "trio"))


def panel_embed(lane_name: str | None, owner_id: int | None) -> discord.Embed:
    title = T.LANE_PANEL_TITLE.format(name=lane_name) if lane_name else T.PANEL_TITLE
    embed = discord.Embed(title=title, description=T.PANEL_DESCRIPTION, colour=discord.Colour.blurple())
    if lane_name is not None:
        embed.add_field(
            name="\u200b", value=T.PANEL_OWNER.format(owner=f"<@{owner_id}>") if owner_id else T.PANEL_OWNER_UNKNOWN
        )
    return embed


class TempVoiceCog(VoiceMovesCog, name="TempVoice"):
    def __init__(self, bot: commands.Bot, service: LaneService, view: MainView | None = None) -> None:
        self.bot = bot
        self.service = service
        self.voice_handler = service
        self.view = view or MainView(service)  # the owner actions add their buttons in a subclass
        self._restored: set[int] = set()  # guilds whose lanes were restored since the start
        self._reconciler = WakeableLoop("tempvoice reconcile", self._reconcile_all, before=bot.wait_until_ready)

    def panel(self, lane_id: int | None, owner_id: int | None, lane_name: str | None) -> tuple[discord.Embed, MainView]:
        return panel_embed(lane_name, owner_id), self.view

    async def cog_load(self) -> None:
        self.bot.add_view(self.view)  # old and new panel messages keep working after a restart
        self._reconciler.start()

    async def cog_unload(self) -> None:
        self.view.stop()
        await self._reconciler.stop()

    async def _reconcile_all(self) -> float:
        for guild in list(self.bot.guilds):  # every guild, not only the first
            try:
                if guild.id in self._restored:
                    changes = await self.service.reconcile(guild.id)
                else:  # the first pass after a start also refreshes the lane panels
                    changes = await self.service.restore(guild.id)
                    self._restored.add(guild.id)
                if changes:
                    log.info("TempVoice reconcile of %s: %d change(s)", guild.name, changes)
            except Exception:
                log.exception("TempVoice reconcile of guild %s failed", guild.id)
        return RECONCILE_EVERY

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.service.on_channel_deleted(channel.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.service.on_member_join(member.guild.id, member.id)

    @commands.hybrid_command(  # type: ignore[arg-type]  # discord.py command typing vs mypy 2
        name="tvpanel",
        aliases=["tempvoicepanel", "tvinterface"],
        description=texts.Commands.TVPANEL,
    )
    @app_commands.default_permissions(manage_guild=True)
    @commands.guild_only()
    @commands.has_guild_permissions(manage_guild=True)
    async def tvpanel(self, ctx: commands.Context[commands.Bot]) -> None:
        """Postet das TempVoice-Panel in diesen Kanal (ersetzt ein älteres Panel hier)."""
        assert ctx.guild is not None
        await self.service.panel.post_global_panel(ctx.guild.id, ctx.channel.id)
        if ctx.interaction is not None:  # /tvpanel: the panel is its own message; answer the command quietly
            await ctx.send(T.PANEL_POSTED, ephemeral=True)
            return
        with contextlib.suppress(discord.HTTPException):
            await ctx.message.delete()

"""The owner actions on discord.py: the panel's new buttons (custom_ids `tv_*`, next to the
old bot's, which keep working) and the `/lane …` hybrid commands. Every decision is the
services'; this module turns clicks and commands into their calls.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.answers import answer, in_time
from bot.discord_glue.errors import Modal, View
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import PermitKind
from bot.features.tempvoice.access_service import LaneAccessService
from bot.features.tempvoice.cog import MainView, _answer, _reply, _where
from bot.features.tempvoice.owner_service import LaneOwnerService
from bot.features.tempvoice.service import LaneService
from bot.shared.common import UserError

log = logging.getLogger(__name__)
L = texts.LaneOwner

#: The owner actions' custom_ids: frozen like the old ones once panels carrying them are posted.
OWNER_CUSTOM_IDS = (
    "tv_rename",
    "tv_lock",
    "tv_hide",
    "tv_permit",
    "tv_trust",
    "tv_reject",
    "tv_transfer",
    "tv_preset",
)
EPHEMERAL_TIMEOUT = 120


class RenameModal(Modal, title=L.RENAME_MODAL_TITLE):
    name: discord.ui.TextInput[RenameModal] = discord.ui.TextInput(
        label=L.RENAME_MODAL_LABEL, min_length=1, max_length=100
    )

    def __init__(self, owner: LaneOwnerService) -> None:
        super().__init__(timeout=EPHEMERAL_TIMEOUT)
        self.owner = owner

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.owner.rename(*_where(interaction), self.name.value))


def _member_options(guild: discord.Guild | None, ids: list[int]) -> list[discord.SelectOption]:
    options = []
    for member_id in ids[:25]:
        member = guild.get_member(member_id) if guild else None
        label = member.display_name if member else str(member_id)
        options.append(discord.SelectOption(label=label[:100], value=str(member_id)))
    return options


#: The selects the panel's buttons offer in ephemeral messages. Fixed custom_ids, and also
#: registered once as persistent views (`owner_picks`): a select still answers after its
#: message's view timed out or the bot restarted (every choice is checked again anyway).
PICK_CUSTOM_IDS = (
    "tv_pick_permit",
    "tv_pick_trust",
    "tv_pick_untrust",
    "tv_pick_reject",
    "tv_pick_unban",
    "tv_pick_transfer",
)


class _Select(discord.ui.Select["discord.ui.View"]):
    """A select of given members whose choice goes to one service call."""

    def __init__(self, placeholder: str, options: list[discord.SelectOption], act: Any, custom_id: str) -> None:
        super().__init__(placeholder=placeholder, options=options, min_values=1, max_values=1, custom_id=custom_id)
        self.act = act

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.act(*_where(interaction), int(self.values[0])))


class _UserSelect(discord.ui.UserSelect["discord.ui.View"]):
    def __init__(self, placeholder: str, act: Any, custom_id: str) -> None:
        super().__init__(placeholder=placeholder, min_values=1, max_values=1, custom_id=custom_id)
        self.act = act

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.act(*_where(interaction), self.values[0].id))


class PermitSelect(discord.ui.MentionableSelect["discord.ui.View"]):
    def __init__(self, access: LaneAccessService) -> None:
        super().__init__(placeholder=L.PERMIT_PLACEHOLDER, min_values=1, max_values=1, custom_id="tv_pick_permit")
        self.access = access

    async def callback(self, interaction: discord.Interaction) -> None:
        chosen = self.values[0]
        kind = PermitKind.ROLE if isinstance(chosen, discord.Role) else PermitKind.MEMBER
        await _answer(interaction, self.access.permit(*_where(interaction), kind, chosen.id))


class _Picks:
    """The owner actions' selects, built alike for an offer and for the persistent views."""

    def __init__(self, access: LaneAccessService, owner: LaneOwnerService) -> None:
        self.access = access
        self.owner = owner

    def trust(self) -> _UserSelect:
        return _UserSelect(L.TRUST_ADD_PLACEHOLDER, self.access.trust, "tv_pick_trust")

    def untrust(self, options: list[discord.SelectOption]) -> _Select:
        return _Select(L.TRUST_REMOVE_PLACEHOLDER, options, self.access.untrust, "tv_pick_untrust")

    def reject(self) -> _UserSelect:
        return _UserSelect(L.REJECT_PLACEHOLDER, self.owner.reject, "tv_pick_reject")

    def unban(self, options: list[discord.SelectOption]) -> _Select:
        return _Select(L.UNBAN_PLACEHOLDER, options, self.owner.unban, "tv_pick_unban")

    def transfer(self, options: list[discord.SelectOption]) -> _Select:
        return _Select(L.TRANSFER_PLACEHOLDER, options, self.owner.transfer, "tv_pick_transfer")


def _view(*items: discord.ui.Item[Any], timeout: float | None = EPHEMERAL_TIMEOUT) -> discord.ui.View:
    view = View(timeout=timeout)
    for item in items:
        view.add_item(item)
    return view


def owner_picks(access: LaneAccessService, owner: LaneOwnerService) -> list[discord.ui.View]:
    """Every select of the owner actions as persistent views (a select fills a row: two views)."""
    p = _Picks(access, owner)
    members = _view(p.trust(), p.untrust([]), p.reject(), p.unban([]), p.transfer([]), timeout=None)
    return [members, _view(PermitSelect(access), timeout=None)]


def _mentions(ids: list[int]) -> str:
    return ", ".join(f"<@{i}>" for i in ids)


class LanePanel(MainView):
    """The old panel plus the owner actions (one persistent view: old and new panels keep working)."""

    def __init__(self, service: LaneService, access: LaneAccessService, owner: LaneOwnerService) -> None:
        super().__init__(service)
        self.access = access
        self.owner = owner
        self.picks = _Picks(access, owner)

    async def _may_manage(self, interaction: discord.Interaction) -> bool:
        """Whether the clicker may manage the lane (before a modal or select is offered); if
        not, they read why."""
        try:
            await self.service.panel._guarded(*_where(interaction))
        except UserError as e:
            await _reply(interaction, e.text)
            return False
        return True

    @discord.ui.button(label=L.BUTTON_RENAME, style=discord.ButtonStyle.primary, custom_id="tv_rename", row=0)
    async def rename(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        """Only who may rename gets the modal (the submit checks again: the owner may change meanwhile)."""
        if await self._may_manage(interaction):
            await interaction.response.send_modal(RenameModal(self.owner))

    @discord.ui.button(label=L.BUTTON_LOCK, style=discord.ButtonStyle.secondary, custom_id="tv_lock", row=1)
    async def lock(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        await _answer(interaction, self.access.toggle_lock(*_where(interaction)))

    @discord.ui.button(label=L.BUTTON_HIDE, style=discord.ButtonStyle.secondary, custom_id="tv_hide", row=1)
    async def hide(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        await _answer(interaction, self.access.toggle_hide(*_where(interaction)))

    @discord.ui.button(label=L.BUTTON_PERMIT, style=discord.ButtonStyle.success, custom_id="tv_permit", row=3)
    async def permit(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        if await self._may_manage(interaction):
            view = _view(PermitSelect(self.access))
            await answer(interaction, L.CHOOSE, view=view)

    @discord.ui.button(label=L.BUTTON_TRUST, style=discord.ButtonStyle.success, custom_id="tv_trust", row=3)
    async def trust(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        try:
            trusted = await in_time(interaction, self.access.trusted(*_where(interaction)))
        except UserError as e:
            await _reply(interaction, e.text)
            return
        items: list[discord.ui.Item[Any]] = [self.picks.trust()]
        if trusted:
            items.append(self.picks.untrust(_member_options(interaction.guild, trusted)))
        text = L.TRUSTED_LIST.format(members=_mentions(trusted)) if trusted else L.TRUSTED_NONE
        await answer(interaction, text, view=_view(*items))

    @discord.ui.button(label=L.BUTTON_REJECT, style=discord.ButtonStyle.danger, custom_id="tv_reject", row=4)
    async def reject(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        try:
            banned = await in_time(interaction, self.owner.banned(*_where(interaction)))
        except UserError as e:
            await _reply(interaction, e.text)
            return
        items: list[discord.ui.Item[Any]] = [self.picks.reject()]
        if banned:
            items.append(self.picks.unban(_member_options(interaction.guild, banned)))
        text = L.BANNED_LIST.format(members=_mentions(banned[:25])) if banned else L.BANNED_NONE
        await answer(interaction, text, view=_view(*items))

    @discord.ui.button(label=L.BUTTON_TRANSFER, style=discord.ButtonStyle.secondary, custom_id="tv_transfer", row=4)
    async def transfer(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        try:
            found = await in_time(interaction, self.owner.transfer_candidates(*_where(interaction)))
        except UserError as e:
            await _reply(interaction, e.text)
            return
        options = [discord.SelectOption(label=m.display_name[:100], value=str(m.id)) for m in found]
        view = _view(self.picks.transfer(options))
        await answer(interaction, L.CHOOSE, view=view)

    @discord.ui.button(label=L.BUTTON_PRESET, style=discord.ButtonStyle.secondary, custom_id="tv_preset", row=4)
    async def preset(self, interaction: discord.Interaction, _: discord.ui.Button[LanePanel]) -> None:
        await _answer(interaction, self.owner.save_preset(*_where(interaction)))


def _ctx_where(ctx: commands.Context[commands.Bot]) -> tuple[int, int, int | None]:
    assert ctx.guild is not None
    return ctx.guild.id, ctx.author.id, ctx.channel.id


async def _say(ctx: commands.Context[commands.Bot], action: Awaitable[str]) -> None:
    """Run an owner action and answer with its text, or with the refusal's."""
    try:
        text = await action
    except UserError as e:
        text = e.text
    await ctx.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


class LaneCommands(commands.Cog, name="Lane"):
    """`/lane …` (also `!lane …`): the panel's owner actions as commands, on the lane you are in."""

    def __init__(self, access: LaneAccessService, owner: LaneOwnerService) -> None:
        self.access = access
        self.owner = owner

    async def cog_check(self, ctx: commands.Context[commands.Bot]) -> bool:  # type: ignore[override]
        """Every `/lane` command, also a subcommand called directly, works only on a server."""
        if ctx.guild is None:
            raise commands.NoPrivateMessage()
        return True

    @commands.hybrid_group(name="lane", fallback="hilfe", description=texts.Commands.LANE)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @commands.guild_only()
    async def lane(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send(texts.LaneOwner.HELP, ephemeral=True)

    @lane.command(name="umbenennen", description=texts.Commands.LANE_UMBENENNEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(name=texts.Commands.OPTION_NAME)
    async def umbenennen(self, ctx: commands.Context[commands.Bot], *, name: str) -> None:
        await _say(ctx, self.owner.rename(*_ctx_where(ctx), name))

    @lane.command(name="sperren", description=texts.Commands.LANE_SPERREN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def sperren(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.access.set_locked(*_ctx_where(ctx), True))

    @lane.command(name="entsperren", description=texts.Commands.LANE_ENTSPERREN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def entsperren(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.access.set_locked(*_ctx_where(ctx), False))

    @lane.command(name="verstecken", description=texts.Commands.LANE_VERSTECKEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def verstecken(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.access.set_hidden(*_ctx_where(ctx), True))

    @lane.command(name="zeigen", description=texts.Commands.LANE_ZEIGEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def zeigen(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.access.set_hidden(*_ctx_where(ctx), False))

    @lane.command(name="zulassen", description=texts.Commands.LANE_ZULASSEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER, rolle=texts.Commands.OPTION_ROLE)
    async def zulassen(
        self, ctx: commands.Context[commands.Bot], mitglied: discord.Member | None = None,
        rolle: discord.Role | None = None,
    ) -> None:  # fmt: skip
        if mitglied is not None:
            await _say(ctx, self.access.permit(*_ctx_where(ctx), PermitKind.MEMBER, mitglied.id))
        elif rolle is not None:
            await _say(ctx, self.access.permit(*_ctx_where(ctx), PermitKind.ROLE, rolle.id))
        else:
            await ctx.send(L.PERMIT_WHOM, ephemeral=True)

    @lane.command(name="vertrauen", description=texts.Commands.LANE_VERTRAUEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER)
    async def vertrauen(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member) -> None:
        await _say(ctx, self.access.trust(*_ctx_where(ctx), mitglied.id))

    @lane.command(name="misstrauen", description=texts.Commands.LANE_MISSTRAUEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER)
    async def misstrauen(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member) -> None:
        await _say(ctx, self.access.untrust(*_ctx_where(ctx), mitglied.id))

    @lane.command(name="ablehnen", description=texts.Commands.LANE_ABLEHNEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER)
    async def ablehnen(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member) -> None:
        await _say(ctx, self.owner.reject(*_ctx_where(ctx), mitglied.id))

    @lane.command(name="entbannen", description=texts.Commands.LANE_ENTBANNEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER)
    async def entbannen(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member) -> None:
        await _say(ctx, self.owner.unban(*_ctx_where(ctx), mitglied.id))

    @lane.command(name="uebertragen", description=texts.Commands.LANE_UEBERTRAGEN)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    @app_commands.describe(mitglied=texts.Commands.OPTION_MEMBER)
    async def uebertragen(self, ctx: commands.Context[commands.Bot], mitglied: discord.Member) -> None:
        await _say(ctx, self.owner.transfer(*_ctx_where(ctx), mitglied.id))

    @lane.command(name="vorlage", description=texts.Commands.LANE_VORLAGE)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def vorlage(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.owner.save_preset(*_ctx_where(ctx)))

    @lane.command(name="reset", description=texts.Commands.LANE_RESET)  # type: ignore[arg-type]  # discord.py group typing vs mypy 2
    async def reset(self, ctx: commands.Context[commands.Bot]) -> None:
        await _say(ctx, self.owner.reset_preset(ctx.author.id))

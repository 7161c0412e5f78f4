"""The selection's and the preview's components as dynamic items: the custom id names the panel
(`bal:sel:<panel>:...`, `bal:prev:<panel>:...`) and its state is in the database
(panels.py), so a click works after a restart as before it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_glue.errors import View, answer_errors, configured_prefix
from bot.features.balancer import texts
from bot.features.balancer.embeds import member_name, split_embed
from bot.features.balancer.panels import PREVIEW, SELECT, Preview, Selection, Toggle
from bot.shared.common import is_valid_id

if TYPE_CHECKING:
    from bot.features.balancer.cog import BalancerCog

T = texts.Balancer
R = texts.Results
PLAYER_BUTTONS = 23  # 4 rows of 5 and 3 more beside the two controls in the last row
NameOf = Callable[[int], str]


def _cog(interaction: discord.Interaction) -> BalancerCog:
    from bot.features.balancer.cog import BalancerCog

    cog = interaction.client.get_cog("Balancer")  # type: ignore[attr-defined]
    if not isinstance(cog, BalancerCog):
        raise RuntimeError("the balancer cog is not loaded")
    return cog


async def _tell(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True)


def _name_of(guild: discord.Guild) -> NameOf:
    return lambda user_id: member_name(guild, user_id)


# -- the host's selection -------------------------------------------------------------------


class SelectionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bal:sel:(?P<panel>\d+):(?P<action>p:(?P<user>\d+)|random|start)",
):
    """A player (pick or unpick), "Zufällige Auswahl" or "Match starten" of a selection."""

    def __init__(self, panel_id: int, action: str, **button: Any) -> None:
        super().__init__(discord.ui.Button(custom_id=f"bal:sel:{panel_id}:{action}", **button))
        self.panel_id = panel_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SelectionButton:
        return cls(int(match["panel"]), match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            await selection_click(interaction, self.panel_id, self.action)


def selection_view(selection: Selection, name_of: NameOf) -> View:
    view = View(timeout=None)
    for i, user_id in enumerate(selection.players[:PLAYER_BUTTONS]):
        chosen = user_id in selection.chosen
        view.add_item(
            SelectionButton(
                selection.panel_id,
                f"p:{user_id}",
                label=name_of(user_id)[:80],
                style=discord.ButtonStyle.success if chosen else discord.ButtonStyle.secondary,
                row=i // 5 if i < 20 else 4,
            )
        )
    view.add_item(
        SelectionButton(
            selection.panel_id,
            "start",
            label=T.SELECT_START.format(count=len(selection.chosen)),
            style=discord.ButtonStyle.success,
            row=4,
            disabled=not selection.ready,
        )
    )
    view.add_item(
        SelectionButton(selection.panel_id, "random", label=T.SELECT_RANDOM, style=discord.ButtonStyle.primary, row=4)
    )
    return view


async def selection_click(interaction: discord.Interaction, panel_id: int, action: str) -> None:
    guild = interaction.guild
    if guild is None:
        return
    cog = _cog(interaction)
    panels = cog.panels
    gone = T.SELECT_GONE.format(prefix=configured_prefix(interaction.client))
    owner = await panels.owner(panel_id, guild.id, SELECT)
    if owner is None:
        return await _tell(interaction, gone)
    if interaction.user.id != owner:
        return await _tell(interaction, T.SELECT_ONLY_HOST)
    if action == "start":
        current = await panels.selection(panel_id, guild.id)
        if current is not None and not current.ready:
            return await _tell(interaction, T.TOO_FEW.format(count=len(current.chosen)))
        chosen = await panels.take_selection(panel_id, guild.id)
        if chosen is None:
            return await _tell(interaction, gone)
        await interaction.response.edit_message(view=None)
        report = await cog.service.start(guild.id, owner, sorted(chosen), event_id=interaction.id)
        await cog.announce(guild, interaction.followup.send, report)
        return None
    changed: Selection | Toggle | None
    if action == "random":
        changed = await panels.pick_random(panel_id, guild.id)
    else:
        changed = await panels.toggle(panel_id, guild.id, int(action.removeprefix("p:")))
    if changed is Toggle.TOO_MANY:
        return await _tell(interaction, T.SELECT_TOO_MANY)
    if not isinstance(changed, Selection):
        return await _tell(interaction, gone)
    await interaction.response.edit_message(view=selection_view(changed, _name_of(guild)))
    return None


# -- the preview ----------------------------------------------------------------------------


class PreviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bal:prev:(?P<panel>\d+):(?P<action>reroll|start)"
):
    """ "Neu würfeln" (anyone who may use the preview) or "Match starten" (a host)."""

    def __init__(self, panel_id: int, action: str, **button: Any) -> None:
        super().__init__(discord.ui.Button(custom_id=f"bal:prev:{panel_id}:{action}", **button))
        self.panel_id = panel_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PreviewButton:
        return cls(int(match["panel"]), match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            await preview_click(interaction, self.panel_id, self.action, [])


class PreviewSwap(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"bal:prev:(?P<panel>\d+):swap"):
    """A host swaps two players of different teams before the start."""

    def __init__(self, panel_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"bal:prev:{panel_id}:swap",
                placeholder=R.SWAP_PLACEHOLDER,
                min_values=2,
                max_values=2,
                options=options or [discord.SelectOption(label="-", value="0"), discord.SelectOption(label="-")],
            )
        )
        self.panel_id = panel_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PreviewSwap:
        return cls(int(match["panel"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answer_errors(interaction, self.item.custom_id):
            await preview_click(interaction, self.panel_id, "swap", list(self.item.values))


def preview_view(preview: Preview, name_of: NameOf) -> View:
    split = preview.split
    view = View(timeout=None)
    view.add_item(PreviewButton(preview.panel_id, "reroll", label=R.REROLL, style=discord.ButtonStyle.primary))
    view.add_item(PreviewButton(preview.panel_id, "start", label=R.START, style=discord.ButtonStyle.success))
    options = [
        discord.SelectOption(label=f"{'🟠' if p in split.team_a else '🔵'} {name_of(p.id)}"[:100], value=str(p.id))
        for p in (*split.team_a, *split.team_b)
    ][:25]
    view.add_item(PreviewSwap(preview.panel_id, options))
    return view


async def preview_click(interaction: discord.Interaction, panel_id: int, action: str, values: list[str]) -> None:
    guild = interaction.guild
    if guild is None:
        return
    cog = _cog(interaction)
    panels, service = cog.panels, cog.service
    gone = T.PREVIEW_GONE.format(prefix=configured_prefix(interaction.client))
    owner = await panels.owner(panel_id, guild.id, PREVIEW)
    if owner is None:
        return await _tell(interaction, gone)
    is_host = service.is_host(service.view.member(guild.id, interaction.user.id))
    if interaction.user.id != owner and not is_host:
        return await _tell(interaction, R.PREVIEW_ONLY)
    if action == "reroll":
        changed = await panels.reroll(panel_id, guild.id)
    elif not is_host:
        return await _tell(interaction, R.ONLY_HOST)
    elif action == "swap":
        ids = [int(v) for v in values if v.isdigit() and is_valid_id(int(v))]
        try:
            if len(ids) != 2:
                raise ValueError("two players")
            changed = await panels.swap(panel_id, guild.id, ids[0], ids[1])
        except ValueError:
            return await _tell(interaction, R.SWAP_BAD)
    else:
        split = await panels.take_preview(panel_id, guild.id)
        if split is None:
            return await _tell(interaction, gone)
        await interaction.response.edit_message(view=None)
        report = await service.start(guild.id, interaction.user.id, event_id=interaction.id, preset=split)
        await cog.announce(guild, interaction.followup.send, report)
        return None
    if changed is None:
        return await _tell(interaction, gone)
    await interaction.response.edit_message(
        embed=split_embed(guild, changed.split), view=preview_view(changed, _name_of(guild))
    )
    return None


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (SelectionButton, PreviewButton, PreviewSwap)

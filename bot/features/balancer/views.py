"""The balancer's buttons: results on the match message (they survive a restart), the correction's
confirmation, the preview's "Neu würfeln" / swap / start, and paging of long lists."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord

from bot.discord_glue.errors import View
from bot.features.balancer import texts
from bot.features.balancer.results import Outcome, ResultReport, ResultService, ResultStatus
from bot.features.balancer.rules import Player, Split, balance, swap

log = logging.getLogger(__name__)
T = texts.Results
RESULT_ID = "bal:result:{match_id}:{outcome}"


def result_text(report: ResultReport, wanted: Outcome) -> str:
    label = f"{report.match_id:03d}"
    outcome = T.OUTCOME[report.outcome.value] if report.outcome else ""
    match report.status:
        case ResultStatus.NO_PERMISSION:
            return T.NO_PERMISSION
        case ResultStatus.NO_MATCH:
            return T.NO_MATCH.format(id=label)
        case ResultStatus.RECORDED if report.changes:
            return T.RECORDED_RATED.format(id=label, outcome=outcome, count=len(report.changes))
        case ResultStatus.RECORDED:
            return T.RECORDED.format(id=label, outcome=outcome)
        case ResultStatus.CORRECTED:
            return T.CORRECTED.format(id=label, outcome=outcome)
        case ResultStatus.UNCHANGED:
            return T.UNCHANGED.format(id=label, outcome=outcome)
        case ResultStatus.ALREADY_RECORDED:
            return T.ALREADY.format(id=label, outcome=outcome, new=T.OUTCOME[wanted.value])
    raise AssertionError(report.status)


async def answer_result(
    results: ResultService, guild_id: int, actor_id: int, match_id: int, outcome: Outcome
) -> tuple[str, discord.ui.View | None]:
    """Record a result; the text to answer and, for a host's second result, the confirmation view."""
    report = await results.record(guild_id, actor_id, match_id, outcome)
    view = None
    if report.status is ResultStatus.ALREADY_RECORDED:
        view = ConfirmCorrectionView(results, guild_id, actor_id, match_id, outcome)
    return result_text(report, outcome), view


def _results_of(interaction: discord.Interaction) -> ResultService:
    cog = interaction.client.get_cog("Balancer")  # type: ignore[attr-defined]
    results = getattr(cog, "results", None)
    if not isinstance(results, ResultService):
        raise RuntimeError("the balancer cog is not loaded")
    return results


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"bal:result:(?P<match_id>\d+):(?P<outcome>amber|sapphire|aborted)",
):
    """A result button on the match message; its custom_id carries the match, so it keeps working
    after a restart."""

    LABELS: ClassVar[dict[Outcome, str]] = {
        Outcome.AMBER: T.BUTTON_AMBER,
        Outcome.SAPPHIRE: T.BUTTON_SAPPHIRE,
        Outcome.ABORTED: T.BUTTON_ABORT,
    }
    STYLES: ClassVar[dict[Outcome, discord.ButtonStyle]] = {
        Outcome.AMBER: discord.ButtonStyle.primary,
        Outcome.SAPPHIRE: discord.ButtonStyle.primary,
        Outcome.ABORTED: discord.ButtonStyle.secondary,
    }

    def __init__(self, match_id: int, outcome: Outcome) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[outcome],
                style=self.STYLES[outcome],
                custom_id=RESULT_ID.format(match_id=match_id, outcome=outcome.value),
            )
        )
        self.match_id = match_id
        self.outcome = outcome

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ResultButton:
        return cls(int(match["match_id"]), Outcome(match["outcome"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            return
        text, view = await answer_result(
            _results_of(interaction), interaction.guild_id, interaction.user.id, self.match_id, self.outcome
        )
        if view is None:
            await interaction.response.send_message(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True)


def result_view(match_id: int) -> discord.ui.View:
    view = View(timeout=None)
    for outcome in Outcome:
        view.add_item(ResultButton(match_id, outcome))
    return view


class ConfirmCorrectionView(View):
    """A host's second result for a match: one button confirms the correction."""

    def __init__(self, results: ResultService, guild_id: int, actor_id: int, match_id: int, outcome: Outcome) -> None:
        super().__init__(timeout=120)
        self.results, self.guild_id, self.actor_id = results, guild_id, actor_id
        self.match_id, self.outcome = match_id, outcome
        button: discord.ui.Button[ConfirmCorrectionView] = discord.ui.Button(
            label=T.CONFIRM, style=discord.ButtonStyle.danger
        )
        button.callback = self._confirm  # type: ignore[method-assign]
        self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.actor_id:
            await interaction.response.send_message(T.CONFIRM_ONLY_ACTOR, ephemeral=True)
            return False
        return True

    async def confirm(self) -> str:
        report = await self.results.record(self.guild_id, self.actor_id, self.match_id, self.outcome, correct=True)
        return result_text(report, self.outcome)

    async def _confirm(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(content=await self.confirm(), view=None)


Starter = Callable[[discord.Interaction, Split], Awaitable[None]]
Render = Callable[[Split], discord.Embed]


class PreviewView(View):
    """Under a preview: "Neu würfeln" (another near-best split) for the caller and hosts; hosts may
    swap two players and start the match with exactly these teams."""

    def __init__(
        self,
        split: Split,
        players: list[Player],
        *,
        owner_id: int,
        is_host: Callable[[int], bool],
        render: Render,
        start: Starter,
        rng: random.Random,
        name_of: Callable[[int], str] = str,
    ) -> None:
        super().__init__(timeout=600)
        self.split, self.players, self.owner_id, self.name_of = split, players, owner_id, name_of
        self.is_host, self.render, self.start, self.rng = is_host, render, start, rng
        reroll: discord.ui.Button[PreviewView] = discord.ui.Button(label=T.REROLL, style=discord.ButtonStyle.primary)
        reroll.callback = self._reroll  # type: ignore[method-assign]
        start_button: discord.ui.Button[PreviewView] = discord.ui.Button(
            label=T.START, style=discord.ButtonStyle.success
        )
        start_button.callback = self._start  # type: ignore[method-assign]
        self.swap_select: discord.ui.Select[PreviewView] = discord.ui.Select(
            placeholder=T.SWAP_PLACEHOLDER, min_values=2, max_values=2, options=self._options()
        )
        self.swap_select.callback = self._swap  # type: ignore[method-assign]
        for item in (reroll, start_button, self.swap_select):
            self.add_item(item)

    def _options(self) -> list[discord.SelectOption]:
        return [
            discord.SelectOption(
                label=f"{'🟠' if p in self.split.team_a else '🔵'} {self.name_of(p.id)}"[:100], value=str(p.id)
            )
            for p in (*self.split.team_a, *self.split.team_b)
        ][:25]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id and not self.is_host(interaction.user.id):
            await interaction.response.send_message(T.PREVIEW_ONLY, ephemeral=True)
            return False
        return True

    def reroll(self) -> Split:
        """Another near-best split of the same players (the current one only if it is the only one)."""
        bench = [p.id for p in self.split.bench]
        self.split = balance(self.players, self.rng, host_bench=bench, avoid=[p.id for p in self.split.team_a])
        self.swap_select.options = self._options()
        return self.split

    def swap(self, first: int, second: int) -> Split:
        self.split = swap(self.split, first, second)
        self.swap_select.options = self._options()
        return self.split

    async def _reroll(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(embed=self.render(self.reroll()), view=self)

    async def _swap(self, interaction: discord.Interaction) -> None:
        if not self.is_host(interaction.user.id):
            await interaction.response.send_message(T.ONLY_HOST, ephemeral=True)
            return
        first, second = (int(v) for v in self.swap_select.values)
        try:
            split = self.swap(first, second)
        except ValueError:
            await interaction.response.send_message(T.SWAP_BAD, ephemeral=True)
            return
        await interaction.response.edit_message(embed=self.render(split), view=self)

    async def _start(self, interaction: discord.Interaction) -> None:
        if not self.is_host(interaction.user.id):
            await interaction.response.send_message(T.ONLY_HOST, ephemeral=True)
            return
        self.stop()
        await interaction.response.edit_message(view=None)
        await self.start(interaction, self.split)


class PagerView(View):
    """◀ ▶ under a long list; only who opened it turns the pages."""

    def __init__(self, owner_id: int, page: int, pages: int, fetch: Callable[[int], Awaitable[discord.Embed]]) -> None:
        super().__init__(timeout=300)
        self.owner_id, self.page, self.pages, self.fetch = owner_id, page, pages, fetch
        self.back: discord.ui.Button[PagerView] = discord.ui.Button(label="◀", style=discord.ButtonStyle.secondary)
        self.forward: discord.ui.Button[PagerView] = discord.ui.Button(label="▶", style=discord.ButtonStyle.secondary)
        self.back.callback = self._back  # type: ignore[method-assign]
        self.forward.callback = self._forward  # type: ignore[method-assign]
        self.add_item(self.back)
        self.add_item(self.forward)
        self._restyle()

    def _restyle(self) -> None:
        self.back.disabled = self.page <= 0
        self.forward.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(T.PAGE_ONLY_OWNER, ephemeral=True)
            return False
        return True

    async def turn(self, step: int) -> discord.Embed:
        self.page = max(0, min(self.pages - 1, self.page + step))
        self._restyle()
        return await self.fetch(self.page)

    async def _back(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(embed=await self.turn(-1), view=self)

    async def _forward(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(embed=await self.turn(1), view=self)

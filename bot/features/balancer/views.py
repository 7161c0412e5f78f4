"""The balancer's buttons: results on the match message (they survive a restart), the correction's
confirmation and paging of long lists (the selection and preview: panel_items.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord

from bot.discord_glue.errors import View
from bot.features.balancer import texts
from bot.features.balancer.results import Outcome, ResultReport, ResultService, ResultStatus

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

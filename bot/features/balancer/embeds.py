"""The balancer's embeds: a split with each player's value and the win chance, history, leaderboard, stats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import discord

from bot.db.queries import PlayerRating
from bot.features.balancer import texts
from bot.features.balancer.history import MatchLine, Page, Stats
from bot.features.balancer.ratings import Rating
from bot.features.balancer.rules import Player, Split, ValueSource, team_avg, team_sum, team_var

T = texts.Results
TEAMS = (("amber", "🟠"), ("sapphire", "🔵"))


def member_name(guild: discord.Guild, member_id: int) -> str:
    if member_id < 0:
        return "(anonym)"
    member = guild.get_member(member_id)
    return member.display_name if member else str(member_id)


def names(guild: discord.Guild, ids: Iterable[Any]) -> str:
    """Display names of members (ids or objects with an id)."""
    return ", ".join(member_name(guild, getattr(item, "id", item)) for item in ids) or "–"


def value_label(player: Player) -> str:
    template = T.VALUE_RATING if player.source is ValueSource.RATING else T.VALUE_RANK
    return template.format(value=player.rating, rank=player.rank_label or "–")


def team_text(guild: discord.Guild, team: Sequence[Player]) -> str:
    """One line per player (name, rank or rating) and the old bot's totals: sum, average, variance."""
    lines = [f"{member_name(guild, p.id)} · {value_label(p)}" for p in team]
    lines.append(T.TEAM_TOTALS.format(sum=team_sum(team), avg=team_avg(team), var=team_var(team)))
    return "\n".join(lines)[:1024]


def split_embed(guild: discord.Guild, split: Split, title: str = T.PREVIEW_TITLE) -> discord.Embed:
    """The teams with the value the balancer used per player (rank or rating), each team's sum,
    average and variance, the balance mark and the win chance."""
    embed = discord.Embed(title=title, colour=discord.Colour.orange())
    for label, team in ((texts.Balancer.TEAM_AMBER, split.team_a), (texts.Balancer.TEAM_SAPPHIRE, split.team_b)):
        embed.add_field(name=label, value=team_text(guild, team), inline=True)
    balance_line = T.BALANCE_LINE.format(mark=split.mark, diff=split.avg_diff)
    chance = split.win_chance
    if chance is not None:
        balance_line += "\n" + T.WIN_CHANCE.format(a=chance, b=1 - chance)
    embed.add_field(name=T.BALANCE_FIELD, value=balance_line, inline=False)
    if split.bench:
        embed.add_field(name=T.BENCH_FIELD, value=names(guild, list(split.bench)), inline=False)
    return embed


def _outcome(line: MatchLine) -> str:
    if line.outcome is not None:
        return T.OUTCOME[line.outcome]
    return T.RUNNING if line.state in ("active", "debrief") else T.NO_RESULT


def _match_field(guild: discord.Guild, line: MatchLine) -> tuple[str, str]:
    when = f"<t:{line.started_at}:d>"
    head = f"Match {line.match_id:03d} · {when} · {_outcome(line)}"
    teams = []
    for team, mark in TEAMS:
        teams.append(f"{mark} " + names(guild, [p.user_id for p in line.roster if p.team == team]))
    delta = line.delta
    if delta is not None and line.entry is not None:
        teams.append(f"Team {'Amber' if line.entry.team == 'amber' else 'Sapphire'} · Wertung {delta:+.1f}")
    return head, "\n".join(teams)


def history_embed(guild: discord.Guild, title: str, lines: Sequence[MatchLine], page: Page) -> discord.Embed:
    embed = discord.Embed(title=title, colour=discord.Colour.orange())
    if not lines:
        embed.description = T.NO_HISTORY
    for line in lines:
        name, value = _match_field(guild, line)
        embed.add_field(name=name, value=value[:1024], inline=False)
    embed.set_footer(text=T.PAGE.format(page=page.number + 1, pages=page.count))
    return embed


def top_embed(guild: discord.Guild, rows: Sequence[PlayerRating], page: Page, min_games: int) -> discord.Embed:
    embed = discord.Embed(title=T.TOP_TITLE.format(min=min_games), colour=discord.Colour.gold())
    lines = [
        T.TOP_LINE.format(
            place=page.number * page.size + i + 1,
            name=member_name(guild, r.user_id),
            value=Rating(r.mu, r.sigma).conservative,
            mu=r.mu,
            sigma=r.sigma,
            games=r.games,
            wins=r.wins,
        )
        for i, r in enumerate(rows)
    ]
    embed.description = "\n".join(lines) or T.NO_TOP.format(min=min_games)
    embed.set_footer(text=T.PAGE.format(page=page.number + 1, pages=page.count))
    return embed


def stats_embed(guild: discord.Guild, stats: Stats, min_games: int) -> discord.Embed:
    embed = discord.Embed(title=T.STATS_TITLE.format(name=member_name(guild, stats.user_id)))
    embed.add_field(name=T.STATS_MATCHES, value=T.STATS_MATCHES_VALUE.format(matches=stats.matches, games=stats.games))
    rate = f"{stats.win_rate:.0%}" if stats.win_rate is not None else "–"
    embed.add_field(name=T.STATS_WINS, value=T.STATS_WINS_VALUE.format(wins=stats.wins, rate=rate))
    r = stats.rating
    value = (
        T.STATS_RATING_VALUE.format(value=Rating(r.mu, r.sigma).conservative, mu=r.mu, sigma=r.sigma)
        if r is not None
        else T.STATS_NO_RATING
    )
    embed.add_field(name=T.STATS_RATING, value=value)
    trend = (
        T.STATS_TREND_VALUE.format(delta=stats.trend, count=stats.trend_matches)
        if stats.trend is not None
        else T.STATS_NO_TREND
    )
    embed.add_field(name=T.STATS_TREND, value=trend)
    by = T.BY_RATING if stats.games >= min_games else T.BY_RANK
    embed.add_field(name=T.STATS_BALANCED_BY, value=by.format(min=min_games), inline=False)
    return embed

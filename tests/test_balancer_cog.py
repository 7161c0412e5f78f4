"""The balancer cog through discord.py's real dispatch (tests/bot_harness.py): commands as
gateway messages and slash interactions, clicks as component interactions, every HTTP call
recorded. What a member sees is read from the recorded payloads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from bot.db.queries import queries
from bot.features.balancer.ratings import Rating
from bot.features.balancer.texts import Balancer, Results
from tests.bot_harness import (
    ADMIN,
    BOT_USER,
    GUILD,
    MATCH_CAT,
    MEMBER,
    PLAYERS,
    RANKED,
    Harness,
    _channel,
    _voice_state,
    member,
    open_harness,
    snowflake,
)
from tests.raw_sql import execute

RANKS = ("Eternus II", "Archon IV", "Oracle I", "Phantom III", "Ritualist V", "Alchemist II", "Arcanist I")


def messages(h: Harness) -> list[dict[str, Any]]:
    """Every message the bot sent or answered with (replies, interaction responses, followups)."""
    out = []
    for call in h.calls:
        data = call.payload
        if not isinstance(data, dict) or not call.is_answer:
            continue
        out.append(data["data"] if isinstance(data.get("data"), dict) else data)
    return out


def embeds(h: Harness) -> list[dict[str, Any]]:
    return [e for m in messages(h) for e in m.get("embeds") or []]


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components") or [] for c in row["components"]]


def embed_text(embed: dict[str, Any]) -> str:
    parts = [embed.get("title") or "", embed.get("description") or "", (embed.get("footer") or {}).get("text", "")]
    parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def last_with_components(h: Harness) -> dict[str, Any]:
    found = [m for m in messages(h) if components(m)]
    assert found, f"no message with components: {h.calls}"
    return found[-1]


def move(h: Harness, user_id: int, channel: int | None) -> None:
    """The gateway's VOICE_STATE_UPDATE: `user_id` is now in `channel` (None: left voice)."""
    state = _voice_state(user_id, channel or 0) | {"guild_id": str(GUILD), "member": member(user_id)}
    if channel is None:
        state["channel_id"] = None
    h.bot._connection.parse_voice_state_update(cast(Any, state))


def creates_channels(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Channel creation answers like Discord (and the gateway's CHANNEL_CREATE follows); moves
    are answered with 204. Returns the ids of the created channels as they come."""
    created: list[int] = []
    recorded = h.bot.http.request

    async def request(route: Any, **kwargs: Any) -> Any:
        answer = await recorded(route, **kwargs)
        if route.method == "POST" and route.path == "/guilds/{guild_id}/channels":
            payload = kwargs.get("json") or {}
            data = _channel(snowflake(), 2, payload.get("name", "x"), MATCH_CAT)
            h.bot._connection.parse_channel_create(cast(Any, data))
            created.append(int(data["id"]))
            return data
        if route.method == "PATCH" and route.path == "/guilds/{guild_id}/members/{user_id}":
            return member(int(route.url.rsplit("/", 1)[1]))
        return answer

    monkeypatch.setattr(h.bot.http, "request", request)
    return created


async def set_ranks(h: Harness) -> None:
    async with h.bot.db.transaction() as conn:
        for player, rank in zip(PLAYERS, RANKS * 2, strict=False):
            await execute(cast(Any, conn), "INSERT INTO user_ranks (user_id, rank) VALUES ({}, {})", player, rank)


def mentions(ids: tuple[int, ...] | list[int]) -> str:
    return " ".join(f"<@{i}>" for i in ids)


@pytest.fixture
async def prefixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    """The bot with the prefix `?` (COMMAND_PREFIX)."""
    async with open_harness(tmp_path, monkeypatch, prefix="?") as h:
        yield h


# -- help and the configured prefix ------------------------------------------------------


async def test_the_help_names_the_configured_prefix(prefixed: Harness) -> None:
    await prefixed.say(MEMBER, "?balance")
    assert prefixed.texts()[-1].startswith("**?balance** (auch ?bal, ?teams)")
    assert "!balance" not in prefixed.texts()[-1]


async def test_the_result_footer_names_the_configured_prefix(
    prefixed: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = prefixed
    creates_channels(h, monkeypatch)
    await h.say(ADMIN, "?balance manual " + mentions(PLAYERS[:4]))
    (embed,) = embeds(h)
    footer = embed["footer"]["text"]
    assert footer == Results.RESULT_FOOTER.format(prefix="?", id="001")
    assert "?balance result 001" in footer and "!" not in footer
    ids = [c["custom_id"] for c in components(last_with_components(h))]
    assert ids == ["bal:result:1:amber", "bal:result:1:sapphire", "bal:result:1:aborted"]


# -- the embed: each player's rank or rating, each team's sum, average and variance --------


async def test_the_preview_shows_ranks_and_the_old_team_totals(harness: Harness) -> None:
    h = harness
    await set_ranks(h)
    await h.say(PLAYERS[0], "!balance auto")  # 13 in the channel: one sits out
    (embed,) = embeds(h)
    assert embed["title"] == Results.PREVIEW_TITLE
    amber, sapphire, balance, bench = embed["fields"]
    assert amber["name"] == Balancer.TEAM_AMBER and sapphire["name"] == Balancer.TEAM_SAPPHIRE
    text = embed_text(embed)
    for rank in RANKS:
        assert f"{rank} (" in text, rank
    for team in (amber, sapphire):
        lines = team["value"].splitlines()
        values = [float(v) for v in re.findall(r"\((\d+\.\d\d)\)$", "\n".join(lines[:-1]), re.M)]
        assert len(values) == 6
        mean = sum(values) / 6
        var = sum((v - mean) ** 2 for v in values) / 6
        shown = [float(v) for v in re.findall(r"\d+\.\d\d", lines[-1])]
        assert lines[-1].startswith("Summe ") and "Ø" in lines[-1] and "Varianz" in lines[-1]
        assert shown == pytest.approx([sum(values), mean, var], abs=0.03)  # the values are shown rounded
    assert "Ø-Differenz" in balance["value"] and "Siegchance" in balance["value"]
    assert bench["name"] == Results.BENCH_FIELD


async def test_a_player_with_enough_rated_games_shows_the_rating(harness: Harness) -> None:
    h = harness
    await set_ranks(h)
    async with h.bot.db.transaction() as conn:
        await queries.balancer.upsert_ratings(
            conn,
            [{"guild_id": GUILD, "user_id": PLAYERS[0], "mu": 40.0, "sigma": 2.0, "games": 9, "wins": 6,
              "updated_at": 1}],
        )  # fmt: skip
    await h.say(PLAYERS[0], "!balance auto")
    text = embed_text(embeds(h)[0])
    assert f"Wertung {Rating(40.0, 2.0).balance_value:.2f} ({RANKS[0]})" in text


# -- more than 12 players: the selection, from a voice channel or a list --------------------


async def test_manual_with_more_than_twelve_opens_the_selection(harness: Harness) -> None:
    h = harness
    await h.say(ADMIN, "!balance manual " + mentions(PLAYERS))
    message = last_with_components(h)
    assert message["content"] == Balancer.SELECT_TITLE
    labels = [c.get("label") for c in components(message)]
    assert len(labels) == len(PLAYERS) + 2
    assert Balancer.SELECT_START.format(count=0) in labels and Balancer.SELECT_RANDOM in labels
    assert h.changes() == []


async def test_manual_with_more_than_twelve_needs_a_host(harness: Harness) -> None:
    await harness.say(MEMBER, "!balance manual " + mentions(PLAYERS))
    assert harness.texts()[-1] == Balancer.NO_PERMISSION
    assert not [m for m in messages(harness) if components(m)]


async def test_manual_refuses_strangers_and_too_few(harness: Harness) -> None:
    h = harness
    await h.say(ADMIN, "!balance manual " + mentions([*PLAYERS[:3], BOT_USER + 1]))
    assert h.texts()[-1] == Balancer.NOT_MEMBERS.format(ids=str(BOT_USER + 1))
    await h.say(ADMIN, "!balance manual " + mentions([PLAYERS[0]] * 5 + [PLAYERS[1]]))
    assert h.texts()[-1] == Balancer.TOO_FEW.format(count=2)


async def test_start_in_a_full_channel_opens_the_selection(harness: Harness) -> None:
    h = harness
    move(h, ADMIN, RANKED)  # 14 humans
    await h.say(ADMIN, "!balance start")
    message = last_with_components(h)
    assert message["content"] == Balancer.SELECT_TITLE
    assert len(components(message)) == len(PLAYERS) + 1 + 2

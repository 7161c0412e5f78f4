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


# -- the selection and the preview: clicks through discord.py's dispatch -------------------


def responses(h: Harness) -> list[dict[str, Any]]:
    """The interaction responses (type 4: a new message, 7: the clicked message updated)."""
    return [c.payload for c in h.calls if "/callback" in c.path and isinstance(c.payload, dict)]


def labels(message: dict[str, Any]) -> list[str]:
    return [c.get("label") or "" for c in components(message)]


async def matches_in_db(h: Harness) -> list[tuple[int, str, int]]:
    async with h.bot.db.read() as conn:
        running = await queries.balancer.list_running_matches(conn, guild_id=GUILD)
        out = []
        for m in running:
            for p in await queries.balancer.list_match_players(conn, match_id=m.match_id):
                out.append((m.match_id, p.team, p.user_id))
    return out


async def test_the_host_picks_twelve_and_starts_the_match(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    created = creates_channels(h, monkeypatch)
    await h.say(ADMIN, "!balance manual " + mentions(PLAYERS))
    await h.click(MEMBER, f"bal:sel:1:p:{PLAYERS[0]}")
    assert h.texts()[-1] == Balancer.SELECT_ONLY_HOST
    await h.click(ADMIN, "bal:sel:1:start")  # nobody picked yet (the button is disabled; a crafted click)
    assert h.texts()[-1] == Balancer.TOO_FEW.format(count=0)
    for player in PLAYERS[:12]:
        await h.click(ADMIN, f"bal:sel:1:p:{player}")
    update = responses(h)[-1]
    assert update["type"] == 7
    assert Balancer.SELECT_START.format(count=12) in labels(update["data"])
    picked = [
        c for c in components(update["data"]) if c.get("style") == 3 and c["custom_id"].startswith("bal:sel:1:p:")
    ]
    assert len(picked) == 12
    await h.click(ADMIN, f"bal:sel:1:p:{PLAYERS[12]}")
    assert h.texts()[-1] == Balancer.SELECT_TOO_MANY
    await h.click(ADMIN, "bal:sel:1:start")
    assert responses(h)[-1]["data"]["components"] == []  # the selection's buttons go
    assert len(created) == 2
    assert sorted(p for _, _, p in await matches_in_db(h)) == sorted(PLAYERS[:12])
    assert embeds(h)[-1]["title"] == Balancer.STARTED.format(id="001", moved=12)  # all were in voice
    await h.click(ADMIN, "bal:sel:1:start")  # once only
    assert h.texts()[-1] == Balancer.SELECT_GONE.format(prefix="!")
    assert len(created) == 2


async def test_selection_and_preview_work_after_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_harness(tmp_path, monkeypatch) as h:
        await h.say(ADMIN, "!balance manual " + mentions(PLAYERS))  # panel 1
        await h.say(PLAYERS[0], "!balance auto")  # panel 2
        before = embeds(h)[-1]
    async with open_harness(tmp_path, monkeypatch) as h:  # a new bot on the same database
        creates_channels(h, monkeypatch)
        await h.click(ADMIN, "bal:sel:1:random")
        update = responses(h)[-1]
        assert update["type"] == 7 and Balancer.SELECT_START.format(count=12) in labels(update["data"])
        await h.click(PLAYERS[0], "bal:prev:2:reroll")
        rerolled = responses(h)[-1]["data"]["embeds"][0]
        assert rerolled["fields"][0]["value"] != before["fields"][0]["value"]
        await h.click(ADMIN, "bal:sel:1:start")
        assert len({m for m, _, _ in await matches_in_db(h)}) == 1
        await h.click(ADMIN, "bal:prev:2:start")
        rows = await matches_in_db(h)
        second = [(team, p) for m, team, p in rows if m == 2]
        shown = {
            "amber": rerolled["fields"][0]["value"],
            "sapphire": rerolled["fields"][1]["value"],
        }
        for team, player in second:
            if team != "bench":
                assert f"User {player}" in shown[team]


async def test_the_preview_reroll_swap_and_start_through_clicks(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    creates_channels(h, monkeypatch)
    await h.say(PLAYERS[0], "!balance auto")
    first = last_with_components(h)
    options = next(c for c in components(first) if c["type"] == 3)["options"]
    amber = [int(o["value"]) for o in options if o["label"].startswith("🟠")]
    sapphire = [int(o["value"]) for o in options if o["label"].startswith("🔵")]
    assert len(amber) == len(sapphire) == 6
    await h.click(MEMBER, "bal:prev:1:reroll")
    assert h.texts()[-1] == Results.PREVIEW_ONLY
    await h.click(PLAYERS[0], "bal:prev:1:swap", select=[str(amber[0]), str(sapphire[0])])
    assert h.texts()[-1] == Results.ONLY_HOST
    await h.click(PLAYERS[0], "bal:prev:1:start")
    assert h.texts()[-1] == Results.ONLY_HOST
    await h.click(ADMIN, "bal:prev:1:swap", select=[str(amber[0]), str(amber[1])])
    assert h.texts()[-1] == Results.SWAP_BAD
    await h.click(ADMIN, "bal:prev:1:swap", select=[str(amber[0]), "99999999999999999999999"])
    assert h.texts()[-1] == Results.SWAP_BAD
    await h.click(ADMIN, "bal:prev:1:swap", select=[str(amber[0]), str(sapphire[0])])
    swapped = responses(h)[-1]
    assert swapped["type"] == 7
    assert f"User {sapphire[0]}" in swapped["data"]["embeds"][0]["fields"][0]["value"]
    await h.click(ADMIN, "bal:prev:1:start")
    teams = {(team, p) for _, team, p in await matches_in_db(h)}
    assert ("amber", sapphire[0]) in teams and ("sapphire", amber[0]) in teams
    await h.click(ADMIN, "bal:prev:1:reroll")
    assert h.texts()[-1] == Balancer.PREVIEW_GONE.format(prefix="!")


async def test_an_expired_panel_answers_in_german(prefixed: Harness) -> None:
    h = prefixed
    await h.say(ADMIN, "?balance manual " + mentions(PLAYERS))
    await h.say(PLAYERS[0], "?balance auto")
    async with h.bot.db.transaction() as conn:
        await execute(cast(Any, conn), "UPDATE balancer_panels SET expires_at = {}", 0)
    await h.click(ADMIN, f"bal:sel:1:p:{PLAYERS[0]}")
    assert h.texts()[-1] == Balancer.SELECT_GONE.format(prefix="?")
    await h.click(PLAYERS[0], "bal:prev:2:reroll")
    assert h.texts()[-1] == Balancer.PREVIEW_GONE.format(prefix="?")
    await h.click(ADMIN, "bal:sel:999:random")  # never opened
    assert h.texts()[-1] == Balancer.SELECT_GONE.format(prefix="?")


# -- results on the match message ----------------------------------------------------------


async def test_results_through_the_match_message_and_the_command(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    creates_channels(h, monkeypatch)
    await h.say(ADMIN, "!balance manual " + mentions(PLAYERS[:4]))
    await h.click(MEMBER, "bal:result:1:amber")
    assert h.texts()[-1] == Results.NO_PERMISSION
    await h.click(ADMIN, "bal:result:1:amber")
    assert h.texts()[-1] == Results.RECORDED_RATED.format(id="001", outcome=Results.OUTCOME["amber"], count=4)
    await h.say(ADMIN, "!balance result 1 B")
    message = last_with_components(h)
    assert message["content"] == Results.ALREADY.format(
        id="001", outcome=Results.OUTCOME["amber"], new=Results.OUTCOME["sapphire"]
    )
    await h.say(ADMIN, "!balance result 1 X")
    assert h.texts()[-1] == Results.BAD_OUTCOME
    await h.say(ADMIN, "!balance top")
    await h.say(ADMIN, f"!balance stats <@{PLAYERS[0]}>")
    await h.say(ADMIN, f"!balance history <@{PLAYERS[0]}>")
    await h.say(ADMIN, "!balance history")
    await h.say(ADMIN, "!balance matches")
    assert "**001** (active)" in h.texts()[-1]
    await h.say(ADMIN, "!balance end 1 skip")
    assert h.texts()[-1] == Balancer.ENDED.format(id="001")
    await h.say(ADMIN, f"!balance status <@{PLAYERS[0]}>")
    assert h.texts()[-1].startswith("User ")
    await h.say(ADMIN, "!balance cleanup 3")
    assert h.texts()[-1] == Balancer.CLEANED.format(count=0)
    titles = [e.get("title") for e in embeds(h)]
    assert any(t and t.startswith("Rangliste") for t in titles) and any(t == "Letzte Matches" for t in titles)

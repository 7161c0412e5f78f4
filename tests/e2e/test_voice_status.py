"""The live voice status end to end: `live_player_state` rows (the Node service's) become a
channel name suffix; `deadlock_voice_watch` is refreshed; `!dlvs` shows the decision."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
import time

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord

HOUR = 3600


async def _prepared_database(bot: BotProcess, scene: Scene, players: list[int]) -> None:
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.main", "db", "upgrade", "--db", str(bot.db), "--no-backup"
    )
    assert await upgrade.wait() == 0
    now = int(time.time())
    conn = sqlite3.connect(bot.db)
    with conn:
        for i, uid in enumerate(players):
            steam = f"7656119800000000{i}"
            conn.execute(
                "INSERT INTO steam_links (user_id, steam_id, verified, primary_account) VALUES (?, ?, 1, 1)",
                (uid, steam),
            )
            conn.execute(
                "INSERT INTO live_player_state (steam_id, last_seen_ts, in_deadlock_now, in_match_now_strict,"
                " deadlock_stage, deadlock_updated_at) VALUES (?, ?, 1, 0, 'lobby', ?)",
                (steam, now, now),
            )
    conn.close()


async def test_lobby_status_from_presence_rows(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    players = scene.members[:2]
    await _prepared_database(bot, scene, players)
    bot.env["VOICE_STATUS_INTERVAL_SECONDS"] = str(HOUR)  # only readiness and the joins start a pass
    await bot.start()
    for uid in players:
        await api.join(uid, scene.status_channel)
    await api.until(
        lambda: w.channel_name(scene.status_channel) == "Deadlock 1 - in der Lobby", max_wait=30, why="the lobby suffix"
    )
    watch = bot.rows("SELECT channel_id, updated_at FROM deadlock_voice_watch ORDER BY steam_id")
    assert [c for c, _ in watch] == [scene.status_channel] * 2
    assert all(abs(at - time.time()) < 120 for _, at in watch)  # unix seconds, as the Node service reads them
    assert bot.rows("SELECT holder IS NOT NULL FROM leases WHERE name = ?", f"voice_status:{w.guild_id}") == [(1,)]

    last = max(w.messages, default=0)
    await api.say(scene.admin, scene.commands, "!dlvs")
    await api.until(lambda: api.replies_in(scene.commands, after=last), why="the !dlvs answer")
    assert "lobby - in der Lobby" in api.replies_in(scene.commands, after=last)[0]["content"]
    for text, expected in (
        (f"!dlvs snapshot <#{scene.status_channel}>", "Spieler 2/"),
        (f"!dlvs snapshot <#{scene.status_channel}>", "zuletzt umbenannt <t:1"),  # a unix time, not 0
        ("!dlvs snapshot", "Nenne einen Sprachkanal"),  # the admin is in no voice channel
        ("!dlvs trace ein", "Tracing ist an"),
        ("!dlvs trace aus", "Tracing ist aus"),
    ):
        last = max(w.messages)
        await api.say(scene.admin, scene.commands, text)
        await api.until(lambda after=last: api.replies_in(scene.commands, after=after), why=f"the answer to {text}")  # type: ignore[misc]
        assert expected in api.replies_in(scene.commands, after=last)[0]["content"], text
    assert await bot.stop() == 0
    assert bot.rows("SELECT count(*) FROM leases") == [(0,)]  # released at a clean shutdown
    assert_invariants(api, bot)


def _presence(bot: BotProcess, *, match: bool) -> None:
    """The Node service's rows now say: in a match (one server) or in the lobby."""
    now = int(time.time())
    conn = sqlite3.connect(bot.db)
    with conn:
        conn.execute(
            "UPDATE live_player_state SET in_match_now_strict = ?, deadlock_stage = ?, deadlock_minutes = ?,"
            " last_server_id = ?, last_seen_ts = ?, deadlock_updated_at = ?",
            (
                1 if match else 0,
                "match" if match else "lobby",
                12 if match else None,
                "srv" if match else None,
                now,
                now,
            ),
        )
    conn.close()


async def test_status_suffix_is_replaced_across_a_restart(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """The match suffix set before a restart is replaced by the lobby suffix after it, not
    followed by it ("Deadlock 1 - im Match Min 15 (2/2) - in der Lobby")."""
    api, w = discord_api, discord_api.world
    players = scene.members[:2]
    await _prepared_database(bot, scene, players)
    _presence(bot, match=True)
    bot.env["VOICE_STATUS_INTERVAL_SECONDS"] = str(HOUR)  # only readiness and the joins start a pass
    await bot.start()
    for uid in players:
        await api.join(uid, scene.status_channel)
    in_match = re.compile(r"Deadlock 1 - im Match Min \d+ \(2/2\)")
    await api.until(
        lambda: in_match.fullmatch(w.channel_name(scene.status_channel)), max_wait=30, why="the match suffix"
    )
    assert await bot.stop() == 0

    _presence(bot, match=False)  # the match ended while the bot was down
    await bot.start()
    await bot.ready()
    await api.until(  # the pass at ready, not an hour later
        lambda: w.channel_name(scene.status_channel) == "Deadlock 1 - in der Lobby", max_wait=30, why="the lobby suffix"
    )
    await bot.quiet()
    assert w.channel_name(scene.status_channel) == "Deadlock 1 - in der Lobby"
    assert bot.rows(
        "SELECT value FROM channel_name_parts WHERE channel_id = ? AND part = 'base'", scene.status_channel
    ) == [("Deadlock 1",)]
    assert await bot.stop() == 0
    assert_invariants(api, bot)

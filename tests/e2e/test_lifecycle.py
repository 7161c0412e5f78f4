"""Login, READY and GUILD_CREATE, SIGTERM: the real process against the local Discord API."""

from __future__ import annotations

import signal

from tests.e2e.harness import BotProcess
from tests.e2e.server import LocalDiscord


async def test_login_ready_and_sigterm(discord_api: LocalDiscord, bot: BotProcess) -> None:
    await bot.start()
    assert discord_api.calls_to("GET", "/users/@me")
    scene_channel = next(int(c["id"]) for c in discord_api.world.channels.values() if c["name"] == "bot-befehle")
    await discord_api.say(discord_api.world.bot_id - 0 if False else list(discord_api.world.members)[-1], scene_channel, "!rrang kanaele")
    await discord_api.until(lambda: discord_api.replies_in(scene_channel), why="the reply to !rrang kanaele")
    assert await bot.stop(signal.SIGTERM) == 0
    log = bot.log
    assert "shutting down" in log
    bot.assert_clean_log()
    assert not discord_api.rest.unhandled

"""Login, READY and GUILD_CREATE, SIGTERM: the real process against the local Discord API."""

from __future__ import annotations

import re
import signal

from tests.e2e.harness import BotProcess
from tests.e2e.rest import Hold
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord


async def test_login_ready_and_sigterm(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    """The real process logs in (GET /users/@me), gets READY and the guild, answers a command,
    and a SIGTERM ends it with exit code 0: features unloaded, the database closed once."""
    api = discord_api
    await bot.start()
    assert api.calls_to("GET", "/users/@me")
    assert api.gateway.identifies == 1 and api.gateway.resumes == 0
    await api.say(scene.members[0], scene.commands, "!rrang kanaele")
    await api.until(lambda: api.replies_in(scene.commands), why="the reply to !rrang kanaele")
    assert await bot.stop(signal.SIGTERM) == 0
    log = bot.log
    assert "shutting down" in log and log.count("closed; query metrics") == 1
    for stopped in ("timer service stopped", "rename scheduler stopped", "voice status stopped"):
        assert stopped in log
    bot.assert_clean_log()
    assert not api.rest.unhandled


async def test_sigterm_while_a_lane_is_being_created(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    """SIGTERM while the create call of a lane is on the wire: the handler finishes (the lane is
    created, stored and the member moved in) before Discord and then the database are closed;
    an event arriving during the shutdown starts no handler; exit code 0, a clean log."""
    api = discord_api
    await bot.start()
    api.rest.holds.append(Hold("POST", re.compile(r"^/guilds/\d+/channels$"), 1.0))
    await api.join(scene.members[0], scene.staging)
    await api.until(lambda: any(r.startswith("POST /guilds/") for r in api.rest.received), why="the create call")
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGTERM)
    await bot.until_log("shutting down", why="the shutdown to begin")
    await api.join(scene.members[1], scene.staging)  # during the shutdown: no second lane
    assert await bot.stop(settle=False) == 0
    log = bot.log
    assert "work in flight done" in log and log.count("closed; query metrics") == 1
    assert log.index("work in flight done") < log.index("closed; query metrics")
    bot.assert_clean_log()
    assert len(api.calls_to("POST", r"/guilds/\d+/channels")) == 1
    lane = bot.rows("SELECT channel_id, owner_id FROM tempvoice_lanes")
    assert lane == [(lane[0][0], scene.members[0])]
    assert api.world.voice[scene.members[0]] == lane[0][0]  # moved in before the connection closed
    assert not bot.rows("SELECT * FROM tempvoice_creation_claims")

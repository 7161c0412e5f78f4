"""Slash commands: registered once with German descriptions, not again while unchanged,
`deadlock-bot commands sync --guild`, and the hybrid admin commands answered as slash commands."""

from __future__ import annotations

from bot.discord_glue.command_sync import GLOBAL_KEY, KV_NS
from bot.features.tempvoice.texts import TempVoice
from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json

GLOBAL_PUT = r"/applications/\d+/commands"
COMMANDS = {"balance", "coaching", "dlvs", "lane", "rrang", "tvpanel"}
ADMIN_ONLY = {"coaching", "dlvs", "tvpanel"}


def _described(command: Json) -> list[str]:
    """Names of the command, its subcommands and options that lack a description."""
    missing = [] if command.get("description") else [command["name"]]
    for option in command.get("options") or []:
        missing += [f"{command['name']} {m}" for m in _described(option)]
    return missing


async def test_registered_once_with_german_descriptions(discord_api: LocalDiscord, bot: BotProcess,
                                                        scene: Scene) -> None:  # fmt: skip
    api = discord_api
    await bot.start()
    await bot.until_log("slash commands registered", why="the sync at the first start")
    puts = api.calls_to("PUT", GLOBAL_PUT)
    assert len(puts) == 1
    payload: list[Json] = puts[0].body["_list"]
    assert {c["name"] for c in payload} == COMMANDS
    assert [m for c in payload for m in _described(c)] == []
    by_name = {c["name"]: c for c in payload}
    assert by_name["balance"]["description"] == "Teams nach Rang"
    assert by_name["tvpanel"]["description"].startswith("TempVoice-Panel in diesen Kanal posten")
    end = next(o for o in by_name["balance"]["options"] if o["name"] == "end")
    assert [o["description"] for o in end["options"]] == [
        "Die Nummer des Matches",
        "Ohne Nachbesprechungskanal beenden",
    ]
    for name in ADMIN_ONLY:  # hidden from members who lack Manage Server (1 << 5)
        assert str(by_name[name]["default_member_permissions"]) == str(1 << 5)
    assert len(bot.rows("SELECT v FROM kv_store WHERE ns = ? AND k = ?", KV_NS, GLOBAL_KEY)) == 1
    assert api.rest.commands["global"] and {c["name"] for c in api.rest.commands["global"]} == COMMANDS
    assert await bot.stop() == 0

    await bot.start()  # the same commands: nothing is sent
    await bot.until_log("slash commands unchanged", why="the second start's decision")
    assert len(api.calls_to("PUT", GLOBAL_PUT)) == 1
    assert await bot.stop() == 0

    conn_hash = bot.rows("SELECT v FROM kv_store WHERE ns = ? AND k = ?", KV_NS, GLOBAL_KEY)
    code, out, err = await bot.cli("commands", "sync", "--guild", str(api.world.guild_id), "--db", str(bot.db))
    assert (code, err) == (0, ""), err
    assert f"registered 6 slash command(s) in guild {api.world.guild_id}" in out
    assert "/balance - Teams nach Rang" in out and "    end - Match beenden (Host)" in out
    assert len(api.calls_to("PUT", rf"/applications/\d+/guilds/{api.world.guild_id}/commands")) == 1
    assert bot.rows("SELECT v FROM kv_store WHERE ns = ? AND k = ?", KV_NS, GLOBAL_KEY) == conn_hash
    code, out, err = await bot.cli("commands", "sync", "--db", str(bot.db))
    assert code == 0 and "globally" in out
    assert len(api.calls_to("PUT", GLOBAL_PUT)) == 2
    bot.assert_clean_log()


async def test_commands_sync_reports_a_bad_token_in_one_line(discord_api: LocalDiscord, bot: BotProcess) -> None:
    bot.env["DISCORD_TOKEN"] = "wrong"
    code, out, err = await bot.cli("commands", "sync", "--db", str(bot.db))
    assert code == 1 and out == ""  # a server refused (bot/cli/errors.py): exit code 1
    assert err.startswith("error: Discord rejected the token") and len(err.strip().splitlines()) == 1


async def test_admin_commands_as_slash_commands(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    await bot.start()
    posted = await api.interactions.answered(await api.interactions.slash(scene.admin, scene.commands, "tvpanel"))
    assert posted.texts() == [TempVoice.PANEL_POSTED] and posted.replies[0]["flags"] & 64  # ephemeral
    assert [m for m in api.bot_messages_with("tv_owner_claim") if w.messages[m]["channel_id"] == str(scene.commands)]

    panel = await api.interactions.answered(
        await api.interactions.slash(scene.admin, scene.commands, "coaching", [{"type": 1, "name": "panel"}])
    )
    assert panel.replies[0]["components"][0]["components"][0]["custom_id"] == "dl_start"
    await bot.until_row("SELECT message_id FROM coaching_panels", value=int(panel.replies[0]["id"]))

    status = await api.interactions.answered(
        await api.interactions.slash(scene.admin, scene.commands, "dlvs", [{"type": 1, "name": "status"}])
    )
    assert status.texts()[0]
    refused = await api.interactions.answered(await api.interactions.slash(scene.members[0], scene.commands, "tvpanel"))
    assert "Server verwalten" in refused.texts()[0]
    assert await bot.stop() == 0
    assert_invariants(api, bot)

"""The prefix commands members and admins use, each answered in German through the real bot."""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord


async def _ask(api: LocalDiscord, author: int, channel: int, text: str) -> str:
    last = max(api.world.messages, default=0)
    await api.say(author, channel, text)
    await api.until(lambda: api.replies_in(channel, after=last), why=f"an answer to {text!r}")
    reply = api.replies_in(channel, after=last)[0]
    return " ".join([str(reply["content"]), *(str(e.get("title") or "") for e in reply.get("embeds") or [])])


async def test_every_member_command_answers(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    member, admin, cmds = scene.members[4], scene.admin, scene.commands
    await bot.start()
    await api.join(member, scene.rank_channels[1])
    await api.until(lambda: "•" in w.channel_name(scene.rank_channels[1]), why="the anchor")
    expectations = [
        (member, "!rrang", "rrang"),
        (member, "!rrang status", "Verankerte Kanäle: 1"),
        (member, "!rrang anker", f"<#{scene.rank_channels[1]}>"),
        (member, "!rrang vcstatus", ""),
        (member, f"!rrang info <@{admin}>", "admin"),
        (member, "!rrang rollen", "Ritualist"),
        (member, "!rrang kanaele", f"<#{scene.rank_cat}>"),
        (member, "!rrang toggle", ""),
        (member, "!rrang toggle aus", ""),
        (member, "!rrang toggle ein", ""),
        (member, "!rrang aktualisieren", "Kanäle verwalten"),
        (admin, "!rrang vcstatus", ""),  # not in voice
        (member, f"!rrang aktualisieren <#{scene.rank_channels[1]}>", ""),
        (member, "!balance", "balance"),
        (member, "!balance matches", ""),
        (member, f"!balance status <@{member}>", "Ritualist"),
        (member, "!balance start", ""),  # not a host
        (member, "!balance end 99", ""),
        (admin, "!balance end 99", "99"),
        (admin, "!balance cleanup 1", ""),
        (admin, "!balance manual <@1> <@2>", ""),
        (admin, "!balance end keine-zahl", "nicht verstanden"),
        (member, "!tvpanel", "Server verwalten"),
        (member, "!coaching", "Server verwalten"),
        (admin, "!coaching", "panel"),
        (admin, "!dlvs", ""),
        # the pass at ready decided already: nobody there, never renamed
        (admin, f"!dlvs snapshot <#{scene.status_channel}>", "Spieler 0/0 · noch nie umbenannt"),
        (admin, "!dlvs trace", "Tracing ist aus"),
    ]
    for author, text, expected in expectations:
        answer = await _ask(api, author, cmds, text)
        assert answer.strip(), f"{text}: empty answer"
        assert expected.lower() in answer.lower(), f"{text}: {answer!r}"

    # the global TempVoice panel, posted by an admin (the command message goes)
    command = await api.say(admin, cmds, "!tvpanel")
    await api.until(lambda: command not in w.messages, why="the command message deleted")
    panel = next(m for m in api.bot_messages_with("tv_owner_claim") if w.messages[m]["channel_id"] == str(cmds))
    outside = await api.interactions.answered(await api.click(member, panel, "tv_owner_claim"))
    assert outside.texts()[0]  # not in a lane: told so
    await api.say(admin, cmds, "!tvpanel")  # posting again replaces the old panel
    await api.until(lambda: panel not in w.messages, why="the old panel replaced")
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_admin_subcommands_refuse_members(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api = discord_api
    member = scene.members[4]
    await bot.start()
    for text in ("!coaching panel", "!dlvs trace", f"!dlvs snapshot <#{scene.status_channel}>"):
        answer = await _ask(api, member, scene.commands, text)
        assert "Server verwalten" in answer, f"{text}: {answer!r}"
    assert api.bot_messages_with("dl_start") == []


async def test_rrang_info_about_someone_not_in_the_guild(discord_api: LocalDiscord, bot: BotProcess,
                                                         scene: Scene) -> None:  # fmt: skip
    await bot.start()
    answer = await _ask(discord_api, scene.members[4], scene.commands, "!rrang info <@4242>")
    assert "spieler4" not in answer, answer

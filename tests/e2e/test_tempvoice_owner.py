"""The lane owner's actions end to end: the real bot process, real clicks, selects, modal
submits and `/lane` commands, and Discord's resulting state (overwrites, names, voice states)
read from the local API's world."""

from __future__ import annotations

import re
import time

from bot.features.tempvoice.texts import LaneOwner as L
from bot.features.tempvoice.texts import TempVoice as T
from tests.e2e.harness import BotProcess
from tests.e2e.interactions import Pending
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json, World

CONNECT, VIEW = 1 << 20, 1 << 10
LANE_OWNER = "SELECT owner_id FROM tempvoice_lanes WHERE channel_id = ?"


def bits(w: World, channel: int, target: int) -> tuple[bool | None, bool | None]:
    """(connect, view) of one overwrite: True allowed, False denied, None neither."""
    ow = w.overwrite(channel, target)
    if ow is None:
        return None, None
    allow, deny = int(ow["allow"]), int(ow["deny"])

    def bit(b: int) -> bool | None:
        return True if allow & b else False if deny & b else None

    return bit(CONNECT), bit(VIEW)


def lane_row(bot: BotProcess, owner: int) -> int | None:
    rows = bot.rows("SELECT channel_id FROM tempvoice_lanes WHERE owner_id = ?", owner)
    return int(rows[0][0]) if rows else None


def panel_of(api: LocalDiscord, lane: int) -> int | None:
    found = [m for m in api.bot_messages_with("tv_rename") if api.world.messages[m]["channel_id"] == str(lane)]
    return found[0] if found else None


async def new_lane(api: LocalDiscord, bot: BotProcess, owner: int, staging: int) -> tuple[int, int]:
    """The owner joins staging; their lane (they inside it) and its panel."""
    await api.join(owner, staging)
    await api.until(lambda: (lane := lane_row(bot, owner)) and api.world.voice.get(owner) == lane, why="a new lane")
    lane = lane_row(bot, owner)
    assert lane is not None
    await api.until(lambda: panel_of(api, lane), why="the lane's panel")
    panel = panel_of(api, lane)
    assert panel is not None
    return lane, panel


async def say(api: LocalDiscord, p: Pending, replies: int = 1) -> list[str]:
    return (await api.interactions.answered(p, replies=replies)).texts()


async def click(api: LocalDiscord, who: int, panel: int, custom_id: str) -> list[str]:
    return await say(api, await api.click(who, panel, custom_id))


async def modal(api: LocalDiscord, who: int, panel: int, custom_id: str, value: str) -> list[str]:
    opened = await api.interactions.answered(await api.click(who, panel, custom_id), replies=0)
    return await say(api, await api.interactions.submit(opened, [value]))


async def offer(api: LocalDiscord, who: int, panel: int, custom_id: str) -> Json:
    """Click a panel button that answers with an ephemeral message of selects; that message."""
    p = await api.interactions.answered(await api.click(who, panel, custom_id))
    return p.replies[0]


def selects(message: Json) -> list[Json]:
    return [c for row in message.get("components") or [] for c in row.get("components") or []]


async def lane_cmd(
    api: LocalDiscord, who: int, channel: int, sub: str, *, role: int | None = None, **options: str | int
) -> list[str]:
    """`/lane SUB` with string or member options (ints are members) and a `rolle`, resolved as
    Discord sends them."""
    opts: list[Json] = [
        {"type": 6 if isinstance(v, int) else 3, "name": k, "value": str(v)} for k, v in options.items()
    ]
    opts += [{"type": 8, "name": "rolle", "value": str(role)}] if role is not None else []
    members = [v for v in options.values() if isinstance(v, int)]
    resolved = api.interactions.resolved(members=members, roles=[role] if role else [])
    p = await api.interactions.slash(
        who, channel, "lane", [{"type": 1, "name": sub, "options": opts}], resolved=resolved
    )
    return await say(api, p)


async def test_owner_uses_every_panel_action(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    owner, friend, guest, buddy, stranger = (scene.members[i] for i in (10, 3, 6, 7, 5))
    everyone = w.guild_id
    await bot.start()
    lane, panel = await new_lane(api, bot, owner, scene.staging)
    await api.join(friend, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=2)

    # a member who is not the owner is refused, in German, and nothing changes
    assert await click(api, friend, panel, "tv_lock") == [T.NOT_OWNER]
    assert await click(api, stranger, panel, "tv_hide") == [T.NOT_OWNER]
    assert await click(api, friend, panel, "tv_trust") == [L.ONLY_OWNER]
    assert await click(api, friend, panel, "tv_preset") == [L.ONLY_OWNER]
    assert await click(api, friend, panel, "tv_transfer") == [T.NOT_OWNER]
    assert await click(api, friend, panel, "tv_rename") == [T.NOT_OWNER]  # no modal to fill in first
    assert bits(w, lane, everyone) == (None, None) and w.channel_name(lane) == "Lane 1"

    # Umbenennen: refused names change nothing; two renames show now, the third says when
    assert await modal(api, owner, panel, "tv_rename", "komm: discord.gg/abc") == [L.NAME_INVITE]
    assert await modal(api, owner, panel, "tv_rename", f"<@{stranger}> raus") == [L.NAME_MENTION]
    assert await modal(api, owner, panel, "tv_rename", "  Abendrunde ") == [L.RENAMED_NOW.format(name="Abendrunde")]
    await api.until(lambda: w.channel_name(lane) == "Abendrunde", why="the first rename")
    assert await modal(api, owner, panel, "tv_rename", "Nachtrunde") == [L.RENAMED_NOW.format(name="Nachtrunde")]
    await api.until(lambda: w.channel_name(lane) == "Nachtrunde", why="the second rename")
    [later] = await modal(api, owner, panel, "tv_rename", "Frühschicht")
    at = re.fullmatch(re.escape(L.RENAMED_LATER.format(name="Frühschicht", at="X")).replace("X", r"(\d+)"), later)
    assert at is not None, later
    assert 500 < int(at.group(1)) - time.time() <= 601
    await bot.quiet()
    assert w.channel_name(lane) == "Nachtrunde"
    assert len([c for c in api.calls_to("PATCH", rf"/channels/{lane}$") if "name" in c.body]) == 2

    # Sperren / Entsperren: @everyone may not connect, the owner, the members inside and the bot may
    assert await click(api, owner, panel, "tv_lock") == [L.LOCKED]
    await api.until(lambda: bits(w, lane, everyone)[0] is False, why="the lock")
    assert bits(w, lane, owner)[0] is True and bits(w, lane, friend)[0] is True
    assert bits(w, lane, w.bot_id)[0] is True
    assert await click(api, owner, panel, "tv_lock") == [L.UNLOCKED]
    await api.until(lambda: bits(w, lane, everyone)[0] is None, why="the unlock")
    assert bits(w, lane, friend)[0] is None

    # Verstecken / Zeigen
    assert await click(api, owner, panel, "tv_hide") == [L.HIDDEN]
    await api.until(lambda: bits(w, lane, everyone)[1] is False, why="hidden")
    assert bits(w, lane, owner)[1] is True and bits(w, lane, friend)[1] is True
    assert await click(api, owner, panel, "tv_hide") == [L.SHOWN]
    await api.until(lambda: bits(w, lane, everyone)[1] is None, why="shown again")

    # Zulassen: a member and a role into the locked lane (a mentionable select)
    assert await click(api, owner, panel, "tv_lock") == [L.LOCKED]
    choose = await offer(api, owner, panel, "tv_permit")
    [permit_select] = selects(choose)
    assert permit_select["type"] == 7
    picked = await api.interactions.pick(owner, int(choose["id"]), permit_select["custom_id"], members=[guest])
    assert await say(api, picked) == [L.PERMITTED_MEMBER.format(member="spieler6")]
    role = scene.rank_roles[2]
    picked = await api.interactions.pick(owner, int(choose["id"]), permit_select["custom_id"], roles=[role])
    assert await say(api, picked) == [L.PERMITTED_ROLE.format(role=w.roles[role]["name"])]
    await api.until(lambda: bits(w, lane, guest)[0] is True and bits(w, lane, role)[0] is True, why="the permits")
    permits = bot.rows("SELECT target_kind, target_id FROM tempvoice_lane_permits WHERE channel_id = ?", lane)
    assert {("member", guest), ("role", role), ("member", friend), ("member", owner)} <= set(permits)

    # Vertraute: add from a user select, then remove from the list's select
    trust = await offer(api, owner, panel, "tv_trust")
    assert trust["content"] == L.TRUSTED_NONE
    [add] = selects(trust)
    picked = await api.interactions.pick(owner, int(trust["id"]), add["custom_id"], members=[buddy])
    assert await say(api, picked) == [L.TRUSTED.format(member="spieler7")]
    await api.until(lambda: bits(w, lane, buddy)[0] is True, why="the trusted member's allow")
    trust = await offer(api, owner, panel, "tv_trust")
    assert trust["content"] == L.TRUSTED_LIST.format(members=f"<@{buddy}>")
    remove = selects(trust)[1]
    assert [o["value"] for o in remove["options"]] == [str(buddy)]
    untrusted = await api.click(owner, int(trust["id"]), remove["custom_id"], values=[str(buddy)])
    assert await say(api, untrusted) == [L.UNTRUSTED.format(member="spieler7")]
    await api.until(lambda: bits(w, lane, buddy)[0] is None, why="the allow taken back")

    # Ablehnen: the friend is disconnected and kept out (a visible list), then un-banned
    reject = await offer(api, owner, panel, "tv_reject")
    assert reject["content"] == L.BANNED_NONE
    picked = await api.interactions.pick(owner, int(reject["id"]), selects(reject)[0]["custom_id"], members=[friend])
    assert await say(api, picked) == [T.BANNED.format(member="spieler3")]
    await api.until(lambda: w.voice.get(friend) is None, why="the rejected member disconnected")
    await api.until(lambda: bits(w, lane, friend)[0] is False, why="the ban's deny")
    assert bot.rows("SELECT banned_id FROM tempvoice_bans WHERE owner_id = ?", owner) == [(friend,)]
    reject = await offer(api, owner, panel, "tv_reject")
    assert reject["content"] == L.BANNED_LIST.format(members=f"<@{friend}>")
    unban = selects(reject)[1]
    picked = await api.click(owner, int(reject["id"]), unban["custom_id"], values=[str(friend)])
    assert await say(api, picked) == [T.UNBANNED.format(member="spieler3")]
    await api.until(lambda: bits(w, lane, friend)[0] is not False, why="the ban's deny lifted")
    assert bot.rows("SELECT count(*) FROM tempvoice_bans") == [(0,)]

    # Übertragen: only to a member in the lane; the new owner holds the panel, the old one is refused
    assert await click(api, owner, panel, "tv_transfer") == [L.TRANSFER_NOBODY]
    await api.join(guest, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=2)
    choose = await offer(api, owner, panel, "tv_transfer")
    [to] = selects(choose)
    assert [o["value"] for o in to["options"]] == [str(guest)]
    picked = await api.click(owner, int(choose["id"]), to["custom_id"], values=[str(guest)])
    assert await say(api, picked) == [L.TRANSFERRED.format(member="spieler6")]
    await bot.until_row(LANE_OWNER, lane, value=guest)
    assert await click(api, owner, panel, "tv_hide") == [T.NOT_OWNER]
    assert await click(api, guest, panel, "tv_lock") == [L.UNLOCKED]
    await api.until(lambda: bits(w, lane, everyone)[0] is None, why="the new owner's unlock")
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_preset_goes_to_the_next_lane(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    owner, buddy = scene.members[10], scene.members[7]
    everyone = w.guild_id
    await bot.start()
    lane, panel = await new_lane(api, bot, owner, scene.staging)
    assert await modal(api, owner, panel, "tv_rename", "Stammtisch") == [L.RENAMED_NOW.format(name="Stammtisch")]
    await modal(api, owner, panel, "tv_limit_btn", "4")
    assert await click(api, owner, panel, "tv_lock") == [L.LOCKED]
    trust = await offer(api, owner, panel, "tv_trust")
    await say(
        api, await api.interactions.pick(owner, int(trust["id"]), selects(trust)[0]["custom_id"], members=[buddy])
    )
    [saved] = await click(api, owner, panel, "tv_preset")
    summary = ", ".join(
        [L.PRESET_NAME.format(name="Stammtisch"), L.PRESET_LIMIT.format(limit=4), L.PRESET_LOCKED,
         L.PRESET_TRUSTED.format(count=1), L.PRESET_BANS.format(count=0)]
    )  # fmt: skip
    assert saved == L.PRESET_SAVED.format(summary=summary)

    await api.join(owner, None)
    await api.until(lambda: lane not in w.channels, why="the empty lane deleted")
    second, _ = await new_lane(api, bot, owner, scene.staging)
    assert second != lane
    await api.until(lambda: w.channel_name(second) == "Stammtisch", why="the preset's name on the next lane")
    await api.until(lambda: w.channels[second]["user_limit"] == 4, why="the preset's limit")
    await api.until(lambda: bits(w, second, everyone)[0] is False, why="the preset's lock")
    assert bits(w, second, owner)[0] is True and bits(w, second, buddy)[0] is True
    assert bot.rows("SELECT locked, hidden FROM tempvoice_lane_access WHERE channel_id = ?", second) == [(1, 0)]

    # /lane reset forgets it: the lane after that starts plain
    assert await lane_cmd(api, owner, scene.commands, "reset") == [L.PRESET_RESET]
    assert bot.rows("SELECT count(*) FROM tempvoice_presets") == [(0,)]
    assert await lane_cmd(api, owner, scene.commands, "reset") == [L.PRESET_NONE]
    await api.join(owner, None)
    await api.until(lambda: second not in w.channels, why="the second lane deleted")
    third, _ = await new_lane(api, bot, owner, scene.staging)
    await bot.quiet()
    assert w.channel_name(third).startswith("Lane ") and w.channels[third]["user_limit"] == 8
    assert bits(w, third, everyone) == (None, None)
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_lane_slash_commands(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    """`/lane …` acts on the lane the member is in, from any channel."""
    api, w = discord_api, discord_api.world
    owner, guest, buddy, stranger = (scene.members[i] for i in (10, 6, 7, 5))
    here, everyone = scene.commands, w.guild_id
    await bot.start()
    assert await lane_cmd(api, owner, here, "sperren") == [T.JOIN_LANE_FIRST]
    lane, _ = await new_lane(api, bot, owner, scene.staging)
    assert await lane_cmd(api, owner, here, "hilfe") == [L.HELP]
    assert await lane_cmd(api, owner, here, "sperren") == [L.LOCKED]
    assert await lane_cmd(api, owner, here, "sperren") == [L.ALREADY_LOCKED]
    await api.until(lambda: bits(w, lane, everyone)[0] is False, why="the lock")
    assert await lane_cmd(api, owner, here, "verstecken") == [L.HIDDEN]
    await api.until(lambda: bits(w, lane, everyone)[1] is False, why="hidden")
    assert await lane_cmd(api, owner, here, "zulassen", mitglied=guest) == [
        L.PERMITTED_MEMBER.format(member="spieler6")
    ]
    await api.until(lambda: bits(w, lane, guest) == (True, True), why="the permit")
    archon = scene.rank_roles[7]
    assert await lane_cmd(api, owner, here, "zulassen", role=archon) == [L.PERMITTED_ROLE.format(role="Archon")]
    await api.until(lambda: bits(w, lane, archon) == (True, True), why="the role's permit")
    assert await lane_cmd(api, owner, here, "zulassen", role=everyone) == [L.PERMIT_EVERYONE]
    assert await lane_cmd(api, owner, here, "zulassen") == [L.PERMIT_WHOM]
    assert await lane_cmd(api, owner, here, "umbenennen", name="Feierabend") == [
        L.RENAMED_NOW.format(name="Feierabend")
    ]
    await api.until(lambda: w.channel_name(lane) == "Feierabend", why="the rename")
    assert await lane_cmd(api, owner, here, "umbenennen", name="www.example.com") == [L.NAME_URL]
    assert await lane_cmd(api, owner, here, "vertrauen", mitglied=buddy) == [L.TRUSTED.format(member="spieler7")]
    await api.until(lambda: bits(w, lane, buddy) == (True, True), why="the trusted member's allow")
    assert await lane_cmd(api, owner, here, "misstrauen", mitglied=buddy) == [L.UNTRUSTED.format(member="spieler7")]
    await api.until(lambda: bits(w, lane, buddy) == (None, None), why="the allow taken back")
    assert await lane_cmd(api, owner, here, "ablehnen", mitglied=stranger) == [T.BANNED.format(member="spieler5")]
    await api.until(lambda: bits(w, lane, stranger)[0] is False, why="the ban")
    assert await lane_cmd(api, owner, here, "entbannen", mitglied=stranger) == [T.UNBANNED.format(member="spieler5")]
    assert await lane_cmd(api, owner, here, "zeigen") == [L.SHOWN]
    assert await lane_cmd(api, owner, here, "entsperren") == [L.UNLOCKED]
    await api.until(lambda: bits(w, lane, everyone) == (None, None), why="open again")
    assert await lane_cmd(api, owner, here, "uebertragen", mitglied=guest) == [L.TRANSFER_NOT_IN_LANE]
    await api.join(guest, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=2)
    assert await lane_cmd(api, guest, here, "sperren") == [T.NOT_OWNER]
    assert await lane_cmd(api, owner, here, "uebertragen", mitglied=guest) == [L.TRANSFERRED.format(member="spieler6")]
    await bot.until_row(LANE_OWNER, lane, value=guest)
    [saved] = await lane_cmd(api, guest, here, "vorlage")
    assert saved.startswith(L.PRESET_SAVED.split("{")[0]) and "Feierabend" in saved
    assert bot.rows("SELECT owner_id, name FROM tempvoice_presets") == [(guest, "Feierabend")]
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_restart_keeps_lock_and_permits_and_the_old_panel_answers(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    api, w = discord_api, discord_api.world
    owner, friend, guest, stranger, buddy = (scene.members[i] for i in (10, 3, 6, 5, 7))
    everyone = w.guild_id
    await bot.start()
    lane, panel = await new_lane(api, bot, owner, scene.staging)
    await api.join(friend, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=2)
    assert await click(api, owner, panel, "tv_lock") == [L.LOCKED]
    choose = await offer(api, owner, panel, "tv_permit")
    await say(api, await api.interactions.pick(owner, int(choose["id"]), selects(choose)[0]["custom_id"],
                                               members=[guest]))  # fmt: skip
    await api.until(lambda: bits(w, lane, guest)[0] is True, why="the permit")
    before = {t: bits(w, lane, t) for t in (everyone, owner, friend, guest, w.bot_id)}
    trust = await offer(api, owner, panel, "tv_trust")  # opened now, chosen after the restart
    assert await bot.stop() == 0

    await bot.start()
    await bot.ready()
    await bot.quiet()
    assert lane in w.channels and w.voice.get(owner) == lane
    assert {t: bits(w, lane, t) for t in (everyone, owner, friend, guest, w.bot_id)} == before
    assert bot.rows("SELECT locked FROM tempvoice_lane_access WHERE channel_id = ?", lane) == [(1,)]
    permitted = bot.rows("SELECT target_id FROM tempvoice_lane_permits WHERE channel_id = ?", lane)
    assert {(owner,), (friend,), (guest,)} <= set(permitted)
    # the panel posted before the restart still answers, for the owner and refusing others
    assert await click(api, stranger, panel, "tv_lock") == [T.NOT_OWNER]
    picked = await api.interactions.pick(owner, int(trust["id"]), selects(trust)[0]["custom_id"], members=[buddy])
    assert await say(api, picked) == [L.TRUSTED.format(member="spieler7")]
    await api.until(lambda: bits(w, lane, buddy)[0] is True, why="the trusted member's allow")
    assert await click(api, owner, panel, "tv_hide") == [L.HIDDEN]
    await api.until(lambda: bits(w, lane, everyone) == (False, False), why="locked and hidden")
    assert bits(w, lane, guest) == (True, True) and bits(w, lane, friend) == (True, True)
    assert await click(api, owner, panel, "tv_lock") == [L.UNLOCKED]
    await api.until(lambda: bits(w, lane, everyone) == (None, False), why="unlocked, still hidden")
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_rename_budget_and_a_waiting_name_survive_a_restart(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """Two renames spent, a third waiting: after a restart the bot renames nothing early (no 429
    from Discord), and a rename then still says when it will show (the same moment)."""
    api, w = discord_api, discord_api.world
    owner = scene.members[10]
    await bot.start()
    lane, panel = await new_lane(api, bot, owner, scene.staging)
    for name in ("Eins", "Zwei"):
        assert await modal(api, owner, panel, "tv_rename", name) == [L.RENAMED_NOW.format(name=name)]
        await api.until(lambda name=name: w.channel_name(lane) == name, why=f"the rename to {name}")  # type: ignore[misc]
    [waiting] = await modal(api, owner, panel, "tv_rename", "Drei")
    assert waiting.startswith("Neuer Name: „Drei“")
    assert await bot.stop() == 0

    await bot.start()
    await bot.ready()
    await bot.quiet()
    assert w.channel_name(lane) == "Zwei"
    assert len([c for c in api.calls_to("PATCH", rf"/channels/{lane}$") if "name" in c.body]) == 2
    assert await modal(api, owner, panel, "tv_rename", "Vier") == [waiting.replace("Drei", "Vier")]
    await bot.quiet()
    assert w.channel_name(lane) == "Zwei"
    assert await bot.stop() == 0
    assert_invariants(api, bot)


async def test_kick_from_a_locked_lane_keeps_the_member_out(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """Kick takes the access the member got for being inside when the lane was locked."""
    api, w = discord_api, discord_api.world
    owner, pest, stays = (scene.members[i] for i in (10, 3, 6))
    await bot.start()
    lane, panel = await new_lane(api, bot, owner, scene.staging)
    await api.join(pest, lane)
    await api.join(stays, lane)
    await bot.until_row("SELECT count(*) FROM tempvoice_lane_members WHERE channel_id = ?", lane, value=3)
    assert await click(api, owner, panel, "tv_lock") == [L.LOCKED]
    await api.until(lambda: bits(w, lane, pest)[0] is True, why="the lock-time allow")

    choose = await offer(api, owner, panel, "tv_kick")
    [who] = selects(choose)
    assert sorted(o["value"] for o in who["options"]) == sorted([str(pest), str(stays)])
    picked = await api.click(owner, int(choose["id"]), who["custom_id"], values=[str(pest)])
    assert await say(api, picked) == [T.KICKED.format(member="spieler3")]
    await api.until(lambda: w.voice.get(pest) is None, why="the kicked member disconnected")
    await api.until(lambda: bits(w, lane, pest)[0] is None, why="the lock-time allow taken back")
    assert bits(w, lane, w.guild_id)[0] is False  # the lock holds: no allow lets them back in
    assert bits(w, lane, owner)[0] is True and bits(w, lane, stays)[0] is True
    permits = bot.rows("SELECT target_kind, target_id FROM tempvoice_lane_permits WHERE channel_id = ?", lane)
    assert ("member", pest) not in set(permits) and ("member", stays) in set(permits)
    assert await bot.stop() == 0
    assert_invariants(api, bot)

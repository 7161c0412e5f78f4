"""Rank-anchored voice channels end to end: only the connect bit of any overwrite changes."""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import Json

VIEW, CONNECT, SPEAK = 1 << 10, 1 << 20, 1 << 21
PERMISSION_PUT = r"/channels/\d+/permissions/\d+"


def _bits(ow: Json | None) -> tuple[int, int]:
    return (int(ow["allow"]), int(ow["deny"])) if ow else (0, 0)


async def test_anchor_changes_only_the_connect_bit(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    channel = scene.rank_channels[0]
    seeker, ritualist = scene.rank_roles[2], scene.rank_roles[5]
    w.channels[channel]["permission_overwrites"] = [
        {"id": str(w.guild_id), "type": 0, "allow": str(VIEW), "deny": "0"},
        {"id": str(seeker), "type": 0, "allow": "0", "deny": str(SPEAK)},
        {"id": str(ritualist), "type": 0, "allow": str(SPEAK), "deny": "0"},
    ]
    before = {o["id"]: _bits(o) for o in w.channels[channel]["permission_overwrites"]}
    first = scene.members[4]  # rank 5, Ritualist: the window is Arcanist..Emissary
    await bot.start()

    await api.join(first, channel)
    await api.until(lambda: w.channel_name(channel) == "Ranked 1 • Ritualist +/-1", why="the anchored name")
    await bot.until_row("SELECT rank_value, allowed_min, allowed_max FROM voice_channel_anchors", value=5)
    assert bot.rows("SELECT allowed_min, allowed_max FROM voice_channel_anchors") == [(4, 6)]
    await bot.quiet()
    assert _bits(w.overwrite(channel, w.guild_id)) == (VIEW, CONNECT)  # view stays, connect denied
    assert _bits(w.overwrite(channel, seeker)) == (0, SPEAK)  # outside the window: untouched
    assert _bits(w.overwrite(channel, ritualist)) == (SPEAK | CONNECT, 0)  # speak stays, connect added
    for value in (4, 6):
        assert _bits(w.overwrite(channel, scene.rank_roles[value])) == (CONNECT, 0)
    for call in api.calls_to("PUT", PERMISSION_PUT):
        target = call.path.rsplit("/", 1)[1]
        old_allow, old_deny = before.get(target, (0, 0))
        changed = (int(call.body["allow"]) ^ old_allow) | (int(call.body["deny"]) ^ old_deny)
        assert changed & ~CONNECT == 0, f"{call.path}: more than the connect bit changed"

    # a member outside the window is let in only by the rules Discord applies; the bot moves nobody
    await api.join(scene.members[10], channel)
    await bot.quiet()
    assert api.calls_to("PATCH", r"/guilds/\d+/members/\d+") == []

    # everyone leaves: the anchor goes, the connect bits are given back, the name too
    await api.join(first, None)
    await api.join(scene.members[10], None)
    await api.until(lambda: w.channel_name(channel) == "Ranked 1", why="the name given back")
    await bot.until_row("SELECT count(*) FROM voice_channel_anchors", value=0)
    await bot.quiet()
    after = {o["id"]: _bits(o) for o in w.channels[channel]["permission_overwrites"] if _bits(o) != (0, 0)}
    assert after == before
    assert await bot.stop() == 0
    assert_invariants(api, bot)

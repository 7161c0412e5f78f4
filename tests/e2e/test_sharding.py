"""The sharded bot (SHARD_COUNT, SHARD_IDS) against the local Discord API, which answers each
shard's IDENTIFY as Discord does: READY carries the `shard` field and only the guilds of that
shard (`(guild_id >> 22) % count`)."""

from __future__ import annotations

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants, lane_of
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord


async def test_one_process_with_both_shards_handles_the_guild(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """SHARD_COUNT=2 (all shards in one AutoShardedBot): two IDENTIFYs, one per shard; the
    guild's events come on its shard and are handled there: a lane, a prefix command."""
    api = discord_api
    guild_shard = (api.world.guild_id >> 22) % 2
    bot.env["SHARD_COUNT"] = "2"
    await bot.start()
    await bot.until_log("has connected to Gateway", count=2, max_wait=30, why="both shards' READY")
    assert sorted(s or [] for s in api.gateway.identified_shards) == [[0, 2], [1, 2]]
    assert list(api.gateway.idle_shards) == [1 - guild_shard]
    await bot.ready()

    member = scene.members[0]
    await api.join(member, scene.staging)
    await api.until(lambda: lane_of(api, member), why="the member in a new lane")
    await api.until(lambda: api.bot_messages_with("tv_limit_btn"), why="the lane's panel")
    await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
    await api.say(scene.members[1], scene.commands, "!rrang kanaele")
    await api.until(lambda: api.replies_in(scene.commands), why="the reply to !rrang kanaele")
    assert len(api.calls_to("POST", r"/guilds/\d+/channels")) == 1
    assert await bot.stop() == 0
    assert "closed; query metrics" in bot.log
    assert_invariants(api, bot)


async def test_the_process_of_the_other_shard_sees_no_guild(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene
) -> None:
    """SHARD_COUNT=2 SHARD_IDS=<the shard without the guild>: READY without guilds; a voice join
    in the guild never reaches it, so it creates nothing; it stops cleanly."""
    api = discord_api
    other = 1 - (api.world.guild_id >> 22) % 2
    bot.env.update({"SHARD_COUNT": "2", "SHARD_IDS": str(other)})
    await bot.start()
    assert api.gateway.identified_shards == [[other, 2]] and list(api.gateway.idle_shards) == [other]
    await api.join(scene.members[0], scene.staging)  # on the guild's shard: nobody listens there
    await bot.quiet()
    assert api.calls_to("POST", r"/guilds/\d+/channels") == []
    assert await bot.stop() == 0
    assert_invariants(api, bot)

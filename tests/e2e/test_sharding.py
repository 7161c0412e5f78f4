"""The sharded bot (SHARD_COUNT, SHARD_IDS) against the local Discord API, which answers each
shard's IDENTIFY as Discord does: READY carries the `shard` field and only the guilds of that
shard (`(guild_id >> 22) % count`)."""

from __future__ import annotations

from pathlib import Path

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


async def test_two_shard_processes_split_the_guilds(
    discord_api: LocalDiscord, bot: BotProcess, scene: Scene, tmp_path: Path
) -> None:
    """SHARD_COUNT=2 with SHARD_IDS=0 and SHARD_IDS=1 in two processes (a database each): the
    process of the guild's shard gets the guild and creates the lane; the other one gets a READY
    without guilds, never hears of the join and creates nothing; both stop cleanly."""
    api = discord_api
    mine = (api.world.guild_id >> 22) % 2
    bot.env.update({"SHARD_COUNT": "2", "SHARD_IDS": str(mine)})
    other = BotProcess(api, tmp_path / "other.sqlite3", tmp_path / "other.log", {**bot.env, "SHARD_IDS": str(1 - mine)})
    try:
        await other.start()
        await bot.start()
        assert sorted(s or [] for s in api.gateway.identified_shards) == [[0, 2], [1, 2]]
        assert list(api.gateway.idle_shards) == [1 - mine]
        member = scene.members[0]
        await api.join(member, scene.staging)
        await api.until(lambda: lane_of(api, member), why="the member in a new lane")
        await bot.until_row("SELECT count(*) FROM tempvoice_lanes", value=1)
        await bot.quiet()
        assert len(api.calls_to("POST", r"/guilds/\d+/channels")) == 1
        assert other.rows("SELECT count(*) FROM tempvoice_lanes") == [(0,)]
        assert await other.stop() == 0
        assert await bot.stop() == 0
    finally:
        await other.kill()
    other.assert_clean_log()
    assert_invariants(api, bot)

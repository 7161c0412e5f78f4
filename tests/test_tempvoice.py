"""TempVoice lanes against the in-memory Discord and a real database file."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import SqliteDatabase
from bot.db.queries import queries
from bot.discord_glue.ports import Forbidden, Overwrite, Target, TargetKind
from bot.features.tempvoice import texts
from tests.helpers import open_handles, reopened
from tests.tempvoice_env import GUILD, Env, lanes_in_db


@pytest.fixture
def env(tempvoice_env: Env) -> Env:
    """On SQLite and PostgreSQL; the event of each of the bot's moves comes before, after or never."""
    return tempvoice_env


T = texts.TempVoice


async def test_join_creates_lane_and_moves_owner(env: Env) -> None:
    alice = env.world.add_member(GUILD, name="Alice")
    await env.move(alice, env.staging)
    lane = env.lane_of(alice)
    assert lane is not None and lane != env.staging
    channel = env.world.channels[lane]
    assert (channel.name, channel.category_id, channel.user_limit, channel.bitrate) == (
        "Lane 1",
        env.lanes_cat,
        8,
        96_000,
    )
    assert await lanes_in_db(env) == {lane: alice}
    async with env.db.read() as conn:
        panel = await queries.tempvoice.get_lane_panel(conn, lane_id=lane)
        members = await queries.tempvoice.list_lane_members(conn, channel_id=lane)
    assert panel is not None and env.world.messages[panel.message_id].owner_id == alice
    assert [m.user_id for m in members] == [alice]

    bob = env.world.add_member(GUILD, name="Bob")
    await env.move(bob, env.ranked_staging)
    ranked = env.world.channels[env.lane_of(bob) or 0]
    assert (ranked.name, ranked.user_limit) == ("Lane 1", 6)  # numbers count per category; ranked cap 6

    carol = env.world.add_member(GUILD)
    await env.move(carol, env.staging)
    assert env.world.channels[env.lane_of(carol) or 0].name == "Lane 2"


async def test_a_move_response_is_the_truth_whenever_its_event_comes(env: Env) -> None:
    """The bot moved the creator into the lane: the lane stays, whether the voice event of that
    move came before the HTTP response, after it or never (the old bot deleted the lane 1 ms
    later with "Ersteller ist schon wieder weg" when it came after)."""
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner)
    assert lane is not None and lane != env.staging and lane in env.world.channels
    assert env.world.count("delete_channel") == 0 and await lanes_in_db(env) == {lane: owner}
    assert [m.lane_id for m in env.world.messages.values()] == [lane]  # its panel
    await env.move(guest, lane)
    await env.move(guest, None)  # the guest leaves: the owner is still inside (a fetch says so if no event did)
    assert lane in env.world.channels and await lanes_in_db(env) == {lane: owner}
    await env.move(owner, None)  # an event says the last one left
    assert lane not in env.world.channels and await lanes_in_db(env) == {}


async def test_hundred_concurrent_joins(env: Env) -> None:
    """On both engines; on SQLite the file's handles are also counted mid-run and after close."""
    db = env.db
    sqlite_file = db.path if isinstance(db, SqliteDatabase) else None
    members = [env.world.add_member(GUILD) for _ in range(100)]
    moves = [env.world.user_moves(GUILD, m, env.staging) for m in members]
    handles_during: list[int] = []

    async def count_handles() -> None:
        if sqlite_file is not None:
            handles_during.append(open_handles(sqlite_file))

    env.world.hooks["move_member"] = count_handles
    await asyncio.gather(*(env.service.on_voice_move(m) for m in moves))
    await env.world.settle()
    if isinstance(db, SqliteDatabase):
        assert handles_during == [1 + db.readers]  # exactly the configured connections, mid-run

    lanes = await lanes_in_db(env)
    assert len(lanes) == 100 and env.world.count("create_voice_channel") == 100
    assert sorted(lanes.values()) == sorted(members)
    assert all(env.lane_of(m) in lanes and lanes[env.lane_of(m) or 0] == m for m in members)  # each in their own
    assert env.world.truth_members(env.staging) == []
    assert env.world.echo_errors == [] and env.world.dms == []
    # the lanes category holds 50 channels (the staging channel + 49 lanes); the rest overflowed
    in_home = [c for c in lanes if env.world.channels[c].category_id == env.lanes_cat]
    in_overflow = [c for c in lanes if env.world.channels[c].category_id == env.overflow_cat]
    in_overflow2 = [c for c in lanes if env.world.channels[c].category_id == env.overflow_cat2]
    assert (len(in_home), len(in_overflow), len(in_overflow2)) == (49, 50, 1)
    names = sorted(env.world.channels[c].name for c in in_home)
    assert names == sorted(f"Lane {n}" for n in range(1, 50))
    assert env.service.lock_count == 0  # nothing left behind in memory
    await env.db.close()
    if sqlite_file is not None:
        assert open_handles(sqlite_file) == 0


async def test_full_guild_gets_a_clear_message(env: Env) -> None:
    for _ in range(500 - len(env.world.channels)):
        env.world.add_text(GUILD)
    dave = env.world.add_member(GUILD)
    await env.move(dave, env.staging)
    assert env.lane_of(dave) == env.staging and await lanes_in_db(env) == {}
    assert env.world.dms == [(GUILD, dave, T.CATEGORY_FULL)]


async def test_double_join_of_one_member_makes_one_lane(env: Env) -> None:
    erin = env.world.add_member(GUILD)
    move = env.world.user_moves(GUILD, erin, env.staging)
    await asyncio.gather(env.service.on_voice_move(move), env.service.on_voice_move(move))
    await env.world.settle()
    assert len(await lanes_in_db(env)) == 1 and env.world.count("create_voice_channel") == 1


async def test_member_leaving_during_creation_removes_the_lane(env: Env) -> None:
    frank = env.world.add_member(GUILD)

    async def leave() -> None:
        env.world.user_moves(GUILD, frank, None)

    env.world.hooks["create_voice_channel"] = leave
    await env.move(frank, env.staging)
    assert await lanes_in_db(env) == {}
    assert [c for c in env.world.channels.values() if c.created_by_bot] == []


async def test_failed_move_removes_the_lane(env: Env) -> None:
    gina = env.world.add_member(GUILD)
    env.world.inject("move_member", Forbidden("Missing Permissions"))
    await env.move(gina, env.staging)
    assert await lanes_in_db(env) == {} and [c for c in env.world.channels.values() if c.created_by_bot] == []


async def test_lost_number_race_is_compensated(env: Env) -> None:
    """Another process takes "Lane 1" between our pick and our insert: the unique index says so."""
    hank = env.world.add_member(GUILD)

    async def other_process_takes_lane_1() -> None:
        async with env.db.transaction() as conn:
            await queries.tempvoice.insert_lane(
                conn,
                channel_id=1,
                guild_id=GUILD,
                owner_id=2,
                base_name="Lane 1",
                category_id=env.lanes_cat,
                lane_number=1,
                min_rank=0,
                source_staging_id=None,
                created_at=None,
            )

    env.world.hooks["create_voice_channel"] = other_process_takes_lane_1
    await env.move(hank, env.staging)
    lane = env.lane_of(hank) or 0
    assert env.world.channels[lane].name == "Lane 2"
    assert env.world.count("create_voice_channel") == 2 and env.world.count("delete_channel") == 1
    assert set(await lanes_in_db(env)) == {1, lane}


async def test_empty_lane_is_deleted_with_its_rows(env: Env) -> None:
    ida = env.world.add_member(GUILD)
    await env.move(ida, env.staging)
    lane = env.lane_of(ida) or 0
    await env.move(ida, None)
    assert lane not in env.world.channels and await lanes_in_db(env) == {}
    async with env.db.read() as conn:
        assert await queries.tempvoice.get_lane_panel(conn, lane_id=lane) is None
        assert await queries.tempvoice.list_lane_members(conn, channel_id=lane) == []


async def test_toggles_are_not_joins_or_leaves(env: Env) -> None:
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(guest, lane)
    calls = len(env.world.calls)
    for _ in range(3):
        await env.toggle(owner)
        await env.toggle(guest)
    assert len(env.world.calls) == calls
    assert (await lanes_in_db(env))[lane] == owner
    async with env.db.read() as conn:
        assert [m.user_id for m in await queries.tempvoice.list_lane_members(conn, channel_id=lane)] == [owner, guest]


async def test_owner_succession_survives_restart(env: Env) -> None:
    owner = env.world.add_member(GUILD, 900)
    late = env.world.add_member(GUILD, 100)  # a lower id: Discord's member order would put them first
    early = env.world.add_member(GUILD, 500)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(early, lane)
    await env.move(late, lane)
    await env.db.close()

    async with reopened(env.db) as db2:  # the bot restarts; same store, same Discord
        env2 = env.restart(db2)
        await env2.move(owner, None)
        assert (await lanes_in_db(env2))[lane] == early  # the earliest joiner, from the database
        panel = [m for m in env2.world.messages.values() if m.lane_id == lane]
        assert [m.owner_id for m in panel] == [early]


async def test_succession_lifts_old_bans_and_applies_new_ones(env: Env) -> None:
    owner, heir, banned_by_owner, banned_by_heir = (env.world.add_member(GUILD) for _ in range(4))
    async with env.db.transaction() as conn:
        await queries.tempvoice.add_ban(conn, owner_id=owner, banned_id=banned_by_owner, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=heir, banned_id=banned_by_heir, created_at=None)
        await queries.tempvoice.set_region(conn, owner_id=heir, region="DE", updated_at="t")
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    overwrites = env.world.channels[lane].overwrites
    assert overwrites[Target(TargetKind.MEMBER, banned_by_owner)].deny == {"connect"}
    await env.move(heir, lane)
    await env.move(owner, None)
    overwrites = env.world.channels[lane].overwrites
    assert Target(TargetKind.MEMBER, banned_by_owner) not in overwrites
    assert overwrites[Target(TargetKind.MEMBER, banned_by_heir)].deny == {"connect"}
    assert overwrites[Target(TargetKind.ROLE, env.english_only)].deny == {"connect"}


async def test_a_new_lane_carries_its_owners_region_and_every_ban(env: Env) -> None:
    """The lane and its owner's settings are read together under the lane's lock: each of
    several bans and the region reach the new lane, and nothing of another owner's."""
    owner, pest, nuisance, stranger, other = (env.world.add_member(GUILD) for _ in range(5))
    async with env.db.transaction() as conn:
        for banned in (pest, nuisance):
            await queries.tempvoice.add_ban(conn, owner_id=owner, banned_id=banned, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=other, banned_id=stranger, created_at=None)
        await queries.tempvoice.set_region(conn, owner_id=owner, region="DE", updated_at="t")
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    overwrites = env.world.channels[lane].overwrites
    assert overwrites[Target(TargetKind.MEMBER, pest)].deny == {"connect"}
    assert overwrites[Target(TargetKind.MEMBER, nuisance)].deny == {"connect"}
    assert Target(TargetKind.MEMBER, stranger) not in overwrites
    assert overwrites[Target(TargetKind.ROLE, env.english_only)].deny == {"connect"}
    await env.move(other, env.staging)  # an owner without a region: nothing for the role
    other_lane = env.lane_of(other) or 0
    assert Target(TargetKind.ROLE, env.english_only) not in env.world.channels[other_lane].overwrites
    assert Target(TargetKind.MEMBER, stranger) in env.world.channels[other_lane].overwrites


async def test_bans_and_region_survive_restart(env: Env) -> None:
    owner, pest = env.world.add_member(GUILD, name="Owner"), env.world.add_member(GUILD, name="Pest")
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(pest, lane)
    await env.service.panel.set_region(GUILD, owner, lane, "DE")
    reply = await env.service.panel.ban(GUILD, owner, lane, "pest")
    assert reply == T.BANNED.format(member="Pest")
    await env.world.settle()
    assert env.lane_of(pest) is None  # a banned member inside the lane is moved out
    await env.move(owner, None)
    await env.db.close()

    async with reopened(env.db) as db2:
        env2 = env.restart(db2)
        await env2.move(owner, env2.staging)
        new_lane = env2.lane_of(owner) or 0
        overwrites = env2.world.channels[new_lane].overwrites
        assert overwrites[Target(TargetKind.ROLE, env2.english_only)].deny == {"connect"}
        assert overwrites[Target(TargetKind.MEMBER, pest)].deny == {"connect"}
        await env2.move(pest, new_lane)  # Discord let them in anyway (e.g. an admin role)
        assert env2.lane_of(pest) is None


async def test_unban_removes_only_the_connect_deny(env: Env) -> None:
    owner, friend = env.world.add_member(GUILD), env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    target = Target(TargetKind.MEMBER, friend)
    env.world.channels[lane].overwrites[target] = Overwrite(allow=frozenset({"speak"}))
    await env.service.panel.ban(GUILD, owner, lane, str(friend))
    assert env.world.channels[lane].overwrites[target] == Overwrite(frozenset({"speak"}), frozenset({"connect"}))
    assert (await env.service.panel.ban(GUILD, owner, lane, f"<@{friend}>")) == T.ALREADY_BANNED.format(
        member=f"user{friend}"
    )
    await env.service.panel.unban(GUILD, owner, lane, f"<@{friend}>")
    assert env.world.channels[lane].overwrites[target] == Overwrite(allow=frozenset({"speak"}))
    assert (await env.service.panel.unban(GUILD, owner, lane, str(friend))) == T.NOT_BANNED.format(
        member=f"user{friend}"
    )


async def test_rejoining_the_server_reapplies_bans(env: Env) -> None:
    owner, pest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.service.panel.ban(GUILD, owner, lane, str(pest))
    env.world.channels[lane].overwrites.pop(Target(TargetKind.MEMBER, pest))  # gone with the member's leave
    await env.service.on_member_join(GUILD, pest)
    assert env.world.channels[lane].overwrites[Target(TargetKind.MEMBER, pest)].deny == {"connect"}


async def test_moderator_deleting_a_lane_drops_its_rows(env: Env) -> None:
    owner = env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.world.delete_externally(lane)
    assert await lanes_in_db(env) == {}


async def test_reconcile_after_restart(env: Env) -> None:
    a, b, c = (env.world.add_member(GUILD) for _ in range(3))
    for m in (a, b, c):
        await env.move(m, env.staging)
    lane_a, lane_b, lane_c = env.lane_of(a) or 0, env.lane_of(b) or 0, env.lane_of(c) or 0
    visitor = env.world.add_member(GUILD)
    await env.move(visitor, lane_c)
    foreign = env.world.add_voice(GUILD, "Lane 7", env.lanes_cat)  # not ours, whatever its name
    # while the bot was offline: lane A deleted by hand, B emptied, C's owner left
    env.world.channels.pop(lane_a)
    env.world.user_moves(GUILD, a, None)
    env.world.user_moves(GUILD, b, None)
    env.world.user_moves(GUILD, c, None)

    env.world.calls.clear()
    assert await env.service.reconcile(GUILD) == 3
    await env.world.settle()
    lanes = await lanes_in_db(env)
    assert lanes == {lane_c: visitor}
    assert lane_b not in env.world.channels and foreign in env.world.channels
    calls = len(env.world.calls)
    assert await env.service.reconcile(GUILD) == 0  # idempotent
    assert len(env.world.calls) == calls  # a second pass makes zero calls
    assert await env.service.reconcile(GUILD + 1) == 0  # other guilds are reconciled on their own

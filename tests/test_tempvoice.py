"""TempVoice lanes against the in-memory Discord and a real database file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.db import Database, SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import upgrade
from bot.discord_glue.ports import Forbidden, Overwrite, Target, TargetKind, VoiceMove
from bot.features.tempvoice import texts
from bot.shared.common import UserError
from tests.fakes.discord_world import BOT_USER_ID, EVENT_DELIVERIES
from tests.helpers import open_handles, refused, reopened
from tests.tempvoice_env import GUILD, Env, build_env


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


T = texts.TempVoice


@pytest.fixture(params=EVENT_DELIVERIES)
async def env(db: Database, request: pytest.FixtureRequest) -> Env:
    """The voice event of each move the bot makes comes before, after (lagging) or never."""
    return build_env(db, event_delivery=request.param)


async def lanes_in_db(env: Env) -> dict[int, int]:
    """channel id -> owner id of every tracked lane."""
    async with env.db.read() as conn:
        return {
            lane.channel_id: lane.owner_id for lane in await queries.tempvoice.list_lanes_by_guild(conn, guild_id=GUILD)
        }


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


async def test_buttons_refuse_untracked_channels_and_non_owners(env: Env) -> None:
    owner, guest, stranger = (env.world.add_member(GUILD) for _ in range(3))
    static = env.world.add_voice(GUILD, "Lane 3", env.lanes_cat)  # looks like a lane, is not one
    await env.move(stranger, static)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(guest, lane)
    s = env.service.panel
    actions: dict[str, Callable[[int, int | None], Awaitable[str]]] = {
        "region": lambda who, ch: s.set_region(GUILD, who, ch, "DE"),
        "limit": lambda who, ch: s.set_limit(GUILD, who, ch, "5"),
        "kick": lambda who, ch: s.kick(GUILD, who, ch, owner),
        "ban": lambda who, ch: s.ban(GUILD, who, ch, str(owner)),
        "unban": lambda who, ch: s.unban(GUILD, who, ch, str(owner)),
        "minrank": lambda who, ch: s.set_min_rank(GUILD, who, ch, 3),
        "duo": lambda who, ch: s.apply_template(GUILD, who, ch, "duo"),
        "trio": lambda who, ch: s.apply_template(GUILD, who, ch, "trio"),
        "reset": lambda who, ch: s.apply_template(GUILD, who, ch, "reset"),
        "claim": lambda who, ch: s.claim(GUILD, who, ch),
    }
    calls = len(env.world.changes)
    for name, act in actions.items():
        assert await refused(act(stranger, None)) == T.NOT_A_LANE, name  # the clicker's voice channel is untracked
        assert await refused(act(guest, lane)), name
    outside = env.world.add_member(GUILD)
    assert await refused(s.set_limit(GUILD, outside, None, "5")) == T.JOIN_LANE_FIRST
    assert len(env.world.changes) == calls  # nothing was changed anywhere
    assert env.world.channels[static].name == "Lane 3"


async def test_limit_validation(env: Env) -> None:
    owner = env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    for bad in ["-1", "100", "abc", "", "1.5", "٣"]:
        assert await refused(env.service.panel.set_limit(GUILD, owner, lane, bad)) == T.LIMIT_INVALID, bad
    assert (await env.service.panel.set_limit(GUILD, owner, lane, " 99 ")) == T.LIMIT_SET.format(limit=99)
    assert env.world.channels[lane].user_limit == 99
    assert (await env.service.panel.set_limit(GUILD, owner, lane, "0")) == T.LIMIT_REMOVED
    moderator = env.world.add_member(GUILD, manage_channels=True)
    await env.service.panel.set_limit(GUILD, moderator, lane, "4")  # moderators may


async def test_kick(env: Env) -> None:
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD, name="Guest")
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    assert await refused(env.service.panel.kick_candidates(GUILD, owner, lane)) == T.KICK_NOBODY
    await env.move(guest, lane)
    candidates = await env.service.panel.kick_candidates(GUILD, owner, lane)
    assert isinstance(candidates, list) and [m.id for m in candidates] == [guest]
    assert await refused(env.service.panel.kick(GUILD, owner, lane, owner)) == T.KICK_SELF
    assert (await env.service.panel.kick(GUILD, owner, lane, guest)) == T.KICKED.format(member="Guest")
    await env.world.settle()
    assert env.lane_of(guest) is None
    assert await refused(env.service.panel.kick(GUILD, owner, lane, guest)) == T.KICK_NOT_IN_LANE


async def test_claim_rules(env: Env) -> None:
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    mod = env.world.add_member(GUILD, manage_channels=True)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(guest, lane)
    assert await refused(env.service.panel.claim(GUILD, guest, lane)) == T.CLAIM_OWNER_PRESENT
    assert await refused(env.service.panel.claim(GUILD, owner, lane)) == T.ALREADY_OWNER
    assert await env.service.panel.claim(GUILD, mod, lane) == T.CLAIMED  # moderators always
    assert (await lanes_in_db(env))[lane] == mod
    # the owner (now the moderator, who is not in the lane) is absent: a member inside may claim
    assert await env.service.panel.claim(GUILD, guest, lane) == T.CLAIMED
    assert (await lanes_in_db(env))[lane] == guest


async def test_min_rank(env: Env) -> None:
    archon = env.world.add_member(GUILD, roles=(env.rank_roles[7],))
    await env.move(archon, env.ranked_staging)
    lane = env.lane_of(archon) or 0
    above = await refused(env.service.panel.set_min_rank(GUILD, archon, lane, 9))
    assert above == T.MINRANK_ABOVE_OWN.format(rank="Archon")
    assert (await env.service.panel.set_min_rank(GUILD, archon, lane, 6)) == T.MINRANK_SET.format(rank="Emissary")
    overwrites = env.world.channels[lane].overwrites
    for value, role in env.rank_roles.items():  # a gate: @everyone denied, the ranks from the floor allowed
        target = Target(TargetKind.ROLE, role)
        assert overwrites.get(target, Overwrite()).bit("connect") is (True if value >= 6 else None), value
    assert overwrites[Target(TargetKind.ROLE, GUILD)].bit("connect") is False
    assert overwrites[Target(TargetKind.MEMBER, BOT_USER_ID)].bit("connect") is True
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and row.min_rank == 6
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1 • ab Emissary"
    assert (await env.service.panel.set_min_rank(GUILD, archon, lane, 0)) == T.MINRANK_CLEARED
    assert all(Target(TargetKind.ROLE, r) not in env.world.channels[lane].overwrites for r in env.rank_roles.values())
    assert Target(TargetKind.ROLE, GUILD) not in env.world.channels[lane].overwrites  # back as it was
    # outside the rank categories there is no min rank
    other = env.world.add_member(GUILD, roles=(env.rank_roles[11],))
    await env.move(other, env.staging)
    assert (
        await refused(env.service.panel.set_min_rank(GUILD, other, env.lane_of(other), 3)) == T.MINRANK_WRONG_CATEGORY
    )


async def test_templates_rename_through_the_scheduler(env: Env) -> None:
    owner = env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    reply = await env.service.panel.apply_template(GUILD, owner, lane, "duo")
    assert reply.startswith(T.TEMPLATE_SET.format(name="Duo Call", limit=2))
    assert env.world.channels[lane].user_limit == 2
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Duo Call"
    await env.service.panel.apply_template(GUILD, owner, lane, "trio")
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Trio Call"
    reply = await env.service.panel.apply_template(GUILD, owner, lane, "reset")
    assert reply == T.TEMPLATE_RESET.format(name="Lane 1", limit=8) + T.RENAME_PENDING
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Trio Call"  # two renames in 10 minutes are spent: it waits
    assert env.world.channels[lane].user_limit == 8  # the limit is not rate limited
    env.clock.advance(601)
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1"
    assert env.world.count("edit_channel") == 6  # 3 limits + 3 renames, none refused by Discord


async def test_global_panel_replaces_the_old_one(env: Env) -> None:
    first = await env.service.panel.post_global_panel(GUILD, env.panel_text)
    second = await env.service.panel.post_global_panel(GUILD, env.panel_text)
    assert first != second and first not in env.world.messages and second in env.world.messages
    async with env.db.read() as conn:
        panels = await queries.tempvoice.list_global_panels_in_channel(conn, channel_id=env.panel_text)
    assert [p.message_id for p in panels] == [second]


async def test_resolve_member(env: Env) -> None:
    env.world.add_member(GUILD, 5, name="Twin")
    env.world.add_member(GUILD, 6, name="twin")
    env.world.add_member(GUILD, 7, name="Solo")
    s = env.service.panel
    assert s.resolve_member(GUILD, "<@!7>") == 7 and s.resolve_member(GUILD, "@solo") == 7
    for raw, text in [("twin", T.USER_AMBIGUOUS), ("nobody", T.USER_NOT_FOUND), ("  ", T.USER_NOT_FOUND)]:
        with pytest.raises(UserError) as refusal:
            s.resolve_member(GUILD, raw)
        assert refusal.value.text == text


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Database]:
    async with SqliteDatabase(tmp_path / "other.sqlite3") as database:
        await upgrade(database)
        yield database


async def test_bots_are_ignored(fresh: Database) -> None:
    env = build_env(fresh)
    robot = env.world.add_member(GUILD, bot=True)
    await env.service.on_voice_move(VoiceMove(GUILD, robot, None, env.staging))
    assert env.world.count("create_voice_channel") == 0


async def test_a_template_frees_its_lane_number_only_when_discord_shows_the_name(env: Env) -> None:
    owner = env.world.add_member(GUILD)
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    for template in ("duo", "reset"):  # two renames: the budget of 10 minutes is spent
        await env.service.panel.apply_template(GUILD, owner, lane, template)
        await env.renamer.run_due()
    await env.service.panel.apply_template(GUILD, owner, lane, "trio")
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1"  # the rename waits for the budget
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and (row.base_name, row.lane_number) == ("Lane 1", 1)
    second = env.world.add_member(GUILD)
    await env.move(second, env.staging)
    assert env.world.channels[env.lane_of(second) or 0].name == "Lane 2"  # not a second "Lane 1"

    restarted = env.restart(env.db)  # new services: the wish and the budget come from the database
    env.clock.advance(600)
    assert await restarted.renamer.run_due() == 1
    assert env.world.channels[lane].name == "Trio Call"
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and (row.base_name, row.lane_number) == ("Trio Call", None)
    third = env.world.add_member(GUILD)
    await restarted.move(third, env.staging)
    assert env.world.channels[env.lane_of(third) or 0].name == "Lane 1"  # Discord shows "Trio Call": free now


async def test_lane_panels_are_refreshed_at_start(env: Env) -> None:
    owner, guest, other = (env.world.add_member(GUILD) for _ in range(3))
    await env.move(owner, env.staging)
    lane = env.lane_of(owner) or 0
    await env.move(guest, lane)
    await env.move(other, env.staging)
    env.world.user_moves(GUILD, owner, None)  # the owner leaves while the bot is down: no event handled
    restarted = env.restart(env.db)
    before = env.world.count("edit_panel")
    assert await restarted.service.restore(GUILD) == 1  # the owner is succeeded
    panels = {m.lane_id: m for m in env.world.messages.values()}
    assert panels[lane].owner_id == guest and panels[env.lane_of(other)].owner_id == other
    assert env.world.count("edit_panel") - before >= 2  # every lane's panel, edited in place
    assert len(env.world.messages) == 2

"""TempVoice panel buttons, templates, min rank and start-up against the in-memory Discord and a real database file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.db import Database, SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import upgrade
from bot.discord_glue.ports import Overwrite, Target, TargetKind, VoiceMove
from bot.features.tempvoice import texts
from bot.shared.common import UserError
from tests.fakes.discord_world import BOT_USER_ID
from tests.helpers import refused
from tests.tempvoice_env import GUILD, Env, build_env, lanes_in_db


@pytest.fixture
def env(tempvoice_env: Env) -> Env:
    """On SQLite and PostgreSQL; the event of each of the bot's moves comes before, after or never."""
    return tempvoice_env


T = texts.TempVoice


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

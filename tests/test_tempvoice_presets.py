"""Presets for the next lane, restarts of the owner actions, and the new tables in
export/import and forget-user."""

from __future__ import annotations

from pathlib import Path

from bot.db import Database, SqliteDatabase
from bot.db.privacy import forget_user
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version, upgrade
from bot.db.transfer import export_data, import_data
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import PermitKind
from tests.helpers import refused, reopened
from tests.tempvoice_env import GUILD
from tests.tempvoice_owner_env import BOT_ID, OwnerEnv

L = texts.LaneOwner
T = texts.TempVoice


async def test_preset_applies_to_the_next_lane_within_the_category_rules(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[7],))
    friend = env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    assert await owner_env.owner.rename(GUILD, owner, lane, "Abendrunde")
    assert await env.service.panel.set_limit(GUILD, owner, lane, "9")
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await owner_env.access.trust(GUILD, owner, lane, friend)
    assert await owner_env.owner.save_preset(GUILD, owner, lane) == L.PRESET_SAVED.format(
        summary="Name „Abendrunde“, Limit 9, gesperrt, 1 Vertraute, 0 Abgelehnte"
    )
    await env.move(owner, None)
    assert lane not in env.world.channels

    lane2 = await owner_env.new_lane(owner)
    other = env.world.add_member(GUILD)  # the preset's name is lane2's from the start: it holds no number
    assert env.world.channels[await owner_env.new_lane(other)].name == "Lane 1"
    await env.renamer.run_due()
    channel = env.world.channels[lane2]
    assert (channel.name, channel.user_limit) == ("Abendrunde", 9)
    assert owner_env.everyone_bits(lane2) == (False, None)
    assert owner_env.member_bits(lane2, friend) == (True, None) and owner_env.member_bits(lane2, BOT_ID) == (True, None)
    assert (await owner_env.access.state(lane2)).locked

    # in a ranked category: the ranked cap (6) bounds the limit; the min rank works there
    await env.move(owner, None)
    ranked = await owner_env.new_lane(owner, ranked=True)
    assert await env.service.panel.set_min_rank(GUILD, owner, ranked, 6)
    summary = "Name „Abendrunde“, Limit 6, gesperrt, ab Emissary, 1 Vertraute, 0 Abgelehnte"
    assert await owner_env.owner.save_preset(GUILD, owner, ranked) == L.PRESET_SAVED.format(summary=summary)
    async with env.db.transaction() as conn:  # a preset saved with a bigger limit than the cap
        await queries.tempvoice.save_preset(
            conn, owner_id=owner, name=None, user_limit=12, locked=0, hidden=1, min_rank=6, saved_at=1
        )
    await env.move(owner, None)
    ranked2 = await owner_env.new_lane(owner, ranked=True)
    await env.renamer.run_due()
    channel = env.world.channels[ranked2]
    assert (channel.name, channel.user_limit) == ("Lane 1 • ab Emissary", 6)
    assert owner_env.everyone_bits(ranked2) == (False, False)  # hidden, and the min rank gate keeps @everyone out
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=ranked2)
    assert row is not None and row.min_rank == 6

    # /lane reset: the next lane starts with the defaults
    assert await owner_env.owner.reset_preset(owner) == L.PRESET_RESET
    assert await refused(owner_env.owner.reset_preset(owner)) == L.PRESET_NONE
    await env.move(owner, None)
    plain = await owner_env.new_lane(owner)
    await env.renamer.run_due()
    # ("Lane 1" is the other member's lane: the preset lane never held a number)
    assert (env.world.channels[plain].name, env.world.channels[plain].user_limit) == ("Lane 2", 8)
    assert owner_env.everyone_bits(plain) == (None, None)


async def test_preset_min_rank_never_above_the_owners_rank(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[5],))
    async with env.db.transaction() as conn:
        await queries.tempvoice.save_preset(
            conn, owner_id=owner, name=None, user_limit=None, locked=0, hidden=0, min_rank=9, saved_at=1
        )
    lane = await owner_env.new_lane(owner, ranked=True)
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and row.min_rank == 5
    plain = await owner_env.new_lane(env.world.add_member(GUILD))
    assert (await owner_env.access.state(plain)).locked is False


async def test_lock_permits_and_preset_survive_a_restart(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, guest, late = env.world.add_member(GUILD), env.world.add_member(GUILD), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await owner_env.access.permit(GUILD, owner, lane, PermitKind.MEMBER, guest)
    assert await owner_env.owner.rename(GUILD, owner, lane, "Bleibt")
    await env.renamer.run_due()
    assert await owner_env.owner.save_preset(GUILD, owner, lane)
    await env.db.close()

    async with reopened(env.db) as db2:  # new services on the same store and the same Discord
        o2 = owner_env.restart(env.restart(db2))
        assert (await o2.access.state(lane)).locked
        assert await o2.access.toggle_lock(GUILD, owner, lane) == L.UNLOCKED  # it knew: locked
        assert await o2.access.toggle_lock(GUILD, owner, lane) == L.LOCKED
        assert o2.everyone_bits(lane) == (False, None)
        assert o2.member_bits(lane, guest) == (True, None)  # the permit survived
        assert await o2.access.permit(GUILD, owner, lane, PermitKind.MEMBER, late)
        assert o2.everyone_bits(lane) == (False, None)  # a permit after the restart keeps the lock
        await o2.env.move(owner, None)
        lane2 = await o2.new_lane(owner)
        await o2.env.renamer.run_due()
        assert o2.env.world.channels[lane2].name == "Bleibt"
        assert o2.everyone_bits(lane2) == (False, None)


async def fill_owner_tables(db: Database, user: int, other: int) -> int:
    """One lane of `other`, the new tables filled with rows of `user` and `other`."""
    lane = 77
    async with db.transaction() as conn:
        await queries.tempvoice.insert_lane(
            conn, channel_id=lane, guild_id=GUILD, owner_id=other, base_name="Lane 1", category_id=1, lane_number=1,
            min_rank=0, source_staging_id=None, created_at=None,
        )  # fmt: skip
        await queries.tempvoice.set_lane_access(conn, channel_id=lane, locked=1, hidden=0, updated_at=1)
        for kind in ("member", "role"):
            await queries.tempvoice.add_lane_permit(
                conn, channel_id=lane, target_kind=kind, target_id=user, created_at=1
            )
        await queries.tempvoice.add_trusted(conn, owner_id=user, trusted_id=other, created_at=1)
        await queries.tempvoice.add_trusted(conn, owner_id=other, trusted_id=user, created_at=1)
        await queries.tempvoice.add_trusted(conn, owner_id=other, trusted_id=5, created_at=1)
        await queries.tempvoice.save_preset(
            conn, owner_id=user, name="Meins", user_limit=4, locked=1, hidden=0, min_rank=0, saved_at=1
        )
        await queries.tempvoice.save_preset(
            conn, owner_id=other, name=None, user_limit=None, locked=0, hidden=1, min_rank=3, saved_at=1
        )
    return lane


async def test_forget_user_covers_trusted_lists_presets_and_permits(any_db: Database) -> None:
    db = any_db
    user, other = 9_000_000_000_000_000_001, 42
    lane = await fill_owner_tables(db, user, other)
    counts = await forget_user(db, user)
    assert counts["tempvoice trusted lists (own and on others')"] == 2
    assert counts["tempvoice lane preset"] == 1 and counts["tempvoice lane permits"] == 1
    async with db.read() as conn:
        assert [t.trusted_id for t in await queries.tempvoice.list_trusted(conn, owner_id=other)] == [5]
        assert await queries.tempvoice.get_preset(conn, owner_id=user) is None
        assert await queries.tempvoice.get_preset(conn, owner_id=other) is not None
        permits = await queries.tempvoice.list_lane_permits(conn, channel_id=lane)
    assert [(p.target_kind, p.target_id) for p in permits] == [("role", user)]  # a role id is nobody's data
    assert sum((await forget_user(db, user)).values()) == 0


async def test_export_and_import_carry_the_new_tables(any_db: Database, tmp_path: Path) -> None:
    db = any_db
    await fill_owner_tables(db, 7, 42)
    data = await export_data(db)
    for table, rows in [
        ("tempvoice_trusted", 3),
        ("tempvoice_presets", 2),
        ("tempvoice_lane_access", 1),
        ("tempvoice_lane_permits", 2),
    ]:
        assert len(data["tables"][table]["rows"]) == rows, table
    async with SqliteDatabase(tmp_path / "target.sqlite3", max_schema_version=latest_version()) as target:
        await upgrade(target, backup=False)
        await import_data(target, data)
        assert await export_data(target) == data
        async with target.read() as conn:
            preset = await queries.tempvoice.get_preset(conn, owner_id=7)
        assert preset is not None and (preset.name, preset.user_limit, preset.locked) == ("Meins", 4, 1)

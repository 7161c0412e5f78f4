"""A lane of an owner whose preset has a name is created with that name: no "Lane N" first
and no rename, no number held (on both engines)."""

from __future__ import annotations

from bot.db.queries import queries
from tests.raw_sql import fetch_all
from tests.tempvoice_env import GUILD
from tests.tempvoice_owner_env import OwnerEnv


async def _save_preset(owner_env: OwnerEnv, owner: int, name: str | None, limit: int | None = None) -> None:
    async with owner_env.env.db.transaction() as conn:
        await queries.tempvoice.save_preset(
            conn, owner_id=owner, name=name, user_limit=limit, locked=0, hidden=0, min_rank=0, saved_at=1
        )


async def _claims(owner_env: OwnerEnv) -> list[tuple[object, ...]]:
    async with owner_env.env.db.read() as conn:
        return await fetch_all(conn, "SELECT member_id, category_id, lane_number FROM tempvoice_creation_claims")


async def test_a_preset_name_is_the_new_lanes_name_from_the_start(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    await _save_preset(owner_env, owner, "Abendrunde", limit=5)
    seen: list[list[tuple[object, ...]]] = []

    async def while_creating() -> None:  # the claim while Discord creates the channel: no number
        seen.append(await _claims(owner_env))

    env.world.hooks["create_voice_channel"] = while_creating
    lane = await owner_env.new_lane(owner)
    assert seen == [[(owner, None, None)]]
    created = [args for name, args in env.world.calls if name == "create_voice_channel"]
    assert [args[2] for args in created] == ["Abendrunde"]  # created with the name: never "Lane 1"
    await env.renamer.run_due()
    assert not [args for name, args in env.world.calls if name == "edit_channel" and args[1] is not None]
    assert (env.world.channels[lane].name, env.world.channels[lane].user_limit) == ("Abendrunde", 5)
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and (row.base_name, row.lane_number, row.owner_id) == ("Abendrunde", None, owner)
    assert await _claims(owner_env) == []  # the claim went once the lane existed

    # it holds no number: the next member's lane is "Lane 1"
    other = env.world.add_member(GUILD)
    assert env.world.channels[await owner_env.new_lane(other)].name == "Lane 1"
    # a preset without a name keeps "Lane N"
    third = env.world.add_member(GUILD)
    await _save_preset(owner_env, third, None, limit=3)
    assert env.world.channels[await owner_env.new_lane(third)].name == "Lane 2"
    assert await _claims(owner_env) == []


async def test_a_preset_lane_goes_back_to_a_number_on_the_template_reset(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    await _save_preset(owner_env, owner, "Abendrunde")
    lane = await owner_env.new_lane(owner)
    other = env.world.add_member(GUILD)
    await owner_env.new_lane(other)  # "Lane 1"
    assert await env.service.panel.apply_template(GUILD, owner, lane, "reset")
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 2"
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and (row.base_name, row.lane_number) == ("Lane 2", 2)

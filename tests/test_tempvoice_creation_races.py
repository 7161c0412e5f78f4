"""A restart while a lane is being created: the lane row exists, its creator's move is not
answered yet, and new services on the same database reconcile the guild (the start-up
reconcile). The move is then made before that reconcile, after it, or never (the process that
created the lane died): the lane is spared while its creation claim is young, kept once its
creator is in it, and removed by a later reconcile once the claim is stale and nobody came.
On SQLite and on PostgreSQL; the voice event of the bot's own move comes before its HTTP
response, after it, or never."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.features.tempvoice.creation import CLAIM_STALE_SECONDS
from tests.fakes.discord_world import EVENT_DELIVERIES, EventDelivery
from tests.tempvoice_env import GUILD, Env, build_env

Order = Literal["before", "after", "never"]


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


async def _lanes(env: Env) -> dict[int, int]:
    async with env.db.read() as conn:
        return {
            lane.channel_id: lane.owner_id for lane in await queries.tempvoice.list_lanes_by_guild(conn, guild_id=GUILD)
        }


async def _lane_members(env: Env, lane: int) -> list[int]:
    async with env.db.read() as conn:
        return [m.user_id for m in await queries.tempvoice.list_lane_members(conn, channel_id=lane)]


async def _creation_held_at_the_move(env: Env, member: int) -> tuple[asyncio.Task[None], asyncio.Event, int]:
    """`member` joins the staging channel; the creation runs up to the move call and waits there
    (the lane's channel and row exist). Returns the creation, the event that lets the move go
    on, and the lane."""
    at_move, go = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        at_move.set()
        await go.wait()

    env.world.hooks["move_member"] = hold
    creation = asyncio.create_task(env.service.on_voice_move(env.world.user_moves(GUILD, member, env.staging)))
    async with asyncio.timeout(10):
        await at_move.wait()
    lanes = [lane for lane, owner in (await _lanes(env)).items() if owner == member]
    assert len(lanes) == 1
    return creation, go, lanes[0]


@pytest.mark.parametrize("delivery", EVENT_DELIVERIES)
@pytest.mark.parametrize("order", ["before", "after", "never"])
async def test_a_restart_during_creation_spares_the_lane(db: Database, delivery: EventDelivery, order: Order) -> None:
    env = build_env(db, event_delivery=delivery)
    member = env.world.add_member(GUILD)
    creation, go, lane = await _creation_held_at_the_move(env, member)
    restarted = env.restart(db)  # new services, same database and Discord: events now go to them

    if order == "before":  # the old process's move went through before the new one reconciles
        go.set()
        await creation
        await env.world.settle()
    assert await restarted.service.restore(GUILD) == 0  # the lane is spared, whatever the cache says
    if order == "after":  # the move is answered after the start-up reconcile
        go.set()
        await creation
        await env.world.settle()

    assert env.world.count("delete_channel") == 0 and lane in env.world.channels
    assert await _lanes(env) == {lane: member}
    expected = env.staging if order == "never" else lane
    assert env.lane_of(member) == expected

    # minutes later: the periodic reconcile, every claim stale by now
    env.clock.advance(CLAIM_STALE_SECONDS + 1)
    changes = await restarted.service.reconcile(GUILD)
    await env.world.settle()
    if order == "never":  # nobody was moved in: the empty lane goes, with its rows
        assert changes == 1 and lane not in env.world.channels and await _lanes(env) == {}
        assert env.lane_of(member) == env.staging
        creation.cancel()  # the process that created it is gone
        with pytest.raises(asyncio.CancelledError):
            await creation
    else:
        assert changes == 0 and lane in env.world.channels
        assert await _lanes(env) == {lane: member} and await _lane_members(env, lane) == [member]
        async with db.read() as conn:
            claims = await queries.tempvoice.list_creations_in_flight(conn, guild_id=GUILD, fresh_after=0)
        assert claims == []  # the creation released its claim
    assert not env.world.echo_errors


async def test_the_claim_spares_only_its_owner_s_lane_and_only_while_young(db: Database) -> None:
    """One creation held at its move; another, finished lane emptied meanwhile is deleted by the
    same reconcile (the spare is per owner, not a pause of the whole guild)."""
    env = build_env(db)
    done_owner, held_owner = env.world.add_member(GUILD), env.world.add_member(GUILD)
    await env.move(done_owner, env.staging)
    done_lane = env.lane_of(done_owner)
    assert done_lane is not None
    creation, go, held_lane = await _creation_held_at_the_move(env, held_owner)
    env.world.user_moves(GUILD, done_owner, None)  # left while the bot was offline (no event)
    restarted = env.restart(db)
    assert await restarted.service.reconcile(GUILD) == 1
    await env.world.settle()
    assert await _lanes(env) == {held_lane: held_owner} and done_lane not in env.world.channels
    env.clock.advance(CLAIM_STALE_SECONDS - 1)
    assert await restarted.service.reconcile(GUILD) == 0  # still young
    go.set()
    await creation
    await env.world.settle()
    assert env.lane_of(held_owner) == held_lane
    env.clock.advance(2 * CLAIM_STALE_SECONDS)
    assert await restarted.service.reconcile(GUILD) == 0 and await _lanes(env) == {held_lane: held_owner}

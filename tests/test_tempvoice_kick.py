"""Kick on the fake Discord: a kicked member loses the access the lane gave them (on SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.db.queries import queries
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import PermitKind
from tests.helpers import refused, reopened
from tests.tempvoice_env import GUILD
from tests.tempvoice_owner_env import BOT_ID, OwnerEnv

L = texts.LaneOwner
T = texts.TempVoice


async def permitted(owner_env: OwnerEnv, lane: int) -> list[int]:
    async with owner_env.env.db.read() as conn:
        return [p.target_id for p in await queries.tempvoice.list_lane_permits(conn, channel_id=lane)]


async def test_kick_from_a_locked_lane_takes_the_lock_time_access_and_survives_a_restart(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    pest, stays = env.world.add_member(GUILD, name="Pest"), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    await env.move(pest, lane)
    await env.move(stays, lane)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True) == L.LOCKED
    assert owner_env.member_bits(lane, pest) == (True, None)  # inside when it was locked

    assert await env.service.panel.kick(GUILD, owner, lane, pest) == T.KICKED.format(member="Pest")
    await env.world.settle()
    assert env.lane_of(pest) is None
    assert owner_env.member_bits(lane, pest) == (None, None)  # no allow left: @everyone's deny holds
    assert owner_env.everyone_bits(lane) == (False, None)
    assert owner_env.member_bits(lane, stays) == (True, None) and owner_env.member_bits(lane, BOT_ID) == (True, None)
    assert sorted(await permitted(owner_env, lane)) == sorted([owner, stays])
    await env.db.close()

    async with reopened(env.db) as db2:  # the bot restarts; same store, same Discord
        o2 = owner_env.restart(env.restart(db2))
        assert await o2.access.set_hidden(GUILD, owner, lane, True) == L.HIDDEN  # recomputed from the store
        assert o2.member_bits(lane, pest) == (None, None)
        assert o2.member_bits(lane, stays) == (True, True)
        assert o2.everyone_bits(lane) == (False, False)
        # until the owner lets them in again
        assert await o2.access.permit(GUILD, owner, lane, PermitKind.MEMBER, pest)
        assert o2.member_bits(lane, pest) == (True, True)
        await o2.env.move(pest, lane)
        assert await o2.env.service.panel.kick(GUILD, owner, lane, pest)  # an explicit permit goes too
        await o2.env.world.settle()
        assert o2.member_bits(lane, pest) == (None, None)


async def test_kick_from_an_unlocked_lane_changes_no_access(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD, name="Guest")
    lane = await owner_env.new_lane(owner)
    await env.move(guest, lane)
    before = dict(env.world.channels[lane].overwrites)
    assert await env.service.panel.kick(GUILD, owner, lane, guest) == T.KICKED.format(member="Guest")
    await env.world.settle()
    assert env.lane_of(guest) is None
    assert dict(env.world.channels[lane].overwrites) == before
    await env.move(guest, lane)  # an open lane: they may come back
    assert env.lane_of(guest) == lane
    assert await refused(env.service.panel.kick(GUILD, owner, lane, owner)) == T.KICK_SELF


async def test_kicking_a_trusted_member_keeps_the_trust_and_says_so(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, friend = env.world.add_member(GUILD), env.world.add_member(GUILD, name="Friend")
    lane = await owner_env.new_lane(owner)
    await env.move(friend, lane)
    assert await owner_env.access.trust(GUILD, owner, lane, friend)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    reply = await env.service.panel.kick(GUILD, owner, lane, friend)
    assert reply == T.KICKED.format(member="Friend") + T.KICKED_TRUSTED.format(member="Friend")
    await env.world.settle()
    assert env.lane_of(friend) is None
    assert owner_env.member_bits(lane, friend) == (True, None)  # the trusted list still lets them in
    assert await owner_env.access.trusted(GUILD, owner, lane) == [friend]
    assert await owner_env.access.untrust(GUILD, owner, lane, friend)
    assert owner_env.member_bits(lane, friend) == (None, None)  # the lock-time access went with the kick

"""Owner actions on the fake Discord: rename, lock, hide, permit, trust, reject, transfer."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import TargetKind
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import PermitKind
from tests.fakes.discord_world import EVENT_DELIVERIES, EventDelivery
from tests.helpers import refused
from tests.tempvoice_env import GUILD, build_env
from tests.tempvoice_owner_env import BOT_ID, OwnerEnv, with_owner_actions

L = texts.LaneOwner
T = texts.TempVoice


async def test_rename_goes_through_the_scheduler_and_says_when(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    alice = env.world.add_member(GUILD, name="Alice")
    lane = await owner_env.new_lane(alice)
    assert await owner_env.owner.rename(GUILD, alice, lane, "  Chill \n  Runde ") == L.RENAMED_NOW.format(
        name="Chill Runde"
    )
    # while the name is pending, the lane keeps its number: the next lane is not also "Lane 1"
    assert await lane_row(owner_env, lane) == ("Lane 1", 1)
    bob = env.world.add_member(GUILD)
    assert env.world.channels[await owner_env.new_lane(bob)].name == "Lane 2"
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Chill Runde"
    assert await lane_row(owner_env, lane) == ("Chill Runde", None)  # Discord shows it: "Lane 1" is free again

    first = env.clock.now()
    assert await owner_env.owner.rename(GUILD, alice, lane, "Zweiter")
    await env.renamer.run_due()
    third = await owner_env.owner.rename(GUILD, alice, lane, "Dritter")  # two renames in 10 minutes are spent
    assert third == L.RENAMED_LATER.format(name="Dritter", at=first + 600)
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Zweiter"
    env.clock.advance(600)
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Dritter"
    carol = env.world.add_member(GUILD)
    assert env.world.channels[await owner_env.new_lane(carol)].name == "Lane 1"


async def lane_row(owner_env: OwnerEnv, lane: int) -> tuple[str, int | None]:
    async with owner_env.env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None
    return row.base_name, row.lane_number


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("@everyone kommt", L.NAME_MENTION),
        ("Lane von <@123456789012345678>", L.NAME_MENTION),
        ("discord.gg/abcdef", L.NAME_INVITE),
        ("join https://example.org", L.NAME_URL),
        ("meine.seite.de", L.NAME_URL),
        ("Lane 7", L.NAME_RESERVED),
        ("du IDIOT", L.NAME_BLOCKED.format(word="idiot")),
        ("   ", L.NAME_EMPTY),
        ("x" * 101, L.NAME_TOO_LONG),
    ],
)
async def test_rename_refuses_bad_names(owner_env: OwnerEnv, raw: str, text: str) -> None:
    alice = owner_env.env.world.add_member(GUILD)
    lane = await owner_env.new_lane(alice)
    assert await refused(owner_env.owner.rename(GUILD, alice, lane, raw)) == text
    await owner_env.env.renamer.run_due()
    assert owner_env.env.world.channels[lane].name == "Lane 1" and owner_env.env.world.renames[lane] == []


async def test_only_the_owner_or_a_moderator_acts(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    mod = env.world.add_member(GUILD, manage_channels=True)
    lane = await owner_env.new_lane(owner)
    await env.move(guest, lane)
    refusals = {
        "rename": owner_env.owner.rename(GUILD, guest, lane, "Meins"),
        "lock": owner_env.access.toggle_lock(GUILD, guest, lane),
        "hide": owner_env.access.set_hidden(GUILD, guest, lane, True),
        "permit": owner_env.access.permit(GUILD, guest, lane, PermitKind.MEMBER, mod),
        "transfer": owner_env.owner.transfer(GUILD, guest, lane, guest),
    }
    for name, call in refusals.items():
        assert await refused(call) == T.NOT_OWNER, name
    assert await refused(owner_env.owner.reject(GUILD, guest, lane, owner)) == T.NOT_OWNER_OR_ADMIN
    assert await refused(owner_env.access.trust(GUILD, guest, lane, mod)) == L.ONLY_OWNER
    assert await refused(owner_env.owner.save_preset(GUILD, guest, lane)) == L.ONLY_OWNER
    assert owner_env.everyone_bits(lane) == (None, None)
    assert await owner_env.access.set_locked(GUILD, mod, lane, True)  # a moderator may
    assert await owner_env.owner.rename(GUILD, mod, lane, "Mod-Name")


async def test_lock_allows_insiders_trusted_moderators_and_the_bot(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, inside, friend, stranger = (env.world.add_member(GUILD) for _ in range(4))
    lane = await owner_env.new_lane(owner)
    await env.move(inside, lane)
    assert await owner_env.access.trust(GUILD, owner, lane, friend)
    assert await owner_env.access.toggle_lock(GUILD, owner, lane) == L.LOCKED
    assert owner_env.everyone_bits(lane) == (False, None)
    for member in (owner, inside, friend, BOT_ID):
        assert owner_env.member_bits(lane, member) == (True, None), member
    assert owner_env.bits(lane, TargetKind.ROLE, owner_env.moderator_role) == (True, None)
    assert owner_env.member_bits(lane, stranger) == (None, None)
    assert await refused(owner_env.access.set_locked(GUILD, owner, lane, True)) == L.ALREADY_LOCKED

    assert await owner_env.access.toggle_lock(GUILD, owner, lane) == L.UNLOCKED
    assert owner_env.everyone_bits(lane) == (None, None)
    assert all(owner_env.member_bits(lane, m) == (None, None) for m in (owner, inside, friend, BOT_ID))
    assert owner_env.bits(lane, TargetKind.ROLE, owner_env.moderator_role) == (None, None)


async def test_hide_and_lock_together(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, stranger = env.world.add_member(GUILD), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    assert await owner_env.access.set_hidden(GUILD, owner, lane, True) == L.HIDDEN
    assert owner_env.everyone_bits(lane) == (None, False) and owner_env.member_bits(lane, owner) == (None, True)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert owner_env.everyone_bits(lane) == (False, False) and owner_env.member_bits(lane, BOT_ID) == (True, True)
    assert await owner_env.access.set_hidden(GUILD, owner, lane, False) == L.SHOWN
    assert owner_env.everyone_bits(lane) == (False, None) and owner_env.member_bits(lane, owner) == (True, None)
    assert await refused(owner_env.access.set_hidden(GUILD, owner, lane, False)) == L.ALREADY_SHOWN
    assert owner_env.member_bits(lane, stranger) == (None, None)


async def test_permit_members_and_roles(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    guest = env.world.add_member(GUILD, name="Gast")
    lane = await owner_env.new_lane(owner)
    await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await owner_env.access.permit(GUILD, owner, lane, PermitKind.MEMBER, guest) == L.PERMITTED_MEMBER.format(
        member="Gast"
    )
    assert owner_env.member_bits(lane, guest) == (True, None)
    again = owner_env.access.permit(GUILD, owner, lane, PermitKind.MEMBER, guest)
    assert await refused(again) == L.ALREADY_PERMITTED.format(member="Gast")
    squad = env.world.add_role(GUILD, "Squad")
    assert await owner_env.access.permit(GUILD, owner, lane, PermitKind.ROLE, squad) == L.PERMITTED_ROLE.format(
        role="Squad"
    )
    assert owner_env.bits(lane, TargetKind.ROLE, squad) == (True, None)
    robot = env.world.add_member(GUILD, bot=True)
    assert await refused(owner_env.access.permit(GUILD, owner, lane, PermitKind.MEMBER, robot)) == L.PERMIT_BOT


async def test_permit_respects_bans_min_rank_and_the_rank_window(owner_env: OwnerEnv) -> None:
    """A locked ranked lane with a min rank, also anchored by rank voice: no permit gets around them."""
    env = owner_env.env
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[7],))
    low = env.world.add_member(GUILD, name="Low", roles=(env.rank_roles[3],))
    high = env.world.add_member(GUILD, name="High", roles=(env.rank_roles[11],))
    fits = env.world.add_member(GUILD, name="Fits", roles=(env.rank_roles[7],))
    pest = env.world.add_member(GUILD, name="Pest", roles=(env.rank_roles[7],))
    mod = env.world.add_member(GUILD, name="Mod", roles=(env.rank_roles[1],), manage_channels=True)
    lane = await owner_env.new_lane(owner, ranked=True)
    assert await env.service.panel.set_min_rank(GUILD, owner, lane, 6)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    async with env.db.transaction() as conn:
        await queries.rank_voice.upsert_anchor(
            conn, channel_id=lane, guild_id=GUILD, user_id=owner, rank_name="Archon", rank_value=7, anchor_subrank=0,
            allowed_min=6, allowed_max=8, score_min=0, score_max=0, updated_at="t",
        )  # fmt: skip
    assert await env.service.panel.ban(GUILD, owner, lane, str(pest))

    permit = owner_env.access.permit
    assert await refused(permit(GUILD, owner, lane, PermitKind.MEMBER, low)) == L.PERMIT_BELOW_MINRANK.format(
        member="Low", rank="Emissary"
    )
    assert await refused(permit(GUILD, owner, lane, PermitKind.MEMBER, high)) == L.PERMIT_OUTSIDE_WINDOW.format(
        member="High", low="Emissary", high="Oracle"
    )
    assert await refused(permit(GUILD, owner, lane, PermitKind.MEMBER, pest)) == L.PERMIT_BANNED.format(member="Pest")
    assert await permit(GUILD, owner, lane, PermitKind.MEMBER, fits)
    assert await permit(GUILD, owner, lane, PermitKind.MEMBER, mod)  # moderators are not held by ranks
    assert owner_env.member_bits(lane, low) == (None, None) and owner_env.member_bits(lane, high) == (None, None)
    assert owner_env.member_bits(lane, pest) == (False, None)
    assert owner_env.member_bits(lane, fits) == (True, None) and owner_env.member_bits(lane, mod) == (True, None)
    # the lock is a gate that admits no rank: none of the min rank's allows while it is on
    assert owner_env.everyone_bits(lane) == (False, None)
    assert [owner_env.bits(lane, TargetKind.ROLE, env.rank_roles[v])[0] for v in (3, 5, 6, 7, 11)] == [None] * 5
    assert await owner_env.access.set_locked(GUILD, owner, lane, False)
    assert [owner_env.bits(lane, TargetKind.ROLE, env.rank_roles[v])[0] for v in (3, 5, 6, 7, 11)] == [
        None,
        None,
        True,
        True,
        True,
    ]
    # trusted members below the floor or outside the window get no allow on this lane
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await owner_env.access.trust(GUILD, owner, lane, low)
    assert await owner_env.access.trust(GUILD, owner, lane, high)
    assert owner_env.member_bits(lane, low) == (None, None) and owner_env.member_bits(lane, high) == (None, None)
    assert owner_env.member_bits(lane, fits) == (True, None)


async def test_trusted_list_follows_the_owner(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    friend = env.world.add_member(GUILD, name="Friend")
    lane = await owner_env.new_lane(owner)
    await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await owner_env.access.trust(GUILD, owner, lane, friend) == L.TRUSTED.format(member="Friend")
    assert owner_env.member_bits(lane, friend) == (True, None)
    assert await refused(owner_env.access.trust(GUILD, owner, lane, friend)) == L.ALREADY_TRUSTED.format(
        member="Friend"
    )
    assert await refused(owner_env.access.trust(GUILD, owner, lane, owner)) == L.TRUST_SELF
    assert await owner_env.access.trusted(GUILD, owner, lane) == [friend]
    assert await owner_env.access.untrust(GUILD, owner, lane, friend) == L.UNTRUSTED.format(member="Friend")
    assert owner_env.member_bits(lane, friend) == (None, None)
    assert await owner_env.access.trust(GUILD, owner, lane, friend)
    await env.move(owner, None)  # the lane is deleted; the list stays with the owner
    lane2 = await owner_env.new_lane(owner)
    await owner_env.access.set_hidden(GUILD, owner, lane2, True)
    assert owner_env.member_bits(lane2, friend) == (None, True)
    for _ in range(24):
        assert await owner_env.access.trust(GUILD, owner, lane2, env.world.add_member(GUILD))
    assert await refused(
        owner_env.access.trust(GUILD, owner, lane2, env.world.add_member(GUILD))
    ) == L.TRUST_FULL.format(limit=25)


async def test_reject_disconnects_bans_and_lists_for_unban(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    pest = env.world.add_member(GUILD, name="Pest")
    lane = await owner_env.new_lane(owner)
    await env.move(pest, lane)
    assert await owner_env.access.trust(GUILD, owner, lane, pest)
    await owner_env.access.set_hidden(GUILD, owner, lane, True)
    assert owner_env.member_bits(lane, pest) == (None, True)
    assert await owner_env.owner.reject(GUILD, owner, lane, pest) == T.BANNED.format(member="Pest")
    await env.world.settle()
    assert env.lane_of(pest) is None
    assert owner_env.member_bits(lane, pest) == (False, None)  # the ban outranks the trust: not even visible
    assert await refused(owner_env.owner.reject(GUILD, owner, lane, owner)) == L.REJECT_SELF
    assert await owner_env.owner.banned(GUILD, owner, lane) == [pest]
    assert await owner_env.owner.unban(GUILD, owner, lane, pest) == T.UNBANNED.format(member="Pest")
    assert await owner_env.owner.banned(GUILD, owner, lane) == []
    assert owner_env.member_bits(lane, pest) == (None, True)  # trusted again on the hidden lane


async def test_transfer_to_a_member_in_the_lane(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    heir = env.world.add_member(GUILD, name="Heir")
    outside = env.world.add_member(GUILD)
    owner_friend, heir_friend = env.world.add_member(GUILD), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    await env.move(heir, lane)
    assert await owner_env.access.trust(GUILD, owner, lane, owner_friend)
    async with env.db.transaction() as conn:
        await queries.tempvoice.add_trusted(conn, owner_id=heir, trusted_id=heir_friend, created_at=0)
    await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await refused(owner_env.owner.transfer(GUILD, owner, lane, outside)) == L.TRANSFER_NOT_IN_LANE
    assert await refused(owner_env.owner.transfer(GUILD, owner, lane, owner)) == L.TRANSFER_SELF
    assert [m.id for m in await owner_env.owner.transfer_candidates(GUILD, owner, lane)] == [heir]
    assert await owner_env.owner.transfer(GUILD, owner, lane, heir) == L.TRANSFERRED.format(member="Heir")
    async with env.db.read() as conn:
        row = await queries.tempvoice.get_lane(conn, channel_id=lane)
    assert row is not None and row.owner_id == heir
    panel = [m for m in env.world.messages.values() if m.lane_id == lane]
    assert [m.owner_id for m in panel] == [heir]
    # the lock stays; the new owner's trusted list applies, the old owner's does not
    assert owner_env.everyone_bits(lane) == (False, None)
    assert owner_env.member_bits(lane, heir_friend) == (True, None)
    assert owner_env.member_bits(lane, owner_friend) == (None, None)
    assert owner_env.member_bits(lane, owner) == (True, None)  # inside when it was locked
    assert await refused(owner_env.owner.transfer(GUILD, owner, lane, owner)) == T.NOT_OWNER


@pytest.mark.parametrize("delivery", EVENT_DELIVERIES)
async def test_lock_and_transfer_whatever_the_event_order(any_db: Database, delivery: EventDelivery) -> None:
    """The bot's own move into the new lane: its gateway event before, after (lagging) or never
    the HTTP response. The owner counts as inside either way (records plus a fresh fetch)."""
    owner_env = with_owner_actions(build_env(any_db))
    env = owner_env.env
    env.world.event_delivery = delivery
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD, name="Guest")
    await env.move(owner, env.staging)
    lane = env.world.truth_channel_of(GUILD, owner)
    assert lane is not None and lane != env.staging
    await env.move(guest, lane)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True) == L.LOCKED
    assert owner_env.member_bits(lane, owner) == (True, None) and owner_env.member_bits(lane, guest) == (True, None)
    assert [m.id for m in await owner_env.owner.transfer_candidates(GUILD, owner, lane)] == [guest]
    assert await owner_env.owner.transfer(GUILD, owner, lane, guest) == L.TRANSFERRED.format(member="Guest")
    assert await refused(owner_env.owner.transfer(GUILD, guest, lane, guest)) == L.TRANSFER_SELF
    await env.world.settle()
    assert env.world.echo_errors == []

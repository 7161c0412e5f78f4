"""The owner actions' remaining refusals: the panel's buttons that open a select refuse
before they offer one, targets that are no member (or a bot, or banned), a lane that went
away meanwhile, and Discord failing while a preset is applied."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import discord
import pytest

from bot.db.queries import Lane, queries
from bot.discord_glue.adapter import from_overwrite, to_overwrite
from bot.discord_glue.ports import Forbidden, Overwrite, TargetKind
from bot.features.tempvoice import texts
from bot.features.tempvoice.access import PermitKind
from bot.features.tempvoice.cog import CUSTOM_IDS
from bot.features.tempvoice.owner_cog import OWNER_CUSTOM_IDS, PICK_CUSTOM_IDS, LanePanel, owner_picks
from tests.helpers import refused
from tests.tempvoice_env import GUILD
from tests.tempvoice_owner_env import BOT_ID, OwnerEnv

L = texts.LaneOwner
T = texts.TempVoice


# -- the panel: a refusal instead of a select ------------------------------------------------------


@dataclasses.dataclass
class _Response:
    sent: list[tuple[str | None, dict[str, Any]]] = dataclasses.field(default_factory=list)

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append((content, kwargs))


@dataclasses.dataclass
class _User:
    id: int


@dataclasses.dataclass
class _Interaction:
    """What the panel's callbacks read of a click."""

    user: _User
    channel_id: int
    guild_id: int = GUILD
    guild: None = None
    response: _Response = dataclasses.field(default_factory=_Response)


async def _press(panel: LanePanel, button: str, clicker: int, channel: int) -> list[tuple[str | None, dict[str, Any]]]:
    interaction = _Interaction(_User(clicker), channel)
    item = getattr(panel, button)
    await item.callback(cast(discord.Interaction, interaction))
    return interaction.response.sent


@pytest.mark.parametrize(
    ("button", "text"),
    [
        ("rename", T.NOT_OWNER),
        ("permit", T.NOT_OWNER),
        ("trust", L.ONLY_OWNER),
        ("reject", T.NOT_OWNER_OR_ADMIN),
        ("transfer", T.NOT_OWNER),
    ],
)
async def test_select_buttons_refuse_a_stranger_without_a_select(owner_env: OwnerEnv, button: str, text: str) -> None:
    env = owner_env.env
    owner, stranger = env.world.add_member(GUILD), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    panel = LanePanel(env.service, owner_env.access, owner_env.owner)
    [(said, kwargs)] = await _press(panel, button, stranger, lane)
    assert said == text and kwargs["ephemeral"] is True and "view" not in kwargs


async def test_select_buttons_refuse_outside_a_lane(owner_env: OwnerEnv) -> None:
    """A panel outside a lane (the global panel's channel) acts on the clicker's lane: none here."""
    env = owner_env.env
    member = env.world.add_member(GUILD)
    panel = LanePanel(env.service, owner_env.access, owner_env.owner)
    for button in ("rename", "permit", "trust", "reject", "transfer"):
        assert [s for s, _ in await _press(panel, button, member, env.panel_text)] == [T.JOIN_LANE_FIRST], button


# -- targets -------------------------------------------------------------------------------------


async def test_permit_and_trust_refuse_who_is_no_member_a_bot_or_banned(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, rude, bot = env.world.add_member(GUILD), env.world.add_member(GUILD), env.world.add_member(GUILD, bot=True)
    gone = 987_654_321_987_654_321  # left the server
    lane = await owner_env.new_lane(owner)
    assert await refused(owner_env.access.permit(GUILD, owner, lane, PermitKind.MEMBER, gone)) == T.USER_NOT_FOUND
    assert await refused(owner_env.access.trust(GUILD, owner, lane, gone)) == T.USER_NOT_FOUND
    assert await refused(owner_env.access.trust(GUILD, owner, lane, bot)) == L.PERMIT_BOT
    assert await owner_env.owner.reject(GUILD, owner, lane, rude)
    assert await refused(owner_env.access.trust(GUILD, owner, lane, rude)) == L.TRUST_BANNED.format(
        member=f"user{rude}"
    )
    assert await refused(owner_env.access.untrust(GUILD, owner, lane, rude)) == L.NOT_TRUSTED.format(
        member=f"user{rude}"
    )
    async with env.db.read() as conn:
        assert await queries.tempvoice.count_trusted(conn, owner_id=owner) == 0


async def test_transfer_refuses_a_bot(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner, bot = env.world.add_member(GUILD), env.world.add_member(GUILD, bot=True)
    lane = await owner_env.new_lane(owner)
    await env.move(bot, lane)
    assert await refused(owner_env.owner.transfer(GUILD, owner, lane, bot)) == L.TRANSFER_BOT
    assert await refused(owner_env.owner.transfer_candidates(GUILD, owner, lane)) == L.TRANSFER_NOBODY


async def test_reject_refuses_the_owner_and_the_bot(owner_env: OwnerEnv) -> None:
    """Ablehnen is not for oneself (its own text, not the ban's) nor for the bot: a ban's deny
    beats the bot's own allow, and the bot could no longer manage the lane."""
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert await refused(owner_env.owner.reject(GUILD, owner, lane, owner)) == L.REJECT_SELF
    assert await refused(owner_env.owner.reject(GUILD, owner, lane, BOT_ID)) == L.REJECT_BOT
    assert owner_env.member_bits(lane, BOT_ID) == (True, None)
    async with env.db.read() as conn:
        assert await queries.tempvoice.list_bans(conn, owner_id=owner) == []


# -- the lane went away meanwhile ------------------------------------------------------------------


def _vanishing(owner_env: OwnerEnv, lane: int) -> None:
    """The lane's row is found by the owner check, gone once the action holds the lane's lock
    (the last member left in between and the lane was deleted)."""
    lanes = owner_env.env.service.lanes
    real = lanes.get
    calls = 0

    async def get(channel_id: int) -> Lane | None:
        nonlocal calls
        calls += 1
        return await real(channel_id) if calls == 1 or channel_id != lane else None

    lanes.get = get  # type: ignore[method-assign]


@pytest.mark.parametrize("action", ["rename", "transfer", "lock", "permit"])
async def test_a_lane_deleted_meanwhile_is_no_lane(owner_env: OwnerEnv, action: str) -> None:
    env = owner_env.env
    owner, guest = env.world.add_member(GUILD), env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    await env.move(guest, lane)
    _vanishing(owner_env, lane)
    calls = {
        "rename": lambda: owner_env.owner.rename(GUILD, owner, lane, "Neu"),
        "transfer": lambda: owner_env.owner.transfer(GUILD, owner, lane, guest),
        "lock": lambda: owner_env.access.set_locked(GUILD, owner, lane, True),
        "permit": lambda: owner_env.access.permit(GUILD, owner, lane, PermitKind.ROLE, env.rank_roles[3]),
    }
    assert await refused(calls[action]()) == T.NOT_A_LANE


async def test_save_preset_of_a_channel_discord_no_longer_has(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    lane = await owner_env.new_lane(owner)
    del env.world.channels[lane]  # deleted on Discord; the gateway's delete not seen yet
    assert await refused(owner_env.owner.save_preset(GUILD, owner, lane)) == T.NOT_A_LANE
    await owner_env.access.apply(cast(Lane, await env.service.lanes.get(lane)))  # nothing to write to: no error


async def test_preset_limit_refused_by_discord_leaves_the_rest(
    owner_env: OwnerEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    async with env.db.transaction() as conn:
        await queries.tempvoice.save_preset(
            conn, owner_id=owner, name=None, user_limit=4, locked=1, hidden=0, min_rank=0, saved_at=1
        )
    env.world.inject("edit_channel", Forbidden("Missing Permissions"))
    lane = await owner_env.new_lane(owner)
    assert "the preset's limit on lane" in caplog.text
    assert env.world.channels[lane].user_limit != 4
    assert owner_env.everyone_bits(lane) == (False, None) and owner_env.member_bits(lane, owner) == (True, None)


# -- min rank and permits ------------------------------------------------------------------------------


async def test_a_trusted_member_who_left_gets_no_allow_on_a_min_rank_lane(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[8],))
    friend = env.world.add_member(GUILD, roles=(env.rank_roles[8],))
    lane = await owner_env.new_lane(owner, ranked=True)
    assert await owner_env.access.trust(GUILD, owner, lane, friend)
    assert await env.service.panel.set_min_rank(GUILD, owner, lane, 5)
    del env.world.member_info[(GUILD, friend)]  # left the server
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    assert owner_env.member_bits(lane, friend) == (None, None) and owner_env.member_bits(lane, owner) == (True, None)


def test_the_view_bit_read_from_discord_py_has_its_current_name() -> None:
    """discord.py lists the view bit as "read_messages"; the composer asks for "view_channel"
    (read under the old name, unhiding a lane wrote the deny back)."""
    ow = discord.PermissionOverwrite(view_channel=False, connect=True)
    assert to_overwrite(ow) == Overwrite(frozenset({"connect"}), frozenset({"view_channel"}))
    assert to_overwrite(ow).bit("view_channel") is False and from_overwrite(to_overwrite(ow)) == ow


async def test_role_permits_respect_min_rank_and_the_rank_window(owner_env: OwnerEnv) -> None:
    """Permitting a rank role lets every member with it in: not below the lane's min rank, not
    outside the rank window, and never @everyone (that is Entsperren)."""
    env = owner_env.env
    owner = env.world.add_member(GUILD, roles=(env.rank_roles[7],))
    lane = await owner_env.new_lane(owner, ranked=True)
    assert await env.service.panel.set_min_rank(GUILD, owner, lane, 6)
    assert await owner_env.access.set_locked(GUILD, owner, lane, True)
    async with env.db.transaction() as conn:
        await queries.rank_voice.upsert_anchor(
            conn, channel_id=lane, guild_id=GUILD, user_id=owner, rank_name="Archon", rank_value=7, anchor_subrank=0,
            allowed_min=6, allowed_max=8, score_min=0, score_max=0, updated_at="t",
        )  # fmt: skip
    role = PermitKind.ROLE
    permit = owner_env.access.permit
    friends = env.world.add_role(GUILD, "Freunde")  # no rank: the owner's choice
    assert await refused(permit(GUILD, owner, lane, role, GUILD)) == L.PERMIT_EVERYONE
    assert await refused(permit(GUILD, owner, lane, role, env.rank_roles[3])) == L.PERMIT_BELOW_MINRANK.format(
        member="Alchemist", rank="Emissary"
    )
    assert await refused(permit(GUILD, owner, lane, role, env.rank_roles[11])) == L.PERMIT_OUTSIDE_WINDOW.format(
        member="Eternus", low="Emissary", high="Oracle"
    )
    assert await permit(GUILD, owner, lane, role, env.rank_roles[7]) == L.PERMITTED_ROLE.format(role="Archon")
    assert await permit(GUILD, owner, lane, role, friends)
    assert owner_env.bits(lane, TargetKind.ROLE, env.rank_roles[3])[0] is None
    assert owner_env.bits(lane, TargetKind.ROLE, env.rank_roles[11])[0] is None
    assert (
        owner_env.bits(lane, TargetKind.ROLE, env.rank_roles[7])[0] is True
        and owner_env.everyone_bits(lane)[0] is False
    )
    async with env.db.read() as conn:
        permits = await queries.tempvoice.list_lane_permits(conn, channel_id=lane)
    assert {p.target_id for p in permits if p.target_kind == "role"} == {env.rank_roles[7], friends}


async def test_a_preset_name_blocked_since_it_was_saved_is_not_applied(owner_env: OwnerEnv) -> None:
    env = owner_env.env
    owner = env.world.add_member(GUILD)
    async with env.db.transaction() as conn:
        await queries.tempvoice.save_preset(
            conn, owner_id=owner, name="Idiot-Runde", user_limit=3, locked=0, hidden=0, min_rank=0, saved_at=1
        )
    lane = await owner_env.new_lane(owner)  # "idiot" is on the blocklist now
    await env.renamer.run_due()
    assert env.world.channels[lane].name == "Lane 1" and env.world.channels[lane].user_limit == 3


async def test_the_offered_selects_are_also_persistent_views(owner_env: OwnerEnv) -> None:
    """The selects carry fixed custom_ids and are registered once without a message: a choice
    made after the offer's view timed out (or after a restart) is still answered."""
    views = owner_picks(owner_env.access, owner_env.owner)
    assert all(v.is_persistent() and v.timeout is None for v in views)
    ids = [str(getattr(item, "custom_id", "")) for v in views for item in v.children]
    assert sorted(ids) == sorted(PICK_CUSTOM_IDS) and all(i.startswith("tv_") for i in PICK_CUSTOM_IDS)
    assert not set(PICK_CUSTOM_IDS) & (set(OWNER_CUSTOM_IDS) | set(CUSTOM_IDS))

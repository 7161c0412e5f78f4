"""The TempVoice test guild (tests/tempvoice_env.py) with the owner actions wired in."""

from __future__ import annotations

import dataclasses

from bot.discord_glue.ports import Overwrite, Target, TargetKind
from bot.features.tempvoice.access_service import LaneAccessService, OwnerActionsConfig
from bot.features.tempvoice.owner_service import LaneOwnerService
from tests.fakes.discord_world import BOT_USER_ID
from tests.tempvoice_env import GUILD, Env

BOT_ID = BOT_USER_ID  # the composer allows the bot itself on every lane that denies @everyone


@dataclasses.dataclass
class OwnerEnv:
    env: Env
    access: LaneAccessService
    owner: LaneOwnerService
    moderator_role: int

    def bits(self, lane: int, kind: TargetKind, target_id: int) -> tuple[bool | None, bool | None]:
        """(connect, view_channel) of one target's overwrite on the lane."""
        ow = self.env.world.channels[lane].overwrites.get(Target(kind, target_id), Overwrite())
        return ow.bit("connect"), ow.bit("view_channel")

    def member_bits(self, lane: int, member: int) -> tuple[bool | None, bool | None]:
        return self.bits(lane, TargetKind.MEMBER, member)

    def everyone_bits(self, lane: int) -> tuple[bool | None, bool | None]:
        return self.bits(lane, TargetKind.ROLE, GUILD)

    async def new_lane(self, owner: int, *, ranked: bool = False) -> int:
        await self.env.move(owner, self.env.ranked_staging if ranked else self.env.staging)
        lane = self.env.lane_of(owner)
        assert lane is not None
        return lane

    def restart(self, env: Env) -> OwnerEnv:
        """New services on the same database and world (as after a restart)."""
        return with_owner_actions(env, blocklist=self.access.config.name_blocklist, moderator_role=self.moderator_role)


def with_owner_actions(
    env: Env, *, blocklist: frozenset[str] = frozenset({"idiot", "spast"}), moderator_role: int | None = None
) -> OwnerEnv:
    mod_role = moderator_role if moderator_role is not None else env.world.add_role(GUILD, "Moderator")
    config = OwnerActionsConfig(name_blocklist=blocklist, moderator_role_ids=frozenset({mod_role}))
    access = LaneAccessService(env.service, config)
    owner = LaneOwnerService(env.service, access)
    return OwnerEnv(env, access, owner, mod_role)

"""Who may see and join a locked or hidden lane: TempVoice's wishes to the overwrite composer (pure).

A lane is *locked* (nobody new may connect) and/or *hidden* (nobody else sees it). The
exceptions get an explicit allow: the owner, the members and roles the owner permitted (the
members inside when it was locked or hidden are permitted then), the owner's trusted list and
the moderator roles. The bot itself is allowed by the composer whenever @everyone is denied.

A lock is a *gate* that admits no role (bot/shared/overwrites.py): @everyone is denied
connect, and the rank roles other gates admit (min rank, a rank-voice window) lose their
allow while it is on (gates combine: a role needs every gate). So a lock, a min rank and a
rank window never erase each other, and the lock really holds for every rank. Bans stay
stronger than any allow (a deny wins; a banned member is not even given the view allow).
A member below the lane's min rank gets no allow either (the caller leaves them out).
"""

from __future__ import annotations

import dataclasses
import enum

from bot.discord_glue.ports import Target, TargetKind
from bot.shared.overwrites import CONNECT, VIEW, Key

#: TempVoice's names in the overwrite composer
ACCESS_WISH = "tempvoice.access"
LOCK_GATE = "tempvoice.lock"


class PermitKind(enum.Enum):
    MEMBER = "member"
    ROLE = "role"


@dataclasses.dataclass(frozen=True)
class AccessState:
    locked: bool = False
    hidden: bool = False

    @property
    def restricted(self) -> bool:
        return self.locked or self.hidden


@dataclasses.dataclass(frozen=True)
class AccessInputs:
    everyone_id: int
    owner_id: int
    moderator_role_ids: frozenset[int]
    trusted: frozenset[int]  # the owner's trusted list, already without members below the min rank
    permitted_members: frozenset[int]
    permitted_roles: frozenset[int]
    banned: frozenset[int]


@dataclasses.dataclass(frozen=True)
class AccessPlan:
    wishes: dict[Key, bool]  # TempVoice's explicit allows and denies (everything else: no wish)
    gate: frozenset[int] | None  # the lock's gate: admits no role; None when unlocked


def exceptions(inputs: AccessInputs) -> set[Target]:
    """The targets that keep access to a locked or hidden lane."""
    members = {inputs.owner_id, *inputs.trusted, *inputs.permitted_members} - inputs.banned
    roles = inputs.moderator_role_ids | inputs.permitted_roles
    return {Target(TargetKind.MEMBER, m) for m in members} | {Target(TargetKind.ROLE, r) for r in roles}


def plan(state: AccessState, inputs: AccessInputs) -> AccessPlan:
    wishes: dict[Key, bool] = {}
    keep = exceptions(inputs) if state.restricted else set()
    if state.hidden:
        wishes[(Target(TargetKind.ROLE, inputs.everyone_id), VIEW)] = False
    for target in keep:
        if state.locked:
            wishes[(target, CONNECT)] = True
        if state.hidden:
            wishes[(target, VIEW)] = True
    return AccessPlan(wishes, frozenset() if state.locked else None)

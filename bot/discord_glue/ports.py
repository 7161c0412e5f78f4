"""What the services need from Discord, as two small ports: side effects and reads.

The discord.py adapter (bot/adapters/discord_port.py) implements them for the live bot;
tests use an in-memory fake Discord (tests/fakes/discord_world.py). Services never import
discord.py.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Protocol


class PortError(Exception):
    """Base class of the errors the ports raise (mapped from discord.py by the adapter)."""


class NotFound(PortError):
    """The channel, member or message does not exist (any more)."""


class Forbidden(PortError):
    """The bot lacks the permission."""


class RateLimited(PortError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class LimitReached(PortError):
    """A Discord limit: 50 channels per category, 500 per guild."""


class TargetKind(enum.Enum):
    ROLE = "role"
    MEMBER = "member"


@dataclasses.dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int


@dataclasses.dataclass(frozen=True)
class Overwrite:
    """Explicit allow/deny bits of one permission overwrite (names as in discord.py: 'connect', ...)."""

    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    def with_bit(self, bit: str, value: bool | None) -> Overwrite:
        """This overwrite with one bit allowed (True), denied (False) or inherited (None); the rest kept."""
        allow, deny = set(self.allow) - {bit}, set(self.deny) - {bit}
        if value is True:
            allow.add(bit)
        elif value is False:
            deny.add(bit)
        return Overwrite(frozenset(allow), frozenset(deny))

    def bit(self, bit: str) -> bool | None:
        return True if bit in self.allow else False if bit in self.deny else None

    @property
    def is_empty(self) -> bool:
        return not self.allow and not self.deny


@dataclasses.dataclass(frozen=True)
class ChannelInfo:
    id: int
    guild_id: int
    name: str
    category_id: int | None
    user_limit: int
    overwrites: dict[Target, Overwrite]


@dataclasses.dataclass(frozen=True)
class MemberInfo:
    id: int
    guild_id: int
    display_name: str
    names: tuple[str, ...]  # username, global name, nick: for resolving typed names
    role_ids: tuple[int, ...]
    is_bot: bool = False
    manage_channels: bool = False
    administrator: bool = False
    manage_guild: bool = False


@dataclasses.dataclass(frozen=True)
class RoleInfo:
    id: int
    name: str


@dataclasses.dataclass(frozen=True)
class VoiceMove:
    """A member's voice channel changed (toggles like mute are not moves)."""

    guild_id: int
    member_id: int
    before: int | None
    after: int | None


class DiscordActions(Protocol):
    async def create_voice_channel(
        self,
        guild_id: int,
        *,
        category_id: int | None,
        name: str,
        user_limit: int,
        bitrate: int,
        overwrites: dict[Target, Overwrite],
        reason: str,
    ) -> int: ...

    async def edit_channel(
        self, channel_id: int, *, name: str | None = None, user_limit: int | None = None, reason: str
    ) -> None: ...

    async def delete_channel(self, channel_id: int, *, reason: str) -> None: ...

    async def move_member(self, guild_id: int, member_id: int, channel_id: int | None, *, reason: str) -> None: ...

    async def set_overwrite(self, channel_id: int, target: Target, overwrite: Overwrite | None, *, reason: str) -> None:
        """Replace the target's overwrite (None removes it). Services merge bits themselves."""
        ...

    async def fetch_voice_channel(self, guild_id: int, member_id: int) -> int | None:
        """The member's voice channel as Discord has it now (an HTTP fetch, not the cache)."""
        ...

    async def send_panel(self, channel_id: int, *, lane_id: int | None, owner_id: int | None) -> int:
        """Post the TempVoice panel; returns the message id."""
        ...

    async def edit_panel(
        self, channel_id: int, message_id: int, *, lane_id: int | None, owner_id: int | None
    ) -> None: ...

    async def delete_message(self, channel_id: int, message_id: int) -> None: ...

    async def notify_member(self, guild_id: int, member_id: int, text: str) -> None:
        """Tell a member something outside an interaction (a direct message); failures are swallowed."""
        ...


class GuildView(Protocol):
    def channel(self, channel_id: int) -> ChannelInfo | None: ...

    def voice_members(self, channel_id: int) -> list[int]:
        """Members in a voice channel, bots included."""
        ...

    def voice_channel_of(self, guild_id: int, member_id: int) -> int | None: ...

    def member(self, guild_id: int, member_id: int) -> MemberInfo | None: ...

    def members(self, guild_id: int) -> list[MemberInfo]: ...

    def roles(self, guild_id: int) -> list[RoleInfo]: ...

    def channels_in_category(self, category_id: int) -> int: ...

    def voice_channels_in(self, category_id: int) -> list[int]: ...

    def channels_in_guild(self, guild_id: int) -> int: ...

    def everyone_role_id(self, guild_id: int) -> int: ...

    def own_member_id(self, guild_id: int) -> int:
        """The bot's own member id (its user id) in the guild."""
        ...

    def bitrate_limit(self, guild_id: int) -> int: ...

    def category_overwrites(self, category_id: int) -> dict[Target, Overwrite]: ...

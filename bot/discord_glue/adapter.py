"""The ports (bot/ports.py) on top of discord.py: the only place services' Discord calls happen.

discord.py's exceptions are mapped to the ports' (NotFound, Forbidden, RateLimited,
LimitReached); reads come from discord.py's cache.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord

from bot.discord_glue.ports import (
    ChannelInfo,
    Forbidden,
    LimitReached,
    MemberInfo,
    NotFound,
    Overwrite,
    PortError,
    RateLimited,
    RoleInfo,
    Target,
    TargetKind,
)

log = logging.getLogger(__name__)

#: Discord's JSON error code for "maximum number of guild channels reached (500)" and for a full category.
_MAX_CHANNELS = 30013
_CATEGORY_FULL = 50035  # invalid form body: "Maximum number of channels in category reached (50)"

PanelFactory = Callable[[int | None, int | None, str | None], tuple[discord.Embed, discord.ui.View]]


@contextlib.asynccontextmanager
async def mapped_errors() -> AsyncIterator[None]:
    try:
        yield
    except discord.NotFound as e:
        raise NotFound(str(e)) from e
    except discord.Forbidden as e:
        raise Forbidden(str(e)) from e
    except discord.RateLimited as e:
        raise RateLimited(e.retry_after) from e
    except discord.HTTPException as e:
        if e.code == _MAX_CHANNELS or (e.code == _CATEGORY_FULL and "maximum number" in str(e).lower()):
            raise LimitReached(str(e)) from e
        raise PortError(str(e)) from e


#: discord.py names some bits by an older name when it lists them ("read_messages" for the
#: view bit); the ports use the current names, as the composer and every feature do.
_CURRENT_NAMES = {"read_messages": "view_channel"}


def to_overwrite(ow: discord.PermissionOverwrite) -> Overwrite:
    allow, deny = ow.pair()

    def names(perms: discord.Permissions) -> frozenset[str]:
        return frozenset(_CURRENT_NAMES.get(name, name) for name, value in perms if value)

    return Overwrite(names(allow), names(deny))


def from_overwrite(ow: Overwrite) -> discord.PermissionOverwrite:
    bits: dict[str, bool | None] = {name: True for name in ow.allow}
    bits.update({name: False for name in ow.deny})
    return discord.PermissionOverwrite(**bits)


def _target_of(key: Any) -> Target:
    if isinstance(key, discord.Role):
        return Target(TargetKind.ROLE, key.id)
    if isinstance(key, discord.Object) and key.type is discord.Role:
        return Target(TargetKind.ROLE, key.id)
    return Target(TargetKind.MEMBER, key.id)


def overwrites_of(channel: discord.abc.GuildChannel) -> dict[Target, Overwrite]:
    return {_target_of(k): to_overwrite(v) for k, v in channel.overwrites.items()}


class DiscordPort:
    """DiscordActions and GuildView for a running bot."""

    def __init__(self, client: discord.Client, panel_factory: PanelFactory | None = None) -> None:
        self.client = client
        #: set by the TempVoice cog, which owns the persistent panel view
        self.panel_factory = panel_factory

    def _panel(
        self, lane_id: int | None, owner_id: int | None, lane_name: str | None
    ) -> tuple[discord.Embed, discord.ui.View]:
        if self.panel_factory is None:
            raise PortError("no panel view registered (the TempVoice cog is not loaded)")
        return self.panel_factory(lane_id, owner_id, lane_name)

    # -- reads ---------------------------------------------------------------------------

    def _guild(self, guild_id: int) -> discord.Guild | None:
        return self.client.get_guild(guild_id)

    def _guild_channel(self, channel_id: int) -> discord.abc.GuildChannel | None:
        channel = self.client.get_channel(channel_id)
        return channel if isinstance(channel, discord.abc.GuildChannel) else None

    def channel(self, channel_id: int) -> ChannelInfo | None:
        ch = self._guild_channel(channel_id)
        if ch is None:
            return None
        limit = ch.user_limit if isinstance(ch, discord.VoiceChannel) else 0
        return ChannelInfo(ch.id, ch.guild.id, ch.name, ch.category_id, limit, overwrites_of(ch))

    def voice_members(self, channel_id: int) -> list[int]:
        ch = self._guild_channel(channel_id)
        if isinstance(ch, (discord.VoiceChannel, discord.StageChannel)):
            return [m.id for m in ch.members]
        return []

    def voice_channel_of(self, guild_id: int, member_id: int) -> int | None:
        guild = self._guild(guild_id)
        member = guild.get_member(member_id) if guild else None
        if member is None or member.voice is None or member.voice.channel is None:
            return None
        return member.voice.channel.id

    @staticmethod
    def _member_info(m: discord.Member) -> MemberInfo:
        names = tuple(n for n in (m.name, m.global_name, m.nick, m.display_name) if n)
        perms = m.guild_permissions
        return MemberInfo(
            m.id, m.guild.id, m.display_name, names, tuple(r.id for r in m.roles), m.bot,
            perms.manage_channels, perms.administrator, perms.manage_guild,
        )  # fmt: skip

    def member(self, guild_id: int, member_id: int) -> MemberInfo | None:
        guild = self._guild(guild_id)
        member = guild.get_member(member_id) if guild else None
        return self._member_info(member) if member else None

    def members(self, guild_id: int) -> list[MemberInfo]:
        guild = self._guild(guild_id)
        return [self._member_info(m) for m in guild.members] if guild else []

    def roles(self, guild_id: int) -> list[RoleInfo]:
        guild = self._guild(guild_id)
        return [RoleInfo(r.id, r.name) for r in guild.roles] if guild else []

    def channels_in_category(self, category_id: int) -> int:
        category = self.client.get_channel(category_id)
        return len(category.channels) if isinstance(category, discord.CategoryChannel) else 0

    def voice_channels_in(self, category_id: int) -> list[int]:
        category = self.client.get_channel(category_id)
        return [c.id for c in category.voice_channels] if isinstance(category, discord.CategoryChannel) else []

    def channels_in_guild(self, guild_id: int) -> int:
        guild = self._guild(guild_id)
        return len(guild.channels) if guild else 0

    def everyone_role_id(self, guild_id: int) -> int:
        return guild_id  # @everyone's id is the guild's id

    def own_member_id(self, guild_id: int) -> int:
        user = self.client.user
        if user is None:
            raise PortError("not logged in yet")
        return user.id

    def bitrate_limit(self, guild_id: int) -> int:
        guild = self._guild(guild_id)
        return int(guild.bitrate_limit) if guild else 96_000

    def category_overwrites(self, category_id: int) -> dict[Target, Overwrite]:
        category = self.client.get_channel(category_id)
        return overwrites_of(category) if isinstance(category, discord.CategoryChannel) else {}

    # -- side effects --------------------------------------------------------------------

    def _require_guild(self, guild_id: int) -> discord.Guild:
        guild = self._guild(guild_id)
        if guild is None:
            raise NotFound(f"guild {guild_id}")
        return guild

    def _require_channel(self, channel_id: int) -> discord.abc.GuildChannel:
        ch = self._guild_channel(channel_id)
        if ch is None:
            raise NotFound(f"channel {channel_id}")
        return ch

    def _resolve(self, guild: discord.Guild, target: Target) -> discord.Role | discord.Member | discord.Object:
        if target.kind is TargetKind.ROLE:
            return guild.get_role(target.id) or discord.Object(target.id, type=discord.Role)
        return guild.get_member(target.id) or discord.Object(target.id, type=discord.Member)

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
    ) -> int:
        guild = self._require_guild(guild_id)
        category = guild.get_channel(category_id) if category_id else None
        mapped = {self._resolve(guild, t): from_overwrite(o) for t, o in overwrites.items()}
        async with mapped_errors():
            channel = await guild.create_voice_channel(
                name,
                category=category if isinstance(category, discord.CategoryChannel) else None,
                user_limit=user_limit,
                bitrate=bitrate,
                overwrites=mapped,
                reason=reason,
            )
        return channel.id

    async def edit_channel(
        self, channel_id: int, *, name: str | None = None, user_limit: int | None = None, reason: str
    ) -> None:
        channel = self._require_channel(channel_id)
        if not isinstance(channel, discord.VoiceChannel):
            raise PortError(f"channel {channel_id} is not a voice channel")
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if user_limit is not None:
            changes["user_limit"] = user_limit
        async with mapped_errors():
            await channel.edit(reason=reason, **changes)

    async def delete_channel(self, channel_id: int, *, reason: str) -> None:
        channel = self._require_channel(channel_id)
        async with mapped_errors():
            await channel.delete(reason=reason)

    async def move_member(self, guild_id: int, member_id: int, channel_id: int | None, *, reason: str) -> None:
        guild = self._require_guild(guild_id)
        member = guild.get_member(member_id)
        if member is None:
            raise NotFound(f"member {member_id}")
        target = guild.get_channel(channel_id) if channel_id else None
        if channel_id and not isinstance(target, discord.VoiceChannel):
            raise NotFound(f"voice channel {channel_id}")
        async with mapped_errors():
            await member.move_to(target if isinstance(target, discord.VoiceChannel) else None, reason=reason)

    async def _permission_target(self, guild: discord.Guild, target: Target) -> discord.Role | discord.Member:
        if target.kind is TargetKind.ROLE:
            role = guild.get_role(target.id)
            if role is None:
                raise NotFound(f"role {target.id}")
            return role
        member = guild.get_member(target.id)
        if member is None:  # not cached (chunking may be incomplete): ask Discord
            async with mapped_errors():
                member = await guild.fetch_member(target.id)
        return member

    async def set_overwrite(self, channel_id: int, target: Target, overwrite: Overwrite | None, *, reason: str) -> None:
        channel = self._require_channel(channel_id)
        resolved = await self._permission_target(channel.guild, target)
        async with mapped_errors():
            await channel.set_permissions(
                resolved,
                overwrite=from_overwrite(overwrite) if overwrite else None,
                reason=reason,
            )

    def _messageable(self, channel_id: int) -> discord.VoiceChannel | discord.TextChannel:
        channel = self._require_channel(channel_id)
        if not isinstance(channel, (discord.VoiceChannel, discord.TextChannel)):
            raise PortError(f"cannot post into channel {channel_id}")
        return channel

    async def fetch_voice_channel(self, guild_id: int, member_id: int) -> int | None:
        try:
            async with mapped_errors():
                data = await self.client.http.get_voice_state(guild_id, member_id)
        except NotFound:
            return None  # not in voice
        channel_id = data.get("channel_id")
        return int(channel_id) if channel_id else None

    async def send_panel(self, channel_id: int, *, lane_id: int | None, owner_id: int | None) -> int:
        channel = self._messageable(channel_id)
        embed, view = self._panel(lane_id, owner_id, channel.name if lane_id else None)
        async with mapped_errors():
            message = await channel.send(embed=embed, view=view)
        return message.id

    async def edit_panel(self, channel_id: int, message_id: int, *, lane_id: int | None, owner_id: int | None) -> None:
        channel = self._messageable(channel_id)
        embed, view = self._panel(lane_id, owner_id, channel.name if lane_id else None)
        async with mapped_errors():
            await channel.get_partial_message(message_id).edit(embed=embed, view=view)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        channel = self._messageable(channel_id)
        async with mapped_errors():
            await channel.get_partial_message(message_id).delete()

    async def notify_member(self, guild_id: int, member_id: int, text: str) -> None:
        guild = self._guild(guild_id)
        member = guild.get_member(member_id) if guild else None
        if member is None:
            return
        try:
            await member.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as e:  # DMs closed: nothing else to do
            log.info("could not tell member %s (%s): %s", member_id, text, e)

"""An in-memory Discord for tests of every feature: implements DiscordActions and GuildView.

* every call waits a small random latency (seeded), so coroutines interleave as over HTTP;
* Discord's limits are enforced: 50 channels per category, 500 per guild, names of 1..100
  characters, user_limit 0..99, 2 renames per channel per 10 minutes (on the test clock);
* the bot's own moves send a voice event to the registered listener, as the gateway does,
  and only that event updates the cache (`voice_channel_of`, `voice_members`); Discord does
  not order events with HTTP responses, so `event_delivery` decides when it comes:
  "before" the HTTP response returns, "after" it (`event_lag` seconds later), or "never";
  `voice` is Discord's own truth, `fetch_voice_channel` reads it;
* errors can be injected per call name (Forbidden, NotFound, ...) and channels deleted by
  "someone else";
* every call is recorded in `calls`.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Literal

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
    VoiceMove,
)
from bot.shared.clock import ManualClock

CATEGORY_LIMIT = 50
GUILD_LIMIT = 500
RENAMES_PER_WINDOW = 2
RENAME_WINDOW = 600
BOT_USER_ID = 999_000_000_000_000_001
READS = frozenset({"fetch_voice_channel"})
EventDelivery = Literal["before", "after", "never"]
EVENT_DELIVERIES: tuple[EventDelivery, ...] = ("before", "after", "never")


@dataclasses.dataclass
class FakeChannel:
    id: int
    guild_id: int
    name: str
    kind: str  # "voice", "text", "category"
    category_id: int | None = None
    user_limit: int = 0
    bitrate: int = 64000
    overwrites: dict[Target, Overwrite] = dataclasses.field(default_factory=dict)
    created_by_bot: bool = False


@dataclasses.dataclass
class FakeMessage:
    channel_id: int
    message_id: int
    lane_id: int | None
    owner_id: int | None


class FakeDiscord:
    def __init__(
        self,
        clock: ManualClock | None = None,
        *,
        seed: int = 0,
        latency: tuple[float, float] = (0, 0.003),
        event_delivery: EventDelivery = "before",
        event_lag: float = 0.005,
    ):
        self.clock = clock or ManualClock()
        self.rng = random.Random(seed)
        self.latency = latency
        self.channels: dict[int, FakeChannel] = {}
        self.member_info: dict[tuple[int, int], MemberInfo] = {}
        self.roles_by_guild: dict[int, list[RoleInfo]] = collections.defaultdict(list)
        self.voice: dict[tuple[int, int], int] = {}  # Discord's truth
        self.cached_voice: dict[tuple[int, int], int] = {}  # what the bot saw in voice events
        self.event_delivery: EventDelivery = event_delivery
        self.event_lag = event_lag
        self._user_moved: dict[tuple[int, int], int] = {}  # member -> how many moves of their own
        self.messages: dict[int, FakeMessage] = {}
        self.dms: list[tuple[int, int, str]] = []
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.renames: dict[int, list[int]] = collections.defaultdict(list)
        self.listener: Callable[[VoiceMove], Awaitable[None]] | None = None
        self.channel_delete_listener: Callable[[int], Awaitable[None]] | None = None
        self._ids = itertools.count(10_000)
        self._injected: dict[str, list[Exception]] = collections.defaultdict(list)
        self._echoes: set[asyncio.Future[None]] = set()
        #: called after a call's latency, before it takes effect: lets a test move people "meanwhile"
        self.hooks: dict[str, Callable[[], Awaitable[None]]] = {}
        self.echo_errors: list[BaseException] = []

    # -- building the world -------------------------------------------------------------

    def new_id(self) -> int:
        return next(self._ids)

    def add_guild(self, guild_id: int) -> None:
        self.roles_by_guild[guild_id].append(RoleInfo(guild_id, "@everyone"))

    def add_category(
        self, guild_id: int, name: str = "Lanes", overwrites: dict[Target, Overwrite] | None = None
    ) -> int:
        cid = self.new_id()
        self.channels[cid] = FakeChannel(cid, guild_id, name, "category", overwrites=dict(overwrites or {}))
        return cid

    def add_voice(self, guild_id: int, name: str, category_id: int | None = None) -> int:
        cid = self.new_id()
        self.channels[cid] = FakeChannel(cid, guild_id, name, "voice", category_id)
        return cid

    def add_text(self, guild_id: int, name: str = "panel") -> int:
        cid = self.new_id()
        self.channels[cid] = FakeChannel(cid, guild_id, name, "text")
        return cid

    def add_role(self, guild_id: int, name: str) -> int:
        rid = self.new_id()
        self.roles_by_guild[guild_id].append(RoleInfo(rid, name))
        return rid

    def add_member(
        self,
        guild_id: int,
        member_id: int | None = None,
        *,
        name: str | None = None,
        roles: tuple[int, ...] = (),
        bot: bool = False,
        manage_channels: bool = False,
        administrator: bool = False,
        manage_guild: bool = False,
    ) -> int:
        mid = member_id if member_id is not None else self.new_id()
        display = name or f"user{mid}"
        self.member_info[(guild_id, mid)] = MemberInfo(
            mid, guild_id, display, (display, display.lower()), roles, bot, manage_channels, administrator, manage_guild
        )
        return mid

    def inject(self, call: str, error: Exception) -> None:
        """The next `call` raises `error`."""
        self._injected[call].append(error)

    # -- what users and moderators do -------------------------------------------------

    def user_moves(self, guild_id: int, member_id: int, channel_id: int | None) -> VoiceMove:
        """A member joins, switches or leaves voice by themselves; returns the event Discord sends."""
        before = self.voice.get((guild_id, member_id))
        move = VoiceMove(guild_id, member_id, before, channel_id)
        self._set_voice(self.voice, move)
        self._set_voice(self.cached_voice, move)  # the event of a member's own move: the caller delivers it
        self._user_moved[(guild_id, member_id)] = self._user_moved.get((guild_id, member_id), 0) + 1
        return move

    @staticmethod
    def _set_voice(where: dict[tuple[int, int], int], move: VoiceMove) -> None:
        if move.after is None:
            where.pop((move.guild_id, move.member_id), None)
        else:
            where[(move.guild_id, move.member_id)] = move.after

    async def delete_externally(self, channel_id: int) -> None:
        """A moderator deletes a channel by hand."""
        channel = self.channels.pop(channel_id)
        for voice in (self.voice, self.cached_voice):
            for key in [k for k, v in voice.items() if v == channel_id]:
                del voice[key]
        if self.channel_delete_listener is not None:
            await self.channel_delete_listener(channel.id)

    async def settle(self) -> None:
        """Wait until every echoed gateway event has been handled."""
        while self._echoes:
            await asyncio.gather(*list(self._echoes), return_exceptions=True)

    # -- helpers -------------------------------------------------------------------------

    async def _call(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        low, high = self.latency
        if high > 0:
            await asyncio.sleep(self.rng.uniform(low, high))
        hook = self.hooks.pop(name, None)
        if hook is not None:
            await hook()
        if self._injected[name]:
            raise self._injected[name].pop(0)

    @property
    def changes(self) -> list[tuple[str, tuple[object, ...]]]:
        """The calls that change something (every call but the reads)."""
        return [c for c in self.calls if c[0] not in READS]

    def count(self, name: str) -> int:
        return sum(1 for c, _ in self.calls if c == name)

    def _voice_channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise NotFound(f"channel {channel_id}")
        return channel

    async def _deliver(self, move: VoiceMove) -> None:
        """The gateway event of a move the bot made, delivered as `event_delivery` says."""
        self._set_voice(self.voice, move)
        if self.event_delivery == "before":
            self._set_voice(self.cached_voice, move)
            self._echo(move)
            await asyncio.sleep(0)  # the handler starts before the HTTP response is processed
        elif self.event_delivery == "after":
            seen = self._user_moved.get((move.guild_id, move.member_id), 0)
            self._track(asyncio.ensure_future(self._lagging(move, seen)))

    async def _lagging(self, move: VoiceMove, seen: int) -> None:
        await asyncio.sleep(self.event_lag)
        if self._user_moved.get((move.guild_id, move.member_id), 0) != seen:
            return  # the member moved by themselves since: the gateway sent this event before that one
        self._set_voice(self.cached_voice, move)
        if self.listener is not None:
            await self.listener(move)

    def truth_channel_of(self, guild_id: int, member_id: int) -> int | None:
        """Where the member really is (whatever events the bot has seen)."""
        return self.voice.get((guild_id, member_id))

    def truth_members(self, channel_id: int) -> list[int]:
        """Who is really in the voice channel (whatever events the bot has seen)."""
        return sorted(m for (_, m), c in self.voice.items() if c == channel_id)

    def _echo(self, move: VoiceMove) -> None:
        if self.listener is not None:
            self._track(asyncio.ensure_future(self.listener(move)))

    def _track(self, task: asyncio.Future[None]) -> None:
        self._echoes.add(task)

        def done(t: asyncio.Future[None]) -> None:
            self._echoes.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.echo_errors.append(t.exception())  # type: ignore[arg-type]

        task.add_done_callback(done)

    # -- DiscordActions ------------------------------------------------------------------

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
        await self._call("create_voice_channel", guild_id, category_id, name)
        if not 1 <= len(name) <= 100 or not 0 <= user_limit <= 99:
            raise PortError(f"invalid channel: name {name!r}, user_limit {user_limit}")
        if category_id is not None and self.channels_in_category(category_id) >= CATEGORY_LIMIT:
            raise LimitReached(f"category {category_id} is full")
        if self.channels_in_guild(guild_id) >= GUILD_LIMIT:
            raise LimitReached(f"guild {guild_id} is full")
        cid = self.new_id()
        self.channels[cid] = FakeChannel(
            cid, guild_id, name, "voice", category_id, user_limit, bitrate, dict(overwrites), created_by_bot=True
        )
        return cid

    async def edit_channel(
        self, channel_id: int, *, name: str | None = None, user_limit: int | None = None, reason: str
    ) -> None:
        await self._call("edit_channel", channel_id, name, user_limit)
        channel = self._voice_channel(channel_id)
        if name is not None and name != channel.name:
            if not 1 <= len(name) <= 100:
                raise PortError(f"invalid name {name!r}")
            now = self.clock.now()
            recent = [t for t in self.renames[channel_id] if t > now - RENAME_WINDOW]
            if len(recent) >= RENAMES_PER_WINDOW:
                raise RateLimited(recent[0] + RENAME_WINDOW - now)
            self.renames[channel_id].append(now)
            channel.name = name
        if user_limit is not None:
            if not 0 <= user_limit <= 99:
                raise PortError(f"invalid user_limit {user_limit}")
            channel.user_limit = user_limit

    async def delete_channel(self, channel_id: int, *, reason: str) -> None:
        await self._call("delete_channel", channel_id)
        self._voice_channel(channel_id)
        del self.channels[channel_id]
        for key in [k for k, v in self.voice.items() if v == channel_id]:
            await self._deliver(VoiceMove(key[0], key[1], channel_id, None))
        for key in [k for k, v in self.cached_voice.items() if v == channel_id]:
            del self.cached_voice[key]  # a deleted channel holds nobody, whatever the events say

    async def move_member(self, guild_id: int, member_id: int, channel_id: int | None, *, reason: str) -> None:
        await self._call("move_member", guild_id, member_id, channel_id)
        before = self.voice.get((guild_id, member_id))
        if before is None:
            raise PortError("Target user is not connected to voice.")
        if channel_id is not None:
            self._voice_channel(channel_id)
        await self._deliver(VoiceMove(guild_id, member_id, before, channel_id))

    async def fetch_voice_channel(self, guild_id: int, member_id: int) -> int | None:
        await self._call("fetch_voice_channel", guild_id, member_id)
        return self.voice.get((guild_id, member_id))

    async def set_overwrite(self, channel_id: int, target: Target, overwrite: Overwrite | None, *, reason: str) -> None:
        await self._call("set_overwrite", channel_id, target, overwrite)
        channel = self._voice_channel(channel_id)
        if overwrite is None:
            channel.overwrites.pop(target, None)
        else:
            channel.overwrites[target] = overwrite

    async def send_panel(self, channel_id: int, *, lane_id: int | None, owner_id: int | None) -> int:
        await self._call("send_panel", channel_id, lane_id, owner_id)
        self._voice_channel(channel_id)
        mid = self.new_id()
        self.messages[mid] = FakeMessage(channel_id, mid, lane_id, owner_id)
        return mid

    async def edit_panel(self, channel_id: int, message_id: int, *, lane_id: int | None, owner_id: int | None) -> None:
        await self._call("edit_panel", channel_id, message_id, owner_id)
        message = self.messages.get(message_id)
        if message is None or message.channel_id not in self.channels:
            raise NotFound(f"message {message_id}")
        message.owner_id = owner_id

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        await self._call("delete_message", channel_id, message_id)
        if self.messages.pop(message_id, None) is None:
            raise NotFound(f"message {message_id}")

    async def notify_member(self, guild_id: int, member_id: int, text: str) -> None:
        await self._call("notify_member", guild_id, member_id)
        self.dms.append((guild_id, member_id, text))

    # -- GuildView -----------------------------------------------------------------------

    def channel(self, channel_id: int) -> ChannelInfo | None:
        c = self.channels.get(channel_id)
        if c is None:
            return None
        return ChannelInfo(c.id, c.guild_id, c.name, c.category_id, c.user_limit, dict(c.overwrites))

    def voice_members(self, channel_id: int) -> list[int]:
        return sorted(m for (_, m), c in self.cached_voice.items() if c == channel_id)

    def voice_channel_of(self, guild_id: int, member_id: int) -> int | None:
        return self.cached_voice.get((guild_id, member_id))

    def member(self, guild_id: int, member_id: int) -> MemberInfo | None:
        return self.member_info.get((guild_id, member_id))

    def members(self, guild_id: int) -> list[MemberInfo]:
        return [m for (g, _), m in self.member_info.items() if g == guild_id]

    def roles(self, guild_id: int) -> list[RoleInfo]:
        return list(self.roles_by_guild[guild_id])

    def channels_in_category(self, category_id: int) -> int:
        return sum(1 for c in self.channels.values() if c.category_id == category_id)

    def voice_channels_in(self, category_id: int) -> list[int]:
        return sorted(c.id for c in self.channels.values() if c.category_id == category_id and c.kind == "voice")

    def channels_in_guild(self, guild_id: int) -> int:
        return sum(1 for c in self.channels.values() if c.guild_id == guild_id)

    def everyone_role_id(self, guild_id: int) -> int:
        return guild_id

    def own_member_id(self, guild_id: int) -> int:
        return BOT_USER_ID

    def bitrate_limit(self, guild_id: int) -> int:
        return 96_000

    def category_overwrites(self, category_id: int) -> dict[Target, Overwrite]:
        c = self.channels.get(category_id)
        return dict(c.overwrites) if c else {}


__all__ = ["FakeDiscord", "Forbidden", "NotFound"]

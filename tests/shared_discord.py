"""One fake Discord shared by several bot processes (tests of many processes on one database).

The parent test runs `SharedDiscord`: the truth is a `FakeDiscord`, reached over a Unix socket.
Each child process runs `RemoteDiscord`: a `FakeDiscord` as its gateway cache (the views the
services read), whose actions are REST calls to the parent. Every change the parent makes is
sent to every child's cache, as the gateway does; voice events are dispatched to the children
that `route` names (all of them: fail-over copies; one: the guild's shard). Frames are
length-prefixed pickles (tests only, on a local socket).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import pickle
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from bot.discord_glue.ports import Overwrite, PortError, Target, VoiceMove
from bot.features.tempvoice.service import TempVoiceConfig
from tests.fakes.discord_world import FakeChannel, FakeDiscord

_HEADER = struct.Struct(">I")
_State = tuple[dict[int, FakeChannel], dict[tuple[int, int], int]]


async def read_frame(reader: asyncio.StreamReader) -> Any:
    size = _HEADER.unpack(await reader.readexactly(_HEADER.size))[0]
    return pickle.loads(await reader.readexactly(size))


def send_frame(writer: asyncio.StreamWriter, message: object) -> None:
    data = pickle.dumps(message)
    writer.write(_HEADER.pack(len(data)) + data)


def _copy(world: FakeDiscord) -> _State:
    channels = {cid: dataclasses.replace(c, overwrites=dict(c.overwrites)) for cid, c in world.channels.items()}
    return channels, dict(world.voice)


class SharedDiscord:
    """The parent's side: the one Discord every child talks to."""

    def __init__(self, world: FakeDiscord, config: TempVoiceConfig, route: Callable[[int], list[int]]) -> None:
        self.world = world
        self.config = config
        self.route = route  # guild id -> the children that receive its events
        self.clients: dict[int, asyncio.StreamWriter] = {}
        self.outstanding = 0
        self._quiet = asyncio.Event()
        self._events = itertools.count(1)
        self._calls: set[asyncio.Task[None]] = set()
        self._published = _copy(world)  # what the children's caches hold
        world.listener = self._echo

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, index = await read_frame(reader)
        self.clients[index] = writer
        send_frame(writer, ("world", self.config, _copy(self.world), dict(self.world.member_info)))
        try:
            while True:
                message = await read_frame(reader)
                if message[0] == "call":
                    task = asyncio.create_task(self._call(writer, *message[1:]))
                    self._calls.add(task)
                    task.add_done_callback(self._calls.discard)
                elif message[0] == "done":
                    self.outstanding -= 1
                    if self.outstanding == 0:
                        self._quiet.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def _call(
        self, writer: asyncio.StreamWriter, rid: int, name: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> None:
        try:
            reply: tuple[object, ...] = ("reply", rid, True, await getattr(self.world, name)(*args, **kw))
        except PortError as e:
            reply = ("reply", rid, False, e)
        self._publish()  # the gateway's updates reach the caches before the REST reply
        send_frame(writer, reply)

    def _publish(self) -> None:
        """Send every change since the last publish to every cache."""
        before = self._published
        self._published = channels, voice = _copy(self.world)
        upserts = [c for cid, c in channels.items() if before[0].get(cid) != c]
        deleted = [cid for cid in before[0] if cid not in channels]
        moved = {k: v for k, v in voice.items() if before[1].get(k) != v}
        left = [k for k in before[1] if k not in voice]
        if upserts or deleted or moved or left:
            for writer in self.clients.values():
                send_frame(writer, ("sync", upserts, deleted, moved, left))

    async def _echo(self, move: VoiceMove) -> None:
        self.dispatch(move)

    def dispatch(self, move: VoiceMove) -> None:
        self._publish()  # the caches know the move before a handler runs
        for index in self.route(move.guild_id):
            self.outstanding += 1
            self._quiet.clear()
            send_frame(self.clients[index], ("event", next(self._events), move))

    def join(self, guild_id: int, member_id: int, channel_id: int) -> None:
        """A member joins a voice channel by themselves: every cache learns it, the routed children handle it."""
        self.dispatch(self.world.user_moves(guild_id, member_id, channel_id))

    async def settled(self) -> None:
        """Every dispatched event handled, every call answered and every echo dispatched."""
        while self.outstanding or self._calls or self.world._echoes:
            await self._quiet.wait()
            await asyncio.gather(*list(self._calls), *list(self.world._echoes), return_exceptions=True)

    async def close(self) -> None:
        for writer in self.clients.values():
            writer.close()


class RemoteDiscord(FakeDiscord):
    """A child's side: the cache is this FakeDiscord, the actions go to the parent."""

    def __init__(self) -> None:
        super().__init__(latency=(0, 0))
        self.config: TempVoiceConfig | None = None
        self.handler: Callable[[VoiceMove], Awaitable[None]] | None = None
        self._replies: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._ids_out = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._handling: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()

    async def connect(self, path: str, index: int) -> None:
        reader, self._writer = await asyncio.open_unix_connection(path)
        send_frame(self._writer, ("hello", index))
        _, self.config, (self.channels, self.voice), self.member_info = await read_frame(reader)
        self.cached_voice = dict(self.voice)  # the views read this: the gateway's state
        asyncio.create_task(self._receive(reader))  # noqa: RUF006 - lives until the parent hangs up

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message = await read_frame(reader)
                if message[0] == "sync":
                    _, upserts, deleted, moved, left = message
                    self.channels.update({c.id: c for c in upserts})
                    for cid in deleted:
                        self.channels.pop(cid, None)
                    for where in (self.voice, self.cached_voice):
                        where.update(moved)
                        for key in left:
                            where.pop(key, None)
                elif message[0] == "reply":
                    self._replies.pop(message[1]).set_result((message[2], message[3]))
                elif message[0] == "event":
                    task = asyncio.create_task(self._handle(message[1], message[2]))
                    self._handling.add(task)
                    task.add_done_callback(self._handling.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed.set()

    async def _handle(self, event_id: int, move: VoiceMove) -> None:
        try:
            if self.handler is not None:
                await self.handler(move)
        finally:
            assert self._writer is not None
            send_frame(self._writer, ("done", event_id))

    async def _rpc(self, call: str, /, *args: Any, **kw: Any) -> Any:
        assert self._writer is not None
        rid = next(self._ids_out)
        future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self._replies[rid] = future
        send_frame(self._writer, ("call", rid, call, args, kw))
        ok, value = await future
        if not ok:
            raise value
        return value

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
        kw = {"category_id": category_id, "name": name, "user_limit": user_limit, "bitrate": bitrate}
        return int(await self._rpc("create_voice_channel", guild_id, overwrites=overwrites, reason=reason, **kw))

    async def edit_channel(
        self, channel_id: int, *, name: str | None = None, user_limit: int | None = None, reason: str
    ) -> None:
        await self._rpc("edit_channel", channel_id, name=name, user_limit=user_limit, reason=reason)

    async def delete_channel(self, channel_id: int, *, reason: str) -> None:
        await self._rpc("delete_channel", channel_id, reason=reason)

    async def move_member(self, guild_id: int, member_id: int, channel_id: int | None, *, reason: str) -> None:
        await self._rpc("move_member", guild_id, member_id, channel_id, reason=reason)

    async def set_overwrite(self, channel_id: int, target: Target, overwrite: Overwrite | None, *, reason: str) -> None:
        await self._rpc("set_overwrite", channel_id, target, overwrite, reason=reason)

    async def send_panel(self, channel_id: int, *, lane_id: int | None, owner_id: int | None) -> int:
        return int(await self._rpc("send_panel", channel_id, lane_id=lane_id, owner_id=owner_id))

    async def edit_panel(self, channel_id: int, message_id: int, *, lane_id: int | None, owner_id: int | None) -> None:
        await self._rpc("edit_panel", channel_id, message_id, lane_id=lane_id, owner_id=owner_id)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        await self._rpc("delete_message", channel_id, message_id)

    async def notify_member(self, guild_id: int, member_id: int, text: str) -> None:
        await self._rpc("notify_member", guild_id, member_id, text)

    async def fetch_voice_channel(self, guild_id: int, member_id: int) -> int | None:
        found = await self._rpc("fetch_voice_channel", guild_id, member_id)
        return int(found) if found is not None else None

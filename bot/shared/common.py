"""Small pieces the services share: replies to a clicker, locks by key, this process's name."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import socket

from bot.discord_glue.ports import GuildView


@dataclasses.dataclass(frozen=True)
class Reply:
    """What a panel action tells the clicker (ephemeral)."""

    ok: bool
    text: str
    #: another process handles this event and answers; this one says nothing
    silent: bool = False


HANDLED_ELSEWHERE = Reply(False, "", silent=True)

#: the largest id any column holds (SQLite's INTEGER, PostgreSQL's BIGINT); Discord's snowflakes fit
ID_MAX = 2**63 - 1


def is_valid_id(value: int) -> bool:
    """Could this be a Discord id or a row id? A longer number names nothing (and no database takes it)."""
    return 0 < value <= ID_MAX


class UserError(Exception):
    """A refusal the user is told about: carries the German text the cog replies with."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class KeyedLocks:
    """asyncio locks by key, dropped again when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[object, asyncio.Lock] = {}
        self._users: collections.Counter[object] = collections.Counter()

    def locked(self, key: object) -> bool:
        lock = self._locks.get(key)
        return lock is not None and lock.locked()

    @property
    def size(self) -> int:
        return len(self._locks)

    def __call__(self, key: object) -> _Held:
        return _Held(self, key)


class _Held:
    def __init__(self, owner: KeyedLocks, key: object) -> None:
        self.owner, self.key = owner, key

    async def __aenter__(self) -> None:
        o = self.owner
        o._users[self.key] += 1
        lock = o._locks.setdefault(self.key, asyncio.Lock())
        try:
            await lock.acquire()
        except BaseException:
            self._release_user()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.owner._locks[self.key].release()
        self._release_user()

    def _release_user(self) -> None:
        o = self.owner
        o._users[self.key] -= 1
        if o._users[self.key] <= 0:
            del o._users[self.key]
            o._locks.pop(self.key, None)


def humans_in(view: GuildView, channel_id: int) -> list[int]:
    """The members in a voice channel who are not bots, as Discord sees them now."""
    channel = view.channel(channel_id)
    if channel is None:
        return []
    out = []
    for member_id in view.voice_members(channel_id):
        info = view.member(channel.guild_id, member_id)
        if info is None or not info.is_bot:
            out.append(member_id)
    return out


def process_name(owner: object) -> str:
    """How this process (and the object acting for it) signs claims and leases in a database
    several bot processes may share: host, pid, object."""
    return f"{socket.gethostname()}:{os.getpid()}:{id(owner):x}"

"""Small pieces the services share: replies to a clicker, and locks by key."""

from __future__ import annotations

import asyncio
import collections
import dataclasses


@dataclasses.dataclass(frozen=True)
class Reply:
    """What a panel action tells the clicker (ephemeral)."""

    ok: bool
    text: str


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

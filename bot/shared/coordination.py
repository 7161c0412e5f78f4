"""Several bot processes on one database: leases and event claims.

Leases run a feature in exactly one of the processes. A lease is a row (name, holder,
expires_at). `hold(name)` takes it when it is free or has run out, renews it when this
process already holds it, and says no while another process does; the database decides
(one upsert), so two processes never both hold it. Whoever runs the feature calls `hold`
before each run with a time-to-live of a few runs: a crashed holder's lease runs out and
another process takes over; a clean shutdown releases at once.

What runs under a lease: the live voice status pass, per guild.

Event claims make a Discord event that several processes see (the same command message or
modal submission) act once: the first process whose claim on the event's snowflake the
database accepts acts, the others stay silent. Starting a match and starting a coaching
session claim their event; TempVoice claims the member's lane creation (its own table);
timers claim by deleting their row. See README, "Several processes on one database".

Shared locks serialize the handling of one thing (a TempVoice lane, a rank-anchored
channel) across processes that all see its events: the second process then finds the work
done (the lane already deleted, the owner already passed on, the anchor already set) instead
of doing it again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from bot.db import Database
from bot.db.queries import queries
from bot.shared.clock import Clock, SystemClock
from bot.shared.common import HANDLED_ELSEWHERE, KeyedLocks, Reply, process_name

log = logging.getLogger(__name__)


class LeaseKeeper:
    """The leases this process holds (or tries to)."""

    def __init__(self, db: Database, *, ttl_seconds: int, clock: Clock | None = None, holder: str = "") -> None:
        if ttl_seconds < 1:
            raise ValueError("a lease must last at least one second")
        self.db = db
        self.ttl_seconds = ttl_seconds
        self.clock = clock or SystemClock()
        self.holder = holder or process_name(self)
        self.held: set[str] = set()

    async def hold(self, name: str) -> bool:
        """True when this process holds `name` until now + ttl (taken or renewed just now)."""
        now = self.clock.now()
        async with self.db.write() as conn:
            got = await queries.core.acquire_lease(
                conn, name=name, holder=self.holder, now=now, expires_at=now + self.ttl_seconds
            )
        if got is not None and name not in self.held:
            log.info("lease %s taken by this process (%s)", name, self.holder)
            self.held.add(name)
        elif got is None and name in self.held:
            log.warning("lease %s was taken over by another process; stopping here", name)
            self.held.discard(name)
        elif got is None:
            log.debug("lease %s is held by another process", name)
        return got is not None

    async def release_all(self) -> None:
        """Give every held lease up (clean shutdown): another process takes over at once."""
        names, self.held = sorted(self.held), set()
        if not names:
            return
        async with self.db.transaction() as conn:
            for name in names:
                await queries.core.release_lease(conn, name=name, holder=self.holder)
        log.info("released leases %s", ", ".join(names))


class EventClaims:
    """First come, first served on Discord events, across the processes of one database."""

    #: claims are kept this long (a duplicate delivery arrives within seconds)
    KEEP_SECONDS = 24 * 3600

    def __init__(self, db: Database, *, clock: Clock | None = None, claimer: str = "") -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.claimer = claimer or process_name(self)
        self._pruned_at = 0

    async def first(self, event_id: int, kind: str) -> bool:
        """True when this process is the first to claim the event and should act on it."""
        now = self.clock.now()
        async with self.db.write() as conn:
            claimed = await queries.core.claim_event(
                conn, event_id=event_id, kind=kind, claimer=self.claimer, claimed_at=now
            )
            if now - self._pruned_at >= 3600:  # once an hour is plenty
                self._pruned_at = now
                await queries.core.prune_event_claims(conn, claimed_before=now - self.KEEP_SECONDS)
        if not claimed:
            log.info("%s event %s is handled by another process", kind, event_id)
        return claimed == 1

    async def gate(self, event_id: int | None, kind: str) -> Reply | None:
        """None when this process acts (or no event id is known); else the silent reply."""
        if event_id is None or await self.first(event_id, kind):
            return None
        return HANDLED_ELSEWHERE


#: The namespace of the shared lock per voice channel: every feature that changes a channel's
#: permission overwrites (through the composer) or anchors it holds it, so the features of
#: several processes take turns on one channel.
CHANNEL_LOCKS = "voice_channel"


class SharedLocks:
    """Locks by key that hold across every process sharing the database: this process's own
    lock first (its tasks queue in memory, holding no connection), then the database's
    (`Database.exclusive`). On PostgreSQL the block's queries run on the lock's connection and
    commit when the lock is released, so a held lock costs one connection of the budget."""

    def __init__(self, db: Database, namespace: str) -> None:
        self.db = db
        self.namespace = namespace
        self._local = KeyedLocks()

    @property
    def size(self) -> int:
        return self._local.size

    @contextlib.asynccontextmanager
    async def __call__(self, key: object) -> AsyncIterator[None]:
        async with self._local(key), self.db.exclusive(f"{self.namespace}:{key}"):
            yield

"""Persisted timers with one dispatcher (coaching timeouts, delayed clean-ups).

A timer is a row of `timers` (event, key, due time, JSON payload): it survives restarts.
Features register a handler per event. The dispatcher claims a due timer by deleting its
row (only one claimer can get rowcount 1) and then runs the handler, so a timer fires at
most once even with several dispatchers on one database; a failing handler is logged and
does not stop the others. Time comes from an injected clock; tests call `dispatch_due()`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.db import Database
from bot.db.queries import queries
from bot.shared.clock import Clock, SystemClock
from bot.shared.loop import WakeableLoop

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TimerFired:
    event: str
    key: str
    due_at: int
    payload: dict[str, Any]


Handler = Callable[[TimerFired], Awaitable[None]]


class TimerService:
    def __init__(self, db: Database, clock: Clock | None = None, *, max_sleep: float = 60.0, batch: int = 50) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.max_sleep = max_sleep
        self.batch = batch
        self._handlers: dict[str, Handler] = {}
        self._loop = WakeableLoop("timer service", self._pass, error_delay=max_sleep)

    def register(self, event: str, handler: Handler) -> None:
        if event in self._handlers:
            raise ValueError(f"a handler for timer event {event!r} is already registered")
        self._handlers[event] = handler
        self._loop.wake()

    def unregister(self, event: str) -> None:
        self._handlers.pop(event, None)

    async def schedule(self, event: str, key: str, due_at: int, payload: dict[str, Any] | None = None) -> int:
        """Arm (or move) the timer (event, key)."""
        async with self.db.transaction() as conn:
            timer_id = await queries.core.schedule_timer(
                conn,
                event=event,
                key=key,
                due_at=due_at,
                payload=json.dumps(payload or {}, sort_keys=True),
                created_at=self.clock.now(),
            )
        self._loop.wake()
        return timer_id

    async def cancel(self, event: str, key: str) -> bool:
        async with self.db.transaction() as conn:
            return await queries.core.cancel_timer(conn, event=event, key=key) > 0

    async def dispatch_due(self) -> int:
        """Fire every due timer of the registered events; returns how many this call fired."""
        now = self.clock.now()
        fired = 0
        for event, handler in list(self._handlers.items()):
            async with self.db.read() as conn:
                due = await queries.core.list_due_timers(conn, event=event, now=now, max_count=self.batch)
            for timer in due:
                async with self.db.transaction() as conn:
                    if await queries.core.claim_timer(conn, timer_id=timer.timer_id) != 1:
                        continue  # another dispatcher fired it
                fired += 1
                try:
                    payload = json.loads(timer.payload)
                    await handler(TimerFired(timer.event, timer.key, timer.due_at, payload))
                except Exception:
                    log.exception("timer %s/%s failed", timer.event, timer.key)
        return fired

    async def next_due(self) -> int | None:
        times = []
        async with self.db.read() as conn:
            for event in self._handlers:
                due = await queries.core.next_timer_due(conn, event=event)
                if due is not None:
                    times.append(due)
        return min(times) if times else None

    # -- background loop -----------------------------------------------------------------

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> float:
        if await self.dispatch_due() >= self.batch:
            return 0.0  # more may be due right now
        nxt = await self.next_due()
        return self.max_sleep if nxt is None else min(self.max_sleep, max(0.0, nxt - self.clock.now()))

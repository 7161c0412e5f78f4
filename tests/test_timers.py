"""The timer service: persisted, fires once, survives restarts, driven by an injected clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database
from bot.shared.clock import ManualClock
from bot.shared.timers import TimerFired, TimerService
from tests.helpers import reopened


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


async def test_fires_once_when_due(db: Database) -> None:
    clock = ManualClock(1000)
    service = TimerService(db, clock)
    fired: list[TimerFired] = []

    async def on_timeout(t: TimerFired) -> None:
        fired.append(t)

    service.register("coaching_timeout", on_timeout)
    await service.schedule("coaching_timeout", "7", due_at=1600, payload={"session_id": 7})
    assert await service.dispatch_due() == 0
    clock.advance(599)
    assert await service.dispatch_due() == 0
    clock.advance(1)
    assert await service.dispatch_due() == 1
    assert fired == [TimerFired("coaching_timeout", "7", 1600, {"session_id": 7})]
    assert await service.dispatch_due() == 0  # once
    assert await service.next_due() is None


async def test_rearm_cancel_and_unhandled_events(db: Database) -> None:
    clock = ManualClock(0)
    service = TimerService(db, clock)
    seen: list[str] = []

    async def handler(t: TimerFired) -> None:
        seen.append(t.key)

    service.register("a", handler)
    await service.schedule("a", "k", due_at=10)
    await service.schedule("a", "k", due_at=20)  # re-arming moves it
    await service.schedule("a", "gone", due_at=5)
    assert await service.cancel("a", "gone") is True
    assert await service.cancel("a", "gone") is False
    await service.schedule("not-registered", "x", due_at=1)
    clock.advance(15)
    assert await service.dispatch_due() == 0
    assert await service.next_due() == 20  # the unregistered event's timer does not count
    clock.advance(5)
    assert await service.dispatch_due() == 1 and seen == ["k"]


async def test_survives_restart(db: Database) -> None:
    clock = ManualClock(0)
    await TimerService(db, clock).schedule("coaching_timeout", "1", due_at=600)
    await db.close()
    seen: list[str] = []

    async def handler(t: TimerFired) -> None:
        seen.append(t.key)

    clock.advance(601)
    async with reopened(db) as db2:  # a new process on the same store
        service = TimerService(db2, clock)
        service.register("coaching_timeout", handler)
        assert await service.dispatch_due() == 1
    assert seen == ["1"]


async def test_concurrent_dispatchers_fire_each_timer_once(db: Database) -> None:
    clock = ManualClock(0)
    counts: dict[str, int] = {}

    async def handler(t: TimerFired) -> None:
        counts[t.key] = counts.get(t.key, 0) + 1
        await asyncio.sleep(0)

    services = [TimerService(db, clock) for _ in range(5)]
    for s in services:
        s.register("e", handler)
    for i in range(40):
        await services[0].schedule("e", str(i), due_at=i)
    clock.advance(100)
    totals = await asyncio.gather(*(s.dispatch_due() for s in services))
    assert sum(totals) == 40 and counts == {str(i): 1 for i in range(40)}


async def test_failing_handler_does_not_stop_the_others(db: Database) -> None:
    clock = ManualClock(0)
    service = TimerService(db, clock)
    seen: list[str] = []

    async def handler(t: TimerFired) -> None:
        if t.key == "bad":
            raise RuntimeError("boom")
        seen.append(t.key)

    service.register("e", handler)
    await service.schedule("e", "bad", due_at=1)
    await service.schedule("e", "good", due_at=2)
    clock.advance(5)
    assert await service.dispatch_due() == 2 and seen == ["good"]


async def test_background_loop_wakes_on_schedule(db: Database) -> None:
    clock = ManualClock(0)
    service = TimerService(db, clock, max_sleep=30)
    done = asyncio.Event()

    async def handler(t: TimerFired) -> None:
        done.set()

    service.register("e", handler)
    service.start()
    try:
        await service.schedule("e", "now", due_at=0)  # due at once: the sleeping loop is woken
        await asyncio.wait_for(done.wait(), 60)  # generous: a busy CI machine may be slow to wake the loop
    finally:
        await service.stop()
    await service.stop()  # harmless

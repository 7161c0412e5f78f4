"""The one way features run background work (bot/shared/loop.py)."""

from __future__ import annotations

import asyncio

from bot.shared.loop import WakeableLoop


async def test_waits_for_before_runs_until_a_pass_returns_none_and_can_be_woken() -> None:
    ready = asyncio.Event()
    passes: list[int] = []
    reached = [asyncio.Event() for _ in range(3)]

    async def run_pass() -> float | None:
        passes.append(len(passes))
        reached[len(passes) - 1].set()
        return None if len(passes) == 3 else 3600.0  # a long sleep: only a wake-up ends it

    loop = WakeableLoop("test loop", run_pass, before=ready.wait)
    loop.start()
    await asyncio.sleep(0)
    assert passes == [] and loop.running  # still waiting for `before`
    ready.set()
    await asyncio.wait_for(reached[0].wait(), 5)
    loop.wake()
    await asyncio.wait_for(reached[1].wait(), 5)
    loop.wake()
    await asyncio.wait_for(reached[2].wait(), 5)
    assert passes == [0, 1, 2] and not loop.running  # the third pass returned None: the loop ended
    await loop.stop()  # stopping an ended loop is fine


async def test_a_failing_pass_is_retried_and_stop_cancels_a_sleeping_loop() -> None:
    calls = 0
    second = asyncio.Event()

    async def run_pass() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        second.set()
        return 3600.0

    loop = WakeableLoop("test loop", run_pass, error_delay=0.0)
    loop.start()
    await asyncio.wait_for(second.wait(), 5)
    assert loop.running
    await loop.stop()
    assert not loop.running and calls == 2


async def test_stop_right_after_a_wake_up_still_stops_the_loop() -> None:
    """The wake-up and the cancellation land in the same turn of the event loop: the loop
    stops (Python 3.11's wait_for returned the wake-up and dropped the cancellation, so the
    loop slept on and stop() never returned)."""
    sleeping = asyncio.Event()

    async def run_pass() -> float:
        sleeping.set()
        return 3600.0

    loop = WakeableLoop("test loop", run_pass)
    loop.start()
    await sleeping.wait()
    await asyncio.sleep(0)  # the loop is now waiting for its wake-up

    async def wake_and_stop() -> None:
        loop.wake()
        await loop.stop()

    stopping = asyncio.create_task(wake_and_stop())
    done, _ = await asyncio.wait([stopping], timeout=10)
    assert done == {stopping}, "stop() did not return: the cancellation was lost"
    assert not loop.running


async def test_waiting_before_each_pass_is_no_pass_in_flight() -> None:
    """A loop waiting for the bot to be ready holds up no shutdown: no pass runs, stop() returns."""
    ready = asyncio.Event()
    waiting = asyncio.Event()
    passes: list[int] = []
    passed = asyncio.Event()

    async def wait_ready() -> None:
        waiting.set()
        await ready.wait()

    async def one_pass() -> float | None:
        passes.append(1)
        passed.set()
        return None

    loop = WakeableLoop("test", one_pass, before_each=wait_ready)
    loop.start()
    await waiting.wait()
    assert WakeableLoop.passes_running() == [] and passes == []
    await loop.stop()
    assert passes == []

    ready.set()
    second = WakeableLoop("test", one_pass, before_each=wait_ready)
    second.start()
    await passed.wait()  # once ready, the pass runs
    await second.stop()
    assert passes == [1]


async def test_a_hold_during_the_wait_before_a_pass_starts_no_pass() -> None:
    """A shutdown holds the loops while one waits for ready: once ready, still no pass starts."""
    ready = asyncio.Event()
    waiting = asyncio.Event()
    passes: list[int] = []

    async def wait_ready() -> None:
        waiting.set()
        await ready.wait()

    async def one_pass() -> float | None:
        passes.append(1)
        return None

    loop = WakeableLoop("test", one_pass, before_each=wait_ready)
    loop.start()
    await waiting.wait()
    WakeableLoop.hold_all()
    ready.set()
    for _ in range(20):  # let the loop task run past the wait
        await asyncio.sleep(0)
    assert passes == [] and WakeableLoop.passes_running() == []
    await loop.stop()
    assert passes == []

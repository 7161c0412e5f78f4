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

"""The one way features run background work: a task that runs a pass, sleeps as long as the
pass asks, and can be woken early. Started in a cog's `cog_load` (or by the bot for shared
pieces), stopped in `cog_unload`; a pass that returns None was the last one (a one-shot job,
like restoring state once the guilds are known). At shutdown `hold_all()` lets the passes
running finish (`passes_running()`) and starts no new one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import ClassVar

log = logging.getLogger(__name__)


class WakeableLoop:
    _live: ClassVar[weakref.WeakSet[WakeableLoop]] = weakref.WeakSet()

    def __init__(
        self,
        name: str,
        run_pass: Callable[[], Awaitable[float | None]],
        *,
        error_delay: float = 60.0,
        before: Callable[[], Awaitable[object]] | None = None,
        before_each: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """`run_pass` does one pass and returns the seconds until the next one is needed (None:
        no next one). `before` is awaited once before the first pass (e.g. the bot being ready),
        `before_each` before every pass; waiting for either is not a pass in flight, so a shutdown
        does not wait for it."""
        self.name = name
        self.run_pass = run_pass
        self.error_delay = error_delay
        self.before = before
        self.before_each = before_each
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pass: asyncio.Future[None] | None = None  # set while a pass runs
        self._held = False

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._held = False
            self._task = asyncio.create_task(self._run(), name=self.name)
            WakeableLoop._live.add(self)

    @classmethod
    def _mine(cls) -> list[WakeableLoop]:
        """The running loops of the running event loop."""
        current = asyncio.get_running_loop()
        return [lp for lp in list(cls._live) if lp._task is not None and lp._task.get_loop() is current]

    @classmethod
    def hold_all(cls) -> None:
        """No loop starts another pass (until `stop()` ends it); a pass running goes on."""
        for lp in cls._mine():
            lp._held = True

    @classmethod
    def passes_running(cls) -> list[asyncio.Future[None]]:
        """One future per pass running now, done when the pass ends."""
        return [lp._pass for lp in cls._mine() if lp._pass is not None and not lp._pass.done()]

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            log.info("%s stopped", self.name)

    async def _run(self) -> None:
        if self.before is not None:
            await self.before()
        while True:
            self._wake.clear()  # before the pass: a wake-up during it is not lost
            if self.before_each is not None:
                try:
                    await self.before_each()
                except Exception:
                    log.exception("%s: waiting before the pass failed; retrying in %.0fs", self.name, self.error_delay)
                    await asyncio.sleep(self.error_delay)
                    continue
            if self._held:  # checked last: a hold that came while waiting for `before*` counts too
                await asyncio.get_running_loop().create_future()  # until stop() cancels us
            self._pass = running = asyncio.get_running_loop().create_future()
            try:
                delay = await self.run_pass()
            except Exception:
                log.exception("%s: pass failed; retrying in %.0fs", self.name, self.error_delay)
                delay = self.error_delay
            finally:
                running.set_result(None)
            if delay is None:
                return
            if delay > 0:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
                # that arrives just as the wake-up does, and stop() would wait forever
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()

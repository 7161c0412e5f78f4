"""Time as the services see it: injected, so tests can move it by hand."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Unix seconds."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class ManualClock:
    """A clock for tests: it moves only when told to."""

    def __init__(self, start: int = 1_700_000_000) -> None:
        self.value = start

    def now(self) -> int:
        return self.value

    def advance(self, seconds: int) -> None:
        self.value += seconds


def legacy_timestamp(clock: Clock) -> str:
    """The old bot's TIMESTAMP text ('YYYY-MM-DD HH:MM:SS', UTC), for the columns it shares."""
    return dt.datetime.fromtimestamp(clock.now(), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

"""Per-query call counts and timings, collected by the generated accessors."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable


@dataclasses.dataclass
class QueryStats:
    name: str
    calls: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0

    @property
    def mean_ms(self) -> float:
        return self.total_seconds / self.calls * 1000 if self.calls else 0.0


class QueryMetrics:
    """Process-wide registry; cheap enough to stay on for every call."""

    def __init__(self) -> None:
        self._stats: dict[str, QueryStats] = {}
        self._lock = threading.Lock()  # uncontended: only the event loop thread records
        #: called with (name, seconds, failed) for every call (Prometheus, bot.metrics)
        self.observers: list[Callable[[str, float, bool], None]] = []

    def record(self, name: str, seconds: float, *, failed: bool = False) -> None:
        stats = self._stats.get(name)
        if stats is None:
            with self._lock:
                stats = self._stats.setdefault(name, QueryStats(name))
        stats.calls += 1
        stats.total_seconds += seconds
        if failed:
            stats.errors += 1
        if seconds > stats.max_seconds:
            stats.max_seconds = seconds
        for observer in self.observers:
            observer(name, seconds, failed)

    def snapshot(self) -> list[QueryStats]:
        """A copy, busiest query first."""
        return sorted(
            (dataclasses.replace(s) for s in self._stats.values()),
            key=lambda s: (-s.total_seconds, s.name),
        )

    def reset(self) -> None:
        self._stats.clear()

    def summary(self, limit: int = 15) -> str:
        rows = self.snapshot()
        if not rows:
            return "no queries ran"
        lines = [f"{'query':<44} {'calls':>8} {'errors':>6} {'total ms':>10} {'mean ms':>8} {'max ms':>8}"]
        for s in rows[:limit]:
            lines.append(
                f"{s.name:<44} {s.calls:>8} {s.errors:>6} {s.total_seconds * 1000:>10.1f} "
                f"{s.mean_ms:>8.3f} {s.max_seconds * 1000:>8.3f}"
            )
        if len(rows) > limit:
            lines.append(f"... and {len(rows) - limit} more queries")
        return "\n".join(lines)


#: The registry every generated accessor records into.
METRICS = QueryMetrics()

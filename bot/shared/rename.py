"""One rename scheduler for every feature that puts text into a channel's name.

Discord allows about 2 renames per channel per 10 minutes; three features (TempVoice's base
name and min-rank hint, rank voice's window, voice status's lobby/match suffix) rename the
same channels. Each feature owns a *part* of the name and sets only that part; the scheduler
composes the name (base, then the suffix parts in a fixed order), keeps only the latest
wanted name per channel, and applies it within the budget. `set_part` never waits: the
applying happens in `run_due()` (a background loop in the bot, called directly in tests).
"""

from __future__ import annotations

import collections
import logging

from bot.discord_glue.ports import DiscordActions, Forbidden, GuildView, NotFound, PortError, RateLimited
from bot.features.tempvoice.rules import MAX_NAME
from bot.shared.clock import Clock, SystemClock
from bot.shared.loop import WakeableLoop

log = logging.getLogger(__name__)

#: Suffix parts in the order they appear after the base name.
SUFFIX_PARTS = ("rank", "minrank", "status")
PARTS = ("base", *SUFFIX_PARTS)
RENAME_BUDGET = 2
RENAME_WINDOW = 600


def compose(base: str, suffixes: dict[str, str]) -> str:
    """Base name plus suffixes; the base is shortened so the whole fits Discord's 100 characters."""
    tail = "".join(suffixes.get(p, "") for p in SUFFIX_PARTS)
    room = max(1, MAX_NAME - len(tail))
    return (base[:room].rstrip() or base[:1]) + tail if tail else base[:MAX_NAME]


class RenameScheduler:
    def __init__(
        self,
        actions: DiscordActions,
        view: GuildView,
        clock: Clock | None = None,
        *,
        budget: int = RENAME_BUDGET,
        window: int = RENAME_WINDOW,
    ) -> None:
        self.actions = actions
        self.view = view
        self.clock = clock or SystemClock()
        self.budget = budget
        self.window = window
        self._bases: dict[int, str] = {}
        self._suffixes: dict[int, dict[str, str]] = {}
        self._pending: set[int] = set()
        self._history: dict[int, collections.deque[float]] = {}
        self._blocked_until: dict[int, float] = {}
        self._loop = WakeableLoop("rename scheduler", self._pass)
        self.renames = 0  # applied, for logs and tests

    # -- what features call (never waits) ---------------------------------------------

    def set_part(self, channel_id: int, part: str, value: str | None) -> None:
        """Set this feature's part of the channel's name (None or "" clears a suffix)."""
        if part not in PARTS:
            raise ValueError(f"unknown name part {part!r}; one of {PARTS}")
        if part == "base":
            if not value:
                raise ValueError("the base name cannot be empty")
            self._bases[channel_id] = value
        else:
            suffixes = self._suffixes.setdefault(channel_id, {})
            if value:
                suffixes[part] = value
            else:
                suffixes.pop(part, None)
        self._pending.add(channel_id)
        self._loop.wake()

    def wanted_name(self, channel_id: int) -> str | None:
        base = self._bases.get(channel_id)
        if base is None:
            channel = self.view.channel(channel_id)
            if channel is None:
                return None
            base = self._bases[channel_id] = self._strip_suffixes(channel_id, channel.name)
        return compose(base, self._suffixes.get(channel_id, {}))

    def _strip_suffixes(self, channel_id: int, name: str) -> str:
        for value in self._suffixes.get(channel_id, {}).values():
            name = name.removesuffix(value)
        return name or "Voice"

    def forget(self, channel_id: int) -> None:
        """The channel is gone (or no longer ours): drop its parts and pending rename."""
        for store in (self._bases, self._suffixes, self._history, self._blocked_until):
            store.pop(channel_id, None)
        self._pending.discard(channel_id)

    def is_pending(self, channel_id: int) -> bool:
        return channel_id in self._pending

    # -- applying ------------------------------------------------------------------------

    def _budget_free_at(self, channel_id: int, now: float) -> float:
        history = self._history.get(channel_id)
        while history and history[0] <= now - self.window:
            history.popleft()
        free = now if not history or len(history) < self.budget else history[0] + self.window
        return max(free, self._blocked_until.get(channel_id, 0.0))

    async def run_due(self) -> int:
        """Apply every pending name whose channel has rename budget now; returns renames made."""
        now = float(self.clock.now())
        done = 0
        for channel_id in sorted(self._pending):
            channel = self.view.channel(channel_id)
            wanted = self.wanted_name(channel_id)
            if channel is None or wanted is None:
                self.forget(channel_id)
                continue
            if channel.name == wanted:
                self._pending.discard(channel_id)  # never rename to the name it already has
                continue
            if self._budget_free_at(channel_id, now) > now:
                continue
            try:
                await self.actions.edit_channel(channel_id, name=wanted, reason="Kanalname aktualisiert")
            except RateLimited as e:
                self._blocked_until[channel_id] = now + e.retry_after
                continue
            except NotFound:
                self.forget(channel_id)
                continue
            except (Forbidden, PortError) as e:
                log.warning("renaming channel %s failed: %s", channel_id, e)
                self._pending.discard(channel_id)
                continue
            self._history.setdefault(channel_id, collections.deque()).append(now)
            # a newer wish may have arrived while the edit was in flight
            if self.wanted_name(channel_id) == wanted:
                self._pending.discard(channel_id)
            done += 1
            self.renames += 1
        return done

    def next_due(self) -> float | None:
        now = float(self.clock.now())
        times = [self._budget_free_at(c, now) for c in self._pending]
        return min(times) if times else None

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> float:
        await self.run_due()
        nxt = self.next_due()
        return 60.0 if nxt is None else min(60.0, max(0.5, nxt - self.clock.now()))

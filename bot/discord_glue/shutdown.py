"""The staged shutdown of the bot (SIGTERM, SIGINT, or `close()`), in this order:

1. the gate closes: gateway events are still parsed (the cache stays true for the work still
   running) but start no new handler, command, button or modal; an interaction arriving now
   is dropped unanswered, as when the bot is offline;
2. the work in flight finishes: event handlers, commands, component and modal callbacks, and
   the background loops' passes already running (no loop starts a new pass), at most
   `drain_seconds`; what is still running then is cancelled (a WARNING names it);
3. the features unload and the shared services stop;
4. the Discord connection closes (the work above could still answer members until here);
5. the database closes, exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.shared.loop import WakeableLoop

log = logging.getLogger(__name__)

DRAIN_SECONDS = 8.0  # how long the work in flight may take to finish
CANCEL_SECONDS = 2.0  # how long cancelled work may take to unwind (roll back) before Discord closes

#: The names discord.py 2.7 gives the tasks that run handlers: events (`Client._schedule_event`),
#: slash commands (`CommandTree._from_interaction`), buttons, selects and modals (`ui.View`,
#: `ui.Modal`, dynamic items). A view's own timeout timer has no such name (it may wait minutes).
HANDLER_TASK_PREFIXES = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
)
#: Events dropped whole once the gate is closed: parsing them starts work (an interaction runs
#: its command or callback from the parser) and leaves nothing in the cache worth keeping.
DROPPED_WHOLE = frozenset({"INTERACTION_CREATE"})

Parser = Callable[[Any], None]


class EventGate:
    """Sits in front of discord.py's gateway parsers (`ConnectionState.parsers`, the dict every
    shard's websocket looks its parsers up in). Open: every event goes through as before.
    Closed: the event is parsed with `muted` set, so the bot's `dispatch` drops the events it
    raises (no handler starts); interactions are not parsed at all."""

    def __init__(self) -> None:
        self.open = True
        self.muted = False
        self.dropped: Counter[str] = Counter()

    def install(self, parsers: MutableMapping[str, Parser]) -> None:
        for name, parse in list(parsers.items()):
            parsers[name] = self._gated(name, parse)

    def close(self) -> None:
        self.open = False

    def _gated(self, name: str, parse: Parser) -> Parser:
        def gated(data: Any) -> None:
            if self.open:
                parse(data)
                return
            self.dropped[name] += 1
            if name in DROPPED_WHOLE:
                return
            self.muted = True
            try:
                parse(data)
            finally:
                self.muted = False

        gated.__wrapped__ = parse  # type: ignore[attr-defined]
        return gated


def handler_tasks(exclude: frozenset[asyncio.Task[Any]] = frozenset()) -> set[asyncio.Task[Any]]:
    """The handler tasks running now, but the caller's own and `exclude` (a handler that closes
    the bot waits for the shutdown: waiting for it would only wait out the drain time)."""
    me = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not me and t not in exclude and not t.done() and t.get_name().startswith(HANDLER_TASK_PREFIXES)
    }


async def drain(
    drain_seconds: float = DRAIN_SECONDS,
    cancel_seconds: float = CANCEL_SECONDS,
    *,
    exclude: frozenset[asyncio.Task[Any]] = frozenset(),
) -> list[str]:
    """Let the running handlers and loop passes finish (handlers may start more handlers, e.g. a
    command's error event: those are waited for too); after `drain_seconds` cancel the handlers
    still running. Returns the names of the cancelled ones."""
    deadline = time.monotonic() + drain_seconds
    WakeableLoop.hold_all()
    while True:
        waits: set[asyncio.Future[Any]] = {*handler_tasks(exclude), *WakeableLoop.passes_running()}
        left = deadline - time.monotonic()
        if not waits or left <= 0:
            break
        await asyncio.wait(waits, timeout=left)
    late = handler_tasks(exclude)
    if late:
        names = sorted(t.get_name() for t in late)
        log.warning("shutdown: %d handler(s) still running after %.0fs, cancelled: %s", len(late), drain_seconds, names)
        for task in late:
            task.cancel()
        await asyncio.wait(late, timeout=cancel_seconds)
        return names
    return []


async def staged_shutdown(
    gate: EventGate,
    *,
    stop_features: Callable[[], Awaitable[None]],
    close_discord: Callable[[], Awaitable[None]],
    close_database: Callable[[], Awaitable[None]],
    drain_seconds: float = DRAIN_SECONDS,
    closer: asyncio.Task[Any] | None = None,
) -> None:
    """Run the stages in order (module docstring); each one runs even when the one before failed,
    so the database is closed whatever happens on the way."""
    gate.close()
    log.info("shutting down: new gateway events are no longer handled")
    started = time.monotonic()
    try:
        await drain(drain_seconds, exclude=frozenset({closer}) if closer is not None else frozenset())
        log.info("shutdown: work in flight done after %.2fs", time.monotonic() - started)
    finally:
        try:
            await stop_features()
        finally:
            try:
                await close_discord()
            finally:
                await close_database()
    if gate.dropped:
        log.info("shutdown: gateway events not handled: %s", dict(sorted(gate.dropped.items())))

"""One rename scheduler for every feature that puts text into a channel's name.

Discord allows about 2 renames per channel per 10 minutes; three features (TempVoice's base
name and min-rank hint, rank voice's window, voice status's lobby/match suffix) rename the
same channels. Each feature owns a *part* of the name and sets only that part; the scheduler
composes the name (base, then the suffix parts in a fixed order), keeps only the latest
wanted name per channel, and applies it within the budget. `set_part` never waits for the
budget: the applying happens in `run_due()` (a background loop in the bot, called directly
in tests).

Everything is kept in the database as well (parts, the confirmed renames of the budget
window, a 429's retry time): after a restart the scheduler knows which suffixes are the
bot's own (they are replaced, never piled up), spends no budget Discord still counts, and
renames every managed channel whose name is not its composed name (a feature that cleared
its part while starting, because the state ended while the bot was down, gets its name back).

A channel's base name is never learned from the name it shows (that name may carry the
bot's own suffixes, from before a restart): a TempVoice lane's base is its row's, saved in
the lane's creating transaction (`core.get_base_name` falls back to it until someone wishes
another base); a channel the bot did not create (rank voice, voice status) is adopted once,
the first time a part is set, from its name without any suffix the bot manages
(`strip_managed_suffixes`, which also cleans names that piled up before). Renames wait until
the bot is ready: before that the cache does not know the channels yet.

A feature that must know when Discord confirmed a name (TempVoice frees a lane number only
then) registers `on_renamed(callback)`; it is called with the channel and its base name.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import re
from collections.abc import Awaitable, Callable

from bot.db import Database
from bot.db.connections import WriteConn
from bot.db.queries import queries
from bot.discord_glue.ports import DiscordActions, Forbidden, GuildView, NotFound, PortError, RateLimited
from bot.features.rank_voice.texts import RankVoice
from bot.features.tempvoice.rules import MAX_NAME
from bot.features.tempvoice.texts import TempVoice
from bot.features.voice_status.texts import VoiceStatus
from bot.shared.clock import Clock, SystemClock
from bot.shared.loop import WakeableLoop
from bot.shared.ranks import RANK_NAMES

log = logging.getLogger(__name__)

#: Suffix parts in the order they appear after the base name.
SUFFIX_PARTS = ("rank", "minrank", "status")
PARTS = ("base", *SUFFIX_PARTS)
RENAME_BUDGET = 2
RENAME_WINDOW = 600
#: a pending channel missing from the cache this long is taken for deleted (after READY the
#: cache is complete; a fresh IDENTIFY empties it for the seconds until GUILD_CREATE)
MISSING_GRACE = 60

Renamed = Callable[[int, str], Awaitable[None]]
Ready = Callable[[], Awaitable[None]]


def _template(text: str) -> str:
    """A name-part template ("' • ab {rank}'") as a regular expression."""
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", text):
        out.append(re.escape(text[pos : m.start()]))
        out.append("(?:" + "|".join(map(re.escape, RANK_NAMES)) + ")" if m.group(1) == "rank" else r"\d+")
        pos = m.end()
    return "".join(out) + re.escape(text[pos:])


#: every suffix a feature puts into a name (from the features' texts), anchored at the end
_MANAGED_SUFFIX = re.compile(
    "(?:"
    + "|".join(
        [
            _template(RankVoice.NAME_PART) + f"(?:{_template(RankVoice.NAME_RADIUS)})?",
            _template(TempVoice.MINRANK_SUFFIX),
            _template(VoiceStatus.IN_MATCH),
            _template(VoiceStatus.IN_LOBBY),
        ]
    )
    + ")$"
)


def strip_managed_suffixes(name: str) -> str:
    """The name without every suffix the bot manages, also several piled up ("Lane 1 • ab
    Oracle • ab Phantom" -> "Lane 1"); for channels whose base name was never stored."""
    while (m := _MANAGED_SUFFIX.search(name)) and m.start() > 0:
        name = name[: m.start()]
    return name


async def adopt_base(conn: WriteConn, channel_id: int, base: str) -> None:
    """Store a channel's base name inside the caller's transaction."""
    await queries.core.upsert_name_part(conn, channel_id=channel_id, part="base", value=base)


def compose(base: str, suffixes: dict[str, str]) -> str:
    """Base name plus suffixes; the base is shortened so the whole fits Discord's 100 characters."""
    tail = "".join(suffixes.get(p, "") for p in SUFFIX_PARTS)
    room = max(1, MAX_NAME - len(tail))
    return (base[:room].rstrip() or base[:1]) + tail if tail else base[:MAX_NAME]


class RenameScheduler:
    def __init__(
        self,
        db: Database,
        actions: DiscordActions,
        view: GuildView,
        clock: Clock | None = None,
        *,
        budget: int = RENAME_BUDGET,
        window: int = RENAME_WINDOW,
        ready: Ready | None = None,
    ) -> None:
        self.db = db
        self.actions = actions
        self.view = view
        self.clock = clock or SystemClock()
        self.budget = budget
        self.window = window
        self._bases: dict[int, str] = {}
        self._suffixes: dict[int, dict[str, str]] = {}
        self._pending: set[int] = set()
        self._history: dict[int, collections.deque[float]] = {}
        self._applied: dict[int, str] = {}  # the last name Discord confirmed (the cache may lag)
        self._blocked_until: dict[int, float] = {}
        self._missing_since: dict[int, float] = {}
        self._listeners: list[Renamed] = []
        self._loaded = False
        self._load_lock = asyncio.Lock()
        # waiting for ready is no pass in flight: a shutdown before ready does not wait for it
        self._loop = WakeableLoop("rename scheduler", self._pass, before_each=ready)
        self.renames = 0  # applied, for logs and tests

    # -- what features call (never waits for the budget) ---------------------------------

    async def set_part(self, channel_id: int, part: str, value: str | None) -> None:
        """Set this feature's part of the channel's name (None or "" clears a suffix)."""
        if part not in PARTS:
            raise ValueError(f"unknown name part {part!r}; one of {PARTS}")
        if part == "base" and not value:
            raise ValueError("the base name cannot be empty")
        await self.load()
        if part != "base":
            await self._resolve_base(channel_id)  # before the suffix is stored: never learned with it
        async with self.db.transaction() as conn:
            if value:
                await queries.core.upsert_name_part(conn, channel_id=channel_id, part=part, value=value)
            else:
                await queries.core.delete_name_part(conn, channel_id=channel_id, part=part)
        if part == "base":
            assert value
            self._bases[channel_id] = value
        elif value:
            self._suffixes.setdefault(channel_id, {})[part] = value
        else:
            self._suffixes.get(channel_id, {}).pop(part, None)
        self._pending.add(channel_id)
        self._loop.wake()

    def on_renamed(self, callback: Renamed) -> None:
        """`callback(channel_id, base)` after Discord confirmed a channel's composed name."""
        self._listeners.append(callback)

    def wanted_name(self, channel_id: int) -> str | None:
        """The composed name (None while the base name is not known yet)."""
        base = self._bases.get(channel_id)
        return None if base is None else compose(base, self._suffixes.get(channel_id, {}))

    async def _resolve_base(self, channel_id: int) -> str | None:
        """The channel's base name: remembered, stored (wished, adopted, or a lane row's), or,
        for a channel never adopted, its shown name without the bot's suffixes (stored at once)."""
        if (base := self._bases.get(channel_id)) is not None:
            return base
        async with self.db.read() as conn:
            base = await queries.core.get_base_name(conn, channel_id=channel_id)
        if base is not None:
            base = strip_managed_suffixes(base)  # a legacy row may carry suffixes, as at load()
        else:
            channel = self.view.channel(channel_id)
            if channel is None:
                return None  # not in the cache (yet): adopted when it is
            base = strip_managed_suffixes(channel.name)
            async with self.db.transaction() as conn:
                await adopt_base(conn, channel_id, base)
        self._bases[channel_id] = base
        return base

    async def forget(self, channel_id: int) -> None:
        """The channel is gone (or no longer ours): drop its parts, budget and pending rename."""
        await self.load()
        async with self.db.transaction() as conn:
            await queries.core.delete_channel_name_parts(conn, channel_id=channel_id)
            await queries.core.delete_channel_renames(conn, channel_id=channel_id)
            await queries.core.delete_rename_block(conn, channel_id=channel_id)
        self._drop(channel_id)

    def _drop(self, channel_id: int) -> None:
        stores = (self._bases, self._suffixes, self._history, self._blocked_until, self._applied, self._missing_since)
        for store in stores:
            store.pop(channel_id, None)
        self._pending.discard(channel_id)

    def is_pending(self, channel_id: int) -> bool:
        return channel_id in self._pending

    # -- what the database remembers ------------------------------------------------------

    async def load(self) -> None:
        """Read the parts, the budget and the blocks back (once; every call does it first)."""
        if self._loaded:
            return
        async with self._load_lock:
            if self._loaded:
                return
            now = self.clock.now()
            async with self.db.read() as conn:
                parts = await queries.core.list_name_parts(conn)
                renames = await queries.core.list_renames_since(conn, since=now - self.window)
                blocks = await queries.core.list_rename_blocks(conn, now=now)
            repaired = {}
            for row in parts:
                if row.part == "base":
                    # a base learned from a shown name before bases were stored may carry suffixes
                    base = self._bases[row.channel_id] = strip_managed_suffixes(row.value)
                    if base != row.value:
                        repaired[row.channel_id] = base
                else:
                    self._suffixes.setdefault(row.channel_id, {})[row.part] = row.value
                self._pending.add(row.channel_id)  # renamed back if its name is not the composed one
            for r in renames:
                self._history.setdefault(r.channel_id, collections.deque()).append(float(r.renamed_at))
                self._applied[r.channel_id] = r.name
            self._blocked_until.update({b.channel_id: float(b.blocked_until) for b in blocks})
            if repaired:
                log.info("base names without the bot's suffixes again: %s", repaired)
                async with self.db.transaction() as conn:
                    for channel_id, base in repaired.items():
                        await adopt_base(conn, channel_id, base)
            self._loaded = True

    async def _remember_rename(self, channel_id: int, name: str, now: float) -> None:
        async with self.db.transaction() as conn:
            await queries.core.prune_renames(conn, before=int(now) - self.window)
            await queries.core.insert_rename(conn, channel_id=channel_id, name=name, renamed_at=int(now))
            await queries.core.delete_rename_block(conn, channel_id=channel_id)

    async def _remember_block(self, channel_id: int, until: float) -> None:
        async with self.db.transaction() as conn:
            await queries.core.upsert_rename_block(conn, channel_id=channel_id, blocked_until=math.ceil(until))

    async def base_of(self, channel_id: int) -> str | None:
        """The base name wished for the channel, shown already or still pending (None: unknown)."""
        await self.load()
        return await self._resolve_base(channel_id)

    def due_at(self, channel_id: int) -> float | None:
        """When the channel's pending name may be applied (now, or when the budget frees up);
        None when nothing is pending."""
        if channel_id not in self._pending:
            return None
        return self._budget_free_at(channel_id, float(self.clock.now()))

    # -- applying ------------------------------------------------------------------------

    def _budget_free_at(self, channel_id: int, now: float) -> float:
        history = self._history.get(channel_id)
        while history and history[0] <= now - self.window:
            history.popleft()
        free = now if not history or len(history) < self.budget else history[0] + self.window
        missing = self._missing_since.get(channel_id)
        recheck = 0.0 if missing is None else missing + MISSING_GRACE
        return max(free, self._blocked_until.get(channel_id, 0.0), recheck)

    async def run_due(self) -> int:
        """Apply every pending name whose channel has rename budget now; returns renames made."""
        await self.load()
        now = float(self.clock.now())
        done = 0
        for channel_id in sorted(self._pending):
            if await self._apply(channel_id, now):
                done += 1
                self.renames += 1
        return done

    async def _apply(self, channel_id: int, now: float) -> bool:
        channel = self.view.channel(channel_id)
        if channel is None:  # deleted, or the cache is being refilled (a fresh IDENTIFY)
            since = self._missing_since.setdefault(channel_id, now)
            if now - since >= MISSING_GRACE:
                await self.forget(channel_id)
            return False
        self._missing_since.pop(channel_id, None)
        await self._resolve_base(channel_id)
        wanted = self.wanted_name(channel_id)
        assert wanted is not None  # the channel is in the cache: its base is known now
        if wanted in (channel.name, self._applied.get(channel_id)):
            self._pending.discard(channel_id)  # never rename to the name it already has
            await self._confirmed(channel_id)
            return False
        if self._budget_free_at(channel_id, now) > now:
            return False
        try:
            await self.actions.edit_channel(channel_id, name=wanted, reason="Kanalname aktualisiert")
        except RateLimited as e:
            self._blocked_until[channel_id] = now + e.retry_after
            await self._remember_block(channel_id, now + e.retry_after)
            return False
        except NotFound:
            await self.forget(channel_id)
            return False
        except (Forbidden, PortError) as e:
            log.warning("renaming channel %s failed: %s", channel_id, e)
            self._pending.discard(channel_id)
            return False
        self._history.setdefault(channel_id, collections.deque()).append(now)
        self._applied[channel_id] = wanted
        self._blocked_until.pop(channel_id, None)
        await self._remember_rename(channel_id, wanted, now)
        # a newer wish may have arrived while the edit was in flight
        if self.wanted_name(channel_id) == wanted:
            self._pending.discard(channel_id)
            await self._confirmed(channel_id)
        return True

    async def _confirmed(self, channel_id: int) -> None:
        base = self._bases.get(channel_id)
        if base is None:
            return
        for callback in self._listeners:
            try:
                await callback(channel_id, base)
            except Exception:
                log.exception("a rename listener failed for channel %s", channel_id)

    def next_due(self) -> float | None:
        now = float(self.clock.now())
        times = [self._budget_free_at(c, now) for c in self._pending]
        return min(times) if times else None

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> float:
        # the loop awaited `ready` first: before the guilds are cached every channel would look deleted
        await self.run_due()
        nxt = self.next_due()
        return 60.0 if nxt is None else min(60.0, max(0.5, nxt - self.clock.now()))

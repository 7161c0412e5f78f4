"""The live voice status pass: who is in voice, what the Steam presence says, which suffix.

One pass (every 60 s by default, and a few seconds after a member joined or left a
monitored channel: see the cog) holds the writer as briefly as it can, with a fixed number
of statements however many members are in voice or have ever linked Steam:

* on a reader first: the previous decisions and the scratch rows (voice_status_members) of
  the guilds this process passes (only its passes write them: the lease), and which guilds'
  rows nobody passes any more;
* on the writer, only when something changed: one transaction with a batch each for the
  members who joined or moved, who left, and the guilds nobody passes (a quiet pass skips it);
* on a reader: their presence, with one join driven by the scratch rows;
* decisions in Python, outside any unit; a suffix goes to the shared rename scheduler as the
  "status" part of the name;
* on the writer: the watch list for the Node presence service refreshed, pruned when members
  left (and every FULL_PRUNE_EVERY passes), and the decisions that changed saved, one
  statement each, each committed on its own (a pass cut short is repaired by the next one:
  everything here is recomputed every pass). A quiet pass (nobody joined, left or changed
  state) holds the writer for one statement.

A guild's pass must run in exactly one process: with several bot processes on one
database, each guild's pass runs under the lease "voice_status:<guild id>" (see
bot.shared.coordination), so only one process renames a guild's channels and writes its
scratch rows. The rows of a guild whose lease ran out or was released (its process ended)
are cleared by the next pass of any process.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import defaultdict

from bot.db.queries import (
    AddVoiceMembersParams,
    ChannelStatus,
    ClearGuildVoiceMembersParams,
    PresenceRow,
    RemoveVoiceMembersParams,
    SaveChannelStatusesParams,
    queries,
)
from bot.features.voice_status.rules import Decision, Presence, best_per_member, decide, may_rename
from bot.shared.common import humans_in
from bot.shared.coordination import LeaseKeeper
from bot.shared.deps import Deps

log = logging.getLogger(__name__)


#: Watch entries go stale when their member leaves (pruned in that pass) or when a Steam link
#: is removed while its member stays in voice (another program's change): every this many
#: passes the watch list is pruned whatever happened
FULL_PRUNE_EVERY = 10


def lease_name(guild_id: int) -> str:
    return f"voice_status:{guild_id}"


trace = logging.getLogger("deadlock_bot.voice_status.trace")  # off unless `!dlvs trace on`
trace.propagate = False
trace.setLevel(logging.CRITICAL)


@dataclasses.dataclass(frozen=True)
class VoiceStatusConfig:
    category_ids: tuple[int, ...]
    interval_seconds: int = 60


@dataclasses.dataclass(frozen=True)
class PassReport:
    channels: int
    members: int
    renames: int
    watched: int


class VoiceStatusService:
    def __init__(self, deps: Deps, config: VoiceStatusConfig, *, leases: LeaseKeeper | None = None) -> None:
        self.db = deps.db
        self.view = deps.view
        self.renamer = deps.renamer
        self.config = config
        self.clock = deps.clock
        #: None: this is the only process on its database (tests); the bot always passes one
        self.leases = leases
        self._passes_since_prune = FULL_PRUNE_EVERY  # the first pass prunes

    def monitors(self, channel_id: int | None) -> bool:
        """A voice channel in one of the monitored categories."""
        channel = None if channel_id is None else self.view.channel(channel_id)
        return channel is not None and channel.category_id in self.config.category_ids

    def _monitored(self) -> dict[int, tuple[int, list[int]]]:
        """channel id -> (guild id, human members) of every voice channel in the categories."""
        out: dict[int, tuple[int, list[int]]] = {}
        for category in self.config.category_ids:
            for channel_id in self.view.voice_channels_in(category):
                channel = self.view.channel(channel_id)
                if channel is None:
                    continue
                out[channel_id] = (channel.guild_id, humans_in(self.view, channel_id))
        return out

    async def _guilds_held(self, guilds: set[int]) -> list[int]:
        if self.leases is None:
            return sorted(guilds)
        return [g for g in sorted(guilds) if await self.leases.hold(lease_name(g))]

    async def run_pass(self) -> PassReport:
        now = self.clock.now()
        monitored = self._monitored()
        guilds = await self._guilds_held({guild for guild, _ in monitored.values()})
        monitored = {c: v for c, v in monitored.items() if v[0] in guilds}
        wanted = {
            m: (guild, channel) for channel, (guild, members) in sorted(monitored.items()) for m in members
        }  # a member in two channels at once (a lagging cache): the later channel
        previous, known, stale = await self._read_before(guilds, now)
        changes = _scratch_changes(wanted, known, stale, now)
        if changes.any:
            await self._write_scratch(changes)
        async with self.db.read() as conn:  # the rows written above are committed: a reader sees them
            presence = await queries.voice_status.list_presence(conn)
        by_channel: dict[int, list[Presence]] = defaultdict(list)
        for p in presence:
            by_channel[p.channel_id].append(_presence(p))
        renames = 0
        saves: list[SaveChannelStatusesParams] = []
        for channel_id, (guild_id, members) in sorted(monitored.items()):
            observations = best_per_member(by_channel.get(channel_id, []), now)
            decision = decide(len(members), observations.values())
            prev = previous.get(channel_id)
            renamed = may_rename(
                prev.state if prev else None,
                prev.suffix if prev else None,
                prev.last_rename_at if prev else None,
                decision,
                now,
            )
            if renamed:
                await self.renamer.set_part(channel_id, "status", decision.suffix)
                renames += 1
            save = self._save(channel_id, guild_id, decision, prev, renamed, now, len(observations))
            if not _unchanged(save, prev):  # decided_at: when the channel's decision last changed
                saves.append(save)
            if trace.isEnabledFor(logging.INFO):
                trace.info(
                    json.dumps({"channel": channel_id, "decision": dataclasses.asdict(decision), "renamed": renamed})
                )
        # At most three statements on the writer, each committed on its own: a pass cut short
        # is repaired by the next one (all of this is recomputed every pass)
        async with self.db.write() as conn:
            await queries.voice_status.refresh_watch(conn, updated_at=now)
            if changes.removed or changes.cleared or self._passes_since_prune >= FULL_PRUNE_EVERY:
                await queries.voice_status.prune_watch(conn)
                self._passes_since_prune = 0
            if saves:
                await queries.voice_status.save_channel_statuses(conn, saves)
        self._passes_since_prune += 1
        return PassReport(len(monitored), len(wanted), renames, len({p.steam_id for p in presence}))

    async def _read_before(
        self, guilds: list[int], now: int
    ) -> tuple[dict[int, ChannelStatus], dict[int, tuple[int, int]], list[int]]:
        """On a reader, before anything is written: the previous decisions and scratch rows of
        the guilds this process passes (only its passes write them: the lease), and the guilds
        whose rows nobody passes any more."""
        previous: dict[int, ChannelStatus] = {}
        known: dict[int, tuple[int, int]] = {}
        async with self.db.read() as conn:
            for guild in guilds:
                for status in await queries.voice_status.list_channel_status(conn, guild_id=guild):
                    previous[status.channel_id] = status
                for row in await queries.voice_status.list_voice_members(conn, guild_id=guild):
                    known[row.user_id] = (guild, row.channel_id)
            with_rows = await queries.voice_status.list_voice_member_guilds(conn, now=now)
        # without leases this is the only process: a guild it does not pass has nobody passing it
        stale = [g.guild_id for g in with_rows if g.guild_id not in guilds and not (g.passed and self.leases)]
        return previous, known, stale

    async def _write_scratch(self, changes: ScratchChanges) -> None:
        async with self.db.transaction() as conn:
            if changes.cleared:
                await queries.voice_status.clear_guild_voice_members(conn, changes.cleared)
            if changes.removed:
                await queries.voice_status.remove_voice_members(conn, changes.removed)
            if changes.added:
                await queries.voice_status.add_voice_members(conn, changes.added)

    @staticmethod
    def _save(
        channel_id: int,
        guild_id: int,
        decision: Decision,
        prev: ChannelStatus | None,
        renamed: bool,
        now: int,
        with_presence: int,
    ) -> SaveChannelStatusesParams:
        """What the channel shows now (the decision if it was applied, else what it showed) and
        why (the latest decision, for `!dlvs snapshot`)."""
        detail = json.dumps({"wanted": dataclasses.asdict(decision), "members_with_presence": with_presence})
        if renamed or prev is None:
            return {
                "channel_id": channel_id, "guild_id": guild_id, "state": decision.state, "suffix": decision.suffix,
                "match_minutes": decision.minutes, "players": decision.players, "slots": decision.slots,
                "last_rename_at": now if renamed else None, "decided_at": now, "detail": detail,
            }  # fmt: skip
        return {
            "channel_id": channel_id, "guild_id": guild_id, "state": prev.state, "suffix": prev.suffix,
            "match_minutes": prev.match_minutes, "players": prev.players, "slots": prev.slots,
            "last_rename_at": prev.last_rename_at, "decided_at": now, "detail": detail,
        }  # fmt: skip

    async def snapshot(self, channel_id: int) -> ChannelStatus | None:
        async with self.db.read() as conn:
            return await queries.voice_status.get_channel_status(conn, channel_id=channel_id)

    async def statuses(self, guild_id: int) -> list[ChannelStatus]:
        async with self.db.read() as conn:
            return await queries.voice_status.list_channel_status(conn, guild_id=guild_id)


@dataclasses.dataclass(frozen=True)
class ScratchChanges:
    """What the pass writes to voice_status_members: only what changed since the last pass."""

    added: list[AddVoiceMembersParams]
    removed: list[RemoveVoiceMembersParams]
    cleared: list[ClearGuildVoiceMembersParams]

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.cleared)


def _scratch_changes(
    wanted: dict[int, tuple[int, int]], known: dict[int, tuple[int, int]], stale: list[int], now: int
) -> ScratchChanges:
    """member -> (guild, channel) now and as the last pass of these guilds left it."""
    return ScratchChanges(
        added=[
            {"user_id": m, "guild_id": g, "channel_id": c, "seen_at": now}
            for m, (g, c) in wanted.items()
            if known.get(m) != (g, c)
        ],
        removed=[{"user_id": m, "guild_id": g} for m, (g, _c) in known.items() if m not in wanted],
        cleared=[{"guild_id": g} for g in stale],
    )


def _presence(p: PresenceRow) -> Presence:
    return Presence(
        p.user_id,
        p.steam_id,
        p.in_match_now_strict,
        p.in_deadlock_now,
        p.deadlock_stage,
        p.deadlock_minutes,
        p.deadlock_localized,
        p.deadlock_party_hint,
        p.last_server_id,
        p.deadlock_updated_at or p.last_seen_ts,
    )


def _unchanged(save: SaveChannelStatusesParams, prev: ChannelStatus | None) -> bool:
    """The row would say what it says already (but for decided_at)."""
    if prev is None:
        return False
    return all(getattr(prev, k) == v for k, v in save.items() if k != "decided_at")

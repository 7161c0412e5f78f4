"""The live voice status pass: who is in voice, what the Steam presence says, which suffix.

One pass (every 60 s by default, and a few seconds after a member joined or left a
monitored channel: see the cog) runs in ONE transaction with a fixed number of
statements, however many members are in voice: the old scratch rows go with one batch
delete, the members go into voice_status_members with one batch insert, their presence
comes back with one join, the watch list for the Node presence service is refreshed and
pruned with one statement each (also when no channel is monitored), and the decisions are
saved with one batch: BEGIN, 6 statements, COMMIT. The previous decisions are read before
it, on a reader (only this pass writes them: the lease), so the writer is not held for
them. The suffix goes to the shared rename scheduler as the "status" part of the name.

A guild's pass must run in exactly one process: with several bot processes on one
database, each guild's pass runs under the lease "voice_status:<guild id>" (see
bot.shared.coordination), so only one process renames a guild's channels. The scratch rows are
cleared per guild, so the rows of guilds another process passes stay for its pass.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import defaultdict

from bot.db.queries import (
    AddVoiceMembersParams,
    ChannelStatus,
    ClearVoiceMembersParams,
    SaveChannelStatusesParams,
    queries,
)
from bot.features.voice_status.rules import Decision, Presence, best_per_member, decide, may_rename
from bot.shared.common import humans_in
from bot.shared.coordination import LeaseKeeper
from bot.shared.deps import Deps

log = logging.getLogger(__name__)

#: scratch rows nobody refreshed for this many intervals belong to no running pass
STALE_PASSES = 3


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
        rows: list[AddVoiceMembersParams] = [
            {"user_id": m, "guild_id": guild, "channel_id": channel, "seen_at": now}
            for channel, (guild, members) in monitored.items()
            for m in dict.fromkeys(members)
        ]
        renames = 0
        previous: dict[int, ChannelStatus] = {}
        if guilds:  # written only by the passes of the lease holder, this process: read them outside
            async with self.db.read() as rconn:
                for guild in guilds:
                    for status in await queries.voice_status.list_channel_status(rconn, guild_id=guild):
                        previous[status.channel_id] = status
        stale = now - STALE_PASSES * self.config.interval_seconds
        clears: list[ClearVoiceMembersParams] = [{"guild_id": g, "seen_before": stale} for g in guilds]
        async with self.db.transaction() as conn:
            await queries.voice_status.clear_voice_members(conn, clears or [{"guild_id": 0, "seen_before": stale}])
            if rows:
                await queries.voice_status.add_voice_members(conn, rows)
            presence = await queries.voice_status.list_presence(conn)
            await queries.voice_status.refresh_watch(conn, updated_at=now)
            await queries.voice_status.prune_watch(conn)
            by_channel: dict[int, list[Presence]] = defaultdict(list)
            for p in presence:
                by_channel[p.channel_id].append(
                    Presence(
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
                )
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
                saves.append(self._save(channel_id, guild_id, decision, prev, renamed, now, len(observations)))
                trace.info(
                    json.dumps({"channel": channel_id, "decision": dataclasses.asdict(decision), "renamed": renamed})
                )
            if saves:
                await queries.voice_status.save_channel_statuses(conn, saves)
            watched = len({p.steam_id for p in presence})
        return PassReport(len(monitored), len(rows), renames, watched)

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

"""The team balancer: rank-balanced teams, match channels, moves, and persisted matches.

Matches live in the database (id sequence, state, channels, players with the rank they had
at the start), so `end` and `cleanup` find them after a restart, and a persisted timer
cleans up matches nobody ended. Creating, moving and ending need a host (a configured host
role, Manage Channels or Administrator); a preview only needs to be in the channel.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import random
from collections.abc import Sequence

from bot.db.queries import Match, queries
from bot.discord_glue.ports import MemberInfo, NotFound, PortError, VoiceMove
from bot.features.balancer import texts
from bot.features.balancer.ratings import Rating, Standing
from bot.features.balancer.rules import MIN_PLAYERS, Player, Split, balance, player_from
from bot.shared.common import KeyedLocks, Reply, humans_in, is_valid_id
from bot.shared.coordination import EventClaims
from bot.shared.deps import Deps
from bot.shared.timers import TimerFired

log = logging.getLogger(__name__)
T = texts.Balancer
STALE_EVENT = "balancer_stale_match"
CATEGORY_LIMIT = 50


@dataclasses.dataclass(frozen=True)
class BalancerConfig:
    #: where team and debrief channels go: the first category with room (50 channels each)
    match_category_ids: tuple[int, ...]
    host_role_ids: frozenset[int] = frozenset()
    stale_after_seconds: int = 6 * 3600
    #: rated matches after which a player is balanced by their rating instead of their rank
    #: (also the minimum to appear in `!balance top`)
    rated_games: int = 5


@dataclasses.dataclass(frozen=True)
class MatchReport:
    match_id: int
    split: Split
    team_a_channel: int
    team_b_channel: int
    moved: tuple[int, ...]
    not_in_voice: tuple[int, ...]

    @property
    def label(self) -> str:
        return match_label(self.match_id)


def match_label(match_id: int) -> str:
    return f"{match_id:03d}"


class MatchService:
    def __init__(
        self, deps: Deps, config: BalancerConfig, *, rng: random.Random | None = None, events: EventClaims | None = None
    ) -> None:
        self.db = deps.db
        self.actions = deps.actions
        self.view = deps.view
        self.ranks = deps.ranks
        self.timers = timers = deps.timers
        self.config = config
        self.clock = deps.clock
        self.rng = rng or random.Random()
        #: starts are claimed by their Discord event: two processes seeing it create one match
        self.events = events or EventClaims(deps.db, clock=self.clock)
        self._locks = KeyedLocks()
        self._creating: collections.Counter[int] = collections.Counter()  # channels being created per category
        timers.register(STALE_EVENT, self._on_stale)

    # -- who may do what ----------------------------------------------------------------

    def is_host(self, member: MemberInfo | None) -> bool:
        if member is None:
            return False
        return member.manage_channels or member.administrator or bool(set(member.role_ids) & self.config.host_role_ids)

    async def players(self, guild_id: int, member_ids: Sequence[int]) -> list[Player]:
        out = []
        for position, member_id in enumerate(member_ids):
            info = self.view.member(guild_id, member_id)
            if info is not None and info.is_bot:
                continue
            rank = await self.ranks.rank_of(guild_id, member_id)
            async with self.db.read() as conn:
                stored = await queries.balancer.get_rating(conn, guild_id=guild_id, user_id=member_id)
            standing = Standing(Rating(stored.mu, stored.sigma), stored.games, stored.wins) if stored else None
            out.append(
                player_from(member_id, rank, standing, rated_games=self.config.rated_games, waiting_since=position)
            )
        return out

    def _take_category(self, needed: int) -> int | None:
        """A match category with room for `needed` more channels; the room is held until released."""
        for category in self.config.match_category_ids:
            if self.view.channels_in_category(category) + self._creating[category] + needed <= CATEGORY_LIMIT:
                self._creating[category] += needed
                return category
        return None

    def _release_category(self, category: int, count: int) -> None:
        self._creating[category] -= count
        if self._creating[category] <= 0:
            del self._creating[category]

    # -- preview and start ---------------------------------------------------------------

    async def preview(self, guild_id: int, actor_id: int) -> Split | Reply:
        """`!balance auto`: the split for the caller's voice channel; nothing is created."""
        channel = self.view.voice_channel_of(guild_id, actor_id)
        if channel is None:
            return Reply(False, T.NOT_IN_VOICE)
        players = await self.players(guild_id, humans_in(self.view, channel))
        if len(players) < MIN_PLAYERS:
            return Reply(False, T.TOO_FEW.format(count=len(players)))
        return balance(players, self.rng)

    async def start(
        self,
        guild_id: int,
        actor_id: int,
        member_ids: Sequence[int] | None = None,
        *,
        bench: Sequence[int] = (),
        event_id: int | None = None,
        preset: Split | None = None,
    ) -> MatchReport | Reply:
        """`!balance start` (the caller's voice channel) or `manual` (listed members): create the match.

        `event_id` is the command's message or interaction id: when several processes see the
        same command, the first to claim it starts the match; the others get a silent Reply.
        `preset`: the teams of a preview (rerolled or swapped by the host) instead of a new split."""
        if not self.is_host(self.view.member(guild_id, actor_id)):
            return Reply(False, T.NO_PERMISSION)
        elsewhere = await self.events.gate(event_id, "balance_start")
        if elsewhere is not None:
            return elsewhere
        if not self.config.match_category_ids:
            return Reply(False, T.NO_CATEGORY)
        origin = self.view.voice_channel_of(guild_id, actor_id)
        if preset is not None:
            member_ids = [p.id for p in (*preset.team_a, *preset.team_b, *preset.bench)]
        if member_ids is None:
            if origin is None:
                return Reply(False, T.NOT_IN_VOICE)
            member_ids = humans_in(self.view, origin)
        players = await self.players(guild_id, list(dict.fromkeys(member_ids)))
        if len([p for p in players if p.id not in set(bench)]) < MIN_PLAYERS:
            return Reply(False, T.TOO_FEW.format(count=len(players)))
        seed = self.rng.randrange(2**31)
        split = preset or balance(players, random.Random(seed), host_bench=bench)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            match_id = await queries.balancer.create_match(
                conn, guild_id=guild_id, host_id=actor_id, origin_channel_id=origin, seed=seed, started_at=now
            )
            ranks = {p.id: await self.ranks.rank_of(guild_id, p.id) for p in players}
            roster = [(p, "amber") for p in split.team_a] + [(p, "sapphire") for p in split.team_b]
            roster += [(p, "bench") for p in split.bench]
            await queries.balancer.add_match_players(
                conn,
                [
                    {"match_id": match_id, "user_id": p.id, "team": team, "rank_value": ranks[p.id].value,
                     "rank_subtier": ranks[p.id].subtier, "rank_name": ranks[p.id].name}
                    for p, team in roster
                ],
            )  # fmt: skip
        label = match_label(match_id)
        created: list[int] = []
        category = self._take_category(2)
        try:
            if category is None:
                raise PortError("every match category is full")
            for name in (T.TEAM_A.format(id=label), T.TEAM_B.format(id=label)):
                created.append(
                    await self.actions.create_voice_channel(
                        guild_id,
                        category_id=category,
                        name=name,
                        user_limit=0,
                        bitrate=self.view.bitrate_limit(guild_id),
                        overwrites={},
                        reason=f"Balancer: Match {label}",
                    )
                )
        except PortError as e:
            log.warning("creating the channels of match %s failed: %s", match_id, e)
            for channel in created:
                await self._delete(channel)
            async with self.db.transaction() as conn:
                await queries.balancer.finish_match(
                    conn, match_id=match_id, state="cancelled", winner=None, ended_at=self.clock.now()
                )
            return Reply(False, T.CREATE_FAILED)
        finally:
            if category is not None:
                self._release_category(category, 2)
        team_a, team_b = created
        async with self.db.transaction() as conn:
            await queries.balancer.set_match_channels(
                conn, match_id=match_id, team_a_channel_id=team_a, team_b_channel_id=team_b
            )
        await self.timers.schedule(STALE_EVENT, str(match_id), now + self.config.stale_after_seconds)
        moved, absent = [], []
        for players_of, channel in ((split.team_a, team_a), (split.team_b, team_b)):
            for p in players_of:
                if self.view.voice_channel_of(guild_id, p.id) is None:
                    absent.append(p.id)
                    continue
                try:
                    await self.actions.move_member(guild_id, p.id, channel, reason=f"Balancer: Match {label}")
                    moved.append(p.id)
                except PortError:
                    absent.append(p.id)
        return MatchReport(match_id, split, team_a, team_b, tuple(moved), tuple(absent))

    # -- end, cleanup --------------------------------------------------------------------

    async def _delete(self, channel_id: int | None) -> None:
        if channel_id is None:
            return
        try:
            await self.actions.delete_channel(channel_id, reason="Balancer: Match vorbei")
        except NotFound:
            pass
        except PortError as e:
            log.warning("deleting match channel %s failed: %s", channel_id, e)

    async def _running(self, guild_id: int, match_id: int) -> Match | None:
        async with self.db.read() as conn:
            match = await queries.balancer.get_match(conn, match_id=match_id)
        if match is None or match.guild_id != guild_id or match.state not in ("active", "debrief"):
            return None
        return match

    async def end(self, guild_id: int, actor_id: int, match_id: int, *, skip_debrief: bool = False) -> Reply:
        if not self.is_host(self.view.member(guild_id, actor_id)):
            return Reply(False, T.NO_PERMISSION)
        if not is_valid_id(match_id):  # a number beyond any id names no match
            return Reply(False, T.NO_MATCH.format(id=match_label(match_id)))
        async with self._locks(("match", match_id)):
            match = await self._running(guild_id, match_id)
            if match is None or match.state != "active":
                return Reply(False, T.NO_MATCH.format(id=match_label(match_id)))
            label = match_label(match_id)
            team_channels = [c for c in (match.team_a_channel_id, match.team_b_channel_id) if c is not None]
            debrief = None
            category = None if skip_debrief else self._take_category(1)
            if category is not None:
                try:
                    debrief = await self.actions.create_voice_channel(
                        guild_id, category_id=category, name=T.DEBRIEF.format(id=label),
                        user_limit=0, bitrate=self.view.bitrate_limit(guild_id), overwrites={},
                        reason=f"Balancer: Nachbesprechung {label}",
                    )  # fmt: skip
                except PortError as e:
                    log.warning("creating the debrief of match %s failed: %s", match_id, e)
                finally:
                    self._release_category(category, 1)
            moved = 0  # a successful move is the truth; the cache learns of it later (or never)
            if debrief is not None:
                async with self.db.transaction() as conn:
                    await queries.balancer.start_debrief(conn, match_id=match_id, debrief_channel_id=debrief)
                for member in await self._members_in(guild_id, match_id, team_channels):
                    with contextlib.suppress(PortError):  # they may have left meanwhile
                        await self.actions.move_member(guild_id, member, debrief, reason="Balancer: Nachbesprechung")
                        moved += 1
            for channel in team_channels:
                await self._delete(channel)
            if debrief is None or not moved:
                await self._delete(debrief)
                await self._finish(match_id, "ended")
                return Reply(True, T.ENDED.format(id=label))
        return Reply(True, T.ENDED_DEBRIEF.format(id=label, channel=f"<#{debrief}>"))

    async def _finish(self, match_id: int, state: str) -> None:
        async with self.db.transaction() as conn:
            await queries.balancer.finish_match(
                conn, match_id=match_id, state=state, winner=None, ended_at=self.clock.now()
            )
        await self.timers.cancel(STALE_EVENT, str(match_id))

    async def _teardown(self, match: Match, state: str) -> None:
        async with self._locks(("match", match.match_id)):
            fresh = await self._running(match.guild_id, match.match_id)
            if fresh is None:
                return
            for channel in (fresh.team_a_channel_id, fresh.team_b_channel_id, fresh.debrief_channel_id):
                await self._delete(channel)
            await self._finish(fresh.match_id, state)

    async def cleanup(self, guild_id: int, actor_id: int, hours: int = 2) -> Reply:
        """`!balance cleanup [hours]`: cancel running matches older than that, channels and all."""
        if not self.is_host(self.view.member(guild_id, actor_id)):
            return Reply(False, T.NO_PERMISSION)
        hours = max(1, min(24, hours))
        cutoff = self.clock.now() - hours * 3600
        async with self.db.read() as conn:
            old = [
                m
                for m in await queries.balancer.list_running_matches(conn, guild_id=guild_id)
                if m.started_at <= cutoff
            ]
        for match in old:
            await self._teardown(match, "cancelled")
        return Reply(True, T.CLEANED.format(count=len(old)))

    async def _on_stale(self, fired: TimerFired) -> None:
        async with self.db.read() as conn:
            match = await queries.balancer.get_match(conn, match_id=int(fired.key))
        if match is not None and match.state in ("active", "debrief"):
            log.info("match %s was never ended: cleaning it up", match.match_id)
            await self._teardown(match, "cancelled")

    async def _members_in(self, guild_id: int, match_id: int, channels: Sequence[int]) -> list[int]:
        """Who is in these channels: the cache, plus the match's players a fresh fetch finds
        there (the voice events of the bot's own moves may come late, or never)."""
        found = [m for c in channels for m in self.view.voice_members(c)]
        async with self.db.read() as conn:
            players = [p.user_id for p in await queries.balancer.list_match_players(conn, match_id=match_id)]
        for player in players:
            if player not in found and self.view.voice_channel_of(guild_id, player) not in channels:
                with contextlib.suppress(PortError):
                    if await self.actions.fetch_voice_channel(guild_id, player) in channels:
                        found.append(player)
        return found

    async def on_voice_move(self, move: VoiceMove) -> None:
        """The last member leaving a debrief channel ends the match."""
        if move.before is None or move.before == move.after or self.view.voice_members(move.before):
            return
        async with self.db.read() as conn:
            running = await queries.balancer.list_running_matches(conn, guild_id=move.guild_id)
        for match in running:
            if match.state == "debrief" and match.debrief_channel_id == move.before:
                inside = await self._members_in(move.guild_id, match.match_id, [move.before])
                if not [m for m in inside if m != move.member_id]:  # an event or a fetch says: empty
                    await self._teardown(match, "ended")

    async def running(self, guild_id: int) -> list[Match]:
        async with self.db.read() as conn:
            return await queries.balancer.list_running_matches(conn, guild_id=guild_id)

    async def roster(self, match_id: int) -> dict[str, list[int]]:
        async with self.db.read() as conn:
            players = await queries.balancer.list_match_players(conn, match_id=match_id)
        out: dict[str, list[int]] = {"amber": [], "sapphire": [], "bench": []}
        for p in players:
            out[p.team].append(p.user_id)
        return out

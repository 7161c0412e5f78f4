"""One owner of the connect and view bits of permission overwrites (like names: composed).

Several features decide who may connect to (or see) the same channel: TempVoice's bans,
region and min rank, rank voice's window, a lane's lock or hide. If each wrote its bits
straight to Discord, the last writer would erase the others' (setting or clearing a min
rank used to put rank voice's explicit allows back to "inherit"). Instead every feature
tells the composer its *wish* and the composer writes the merged overwrite.

API (every call writes the merged result through the DiscordActions port at once, and
keeps the wishes in the database so a restart keeps them):

    composer.set_wish(channel_id, feature, target, bit, True | False | None)
        one explicit allow (True) or deny (False) of one bit ("connect" or "view_channel")
        for one target (a role, @everyone being the role whose id is the guild's, or a
        member); None withdraws the feature's wish.
    composer.set_wishes(channel_id, feature, {(target, bit): bool, ...})
        replaces all of the feature's explicit wishes on the channel at once.
    composer.set_gate(channel_id, feature, admitted_role_ids | None)
        the feature lets only these roles connect; None lifts its gate.
    composer.clear(channel_id, feature)      the feature's wishes and gate go.
    composer.reapply(channel_id)             write the merged result again (at start).
    composer.forget_channel(channel_id)      the channel is gone: drop its rows.
    composer.merged(channel_id)              the merged bits, for inspection.

`feature` is a short stable name ("tempvoice.ban", "rank_voice", ...): one feature's wishes
never touch another's. Call it holding the channel's shared lock
(`SharedLocks(db, CHANNEL_LOCKS)`, bot/shared/coordination.py) like TempVoice and rank voice
do: the composer's own lock is this process's only, and with several bot processes on one
PostgreSQL database the shared lock makes them take turns on a channel. (A composer also
writes again when the wishes changed while it wrote, which settles most overlaps anyway.)

Merge rules (pure: `merge()`):

1. Explicit wishes on the same target and bit: a deny wins over an allow (a ban's member
   deny beats any allow; a member overwrite beats role overwrites in Discord anyway, so a
   banned member stays out of a channel whose gate admits their rank).
2. Gates combine: while at least one gate is on, @everyone may not connect (deny), and a
   role gets an explicit connect allow only when *every* gate admits it (min rank 4 and a
   rank voice window 3..5 admit ranks 4 and 5). Lifting one gate leaves the others' allows.
3. Members without an admitted role (also members without any rank role) are kept out of a
   gated channel: one rule for min rank and rank voice. A member's own explicit allow (a
   permit) still lets them in; a deny (a ban) still keeps them out.
4. While @everyone is denied connect or view on a channel, the bot's own member gets an
   explicit allow of those bits, so it can always move people in and edit the channel.
5. Bits nobody wishes anything for are left as they are. Before the first wish for a bit,
   the composer remembers the bit's value (its baseline); when the last wish goes, the
   baseline is put back (a category-synced @everyone deny stays a deny).

Only the two bits above are managed; every other bit of an overwrite is kept.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Iterable, Mapping

from bot.db import Database
from bot.db.queries import GateRole, OverwriteWish, queries
from bot.discord_glue.ports import DiscordActions, GuildView, NotFound, Overwrite, PortError, Target, TargetKind
from bot.shared.common import KeyedLocks

log = logging.getLogger(__name__)

CONNECT = "connect"
VIEW = "view_channel"
BITS = (CONNECT, VIEW)

Key = tuple[Target, str]  # (target, bit)
APPLY_ROUNDS = 5


@dataclasses.dataclass(frozen=True)
class Wish:
    feature: str
    target: Target
    bit: str
    allow: bool


def merge(
    wishes: Iterable[Wish], gates: Mapping[str, frozenset[int]], *, everyone: Target, me: Target
) -> dict[Key, bool]:
    """The bits to write, by the rules in this module's docstring (absent key: not managed)."""
    votes: dict[Key, list[bool]] = collections.defaultdict(list)
    for wish in wishes:
        votes[(wish.target, wish.bit)].append(wish.allow)
    if gates:
        votes[(everyone, CONNECT)].append(False)
        admitted = frozenset.intersection(*gates.values())
        for role_id in admitted:
            votes[(Target(TargetKind.ROLE, role_id), CONNECT)].append(True)
    merged = {key: all(values) for key, values in votes.items()}
    for bit in BITS:
        if merged.get((everyone, bit)) is False:
            merged[(me, bit)] = True
    return merged


def _kind(target: Target) -> str:
    return target.kind.value


def _target(kind: str, target_id: int) -> Target:
    return Target(TargetKind(kind), target_id)


def _stored(value: bool | None) -> int | None:
    return None if value is None else int(value)


class OverwriteComposer:
    def __init__(self, db: Database, actions: DiscordActions, view: GuildView) -> None:
        self.db = db
        self.actions = actions
        self.view = view
        self._locks = KeyedLocks()
        #: what this process last wrote per channel and target: the cache lags behind our own edits
        self._written: dict[int, dict[Target, Overwrite]] = {}
        #: the keys this process last wrote composed per channel; one without its baseline row
        #: now was put back by another process, and what we remember of its target is stale
        self._composed: dict[int, set[Key]] = {}

    # -- what features call --------------------------------------------------------------

    async def set_wish(
        self, channel_id: int, feature: str, target: Target, bit: str, value: bool | None, *, reason: str
    ) -> None:
        _check_bit(bit)
        async with self._locks(channel_id):
            if value is None and not await self._has(channel_id, feature, (target, bit)):
                return  # withdrawing a wish that was never made: a read, no write
            async with self.db.transaction() as conn:
                if value is None:
                    changed = await queries.core.delete_overwrite_wish(
                        conn, channel_id=channel_id, feature=feature, target_kind=_kind(target),
                        target_id=target.id, bit=bit,
                    )  # fmt: skip
                else:
                    changed = await queries.core.upsert_overwrite_wish(
                        conn, channel_id=channel_id, feature=feature, target_kind=_kind(target),
                        target_id=target.id, bit=bit, allow=int(value),
                    )  # fmt: skip
            if changed:
                await self._apply(channel_id, reason)

    async def set_wishes(self, channel_id: int, feature: str, wishes: Mapping[Key, bool], *, reason: str) -> None:
        for _, bit in wishes:
            _check_bit(bit)
        async with self._locks(channel_id):
            if not wishes and not await self._has(channel_id, feature):
                return  # nothing wished, nothing before: a read, no write
            async with self.db.transaction() as conn:
                dropped = await queries.core.delete_feature_wishes(conn, channel_id=channel_id, feature=feature)
                for (target, bit), allow in sorted(wishes.items(), key=lambda kv: (_kind(kv[0][0]), kv[0][0].id)):
                    await queries.core.upsert_overwrite_wish(
                        conn, channel_id=channel_id, feature=feature, target_kind=_kind(target),
                        target_id=target.id, bit=bit, allow=int(allow),
                    )  # fmt: skip
            if dropped or wishes:
                await self._apply(channel_id, reason)

    async def set_gate(self, channel_id: int, feature: str, admitted: Iterable[int] | None, *, reason: str) -> None:
        async with self._locks(channel_id):
            if admitted is None and not await self._has_gate(channel_id, feature):
                return  # no gate, and none before: a read, no write
            async with self.db.transaction() as conn:
                await queries.core.delete_overwrite_gate(conn, channel_id=channel_id, feature=feature)
                if admitted is not None:
                    await queries.core.insert_overwrite_gate(conn, channel_id=channel_id, feature=feature)
                    for role_id in sorted(set(admitted)):
                        await queries.core.insert_gate_role(
                            conn, channel_id=channel_id, feature=feature, role_id=role_id
                        )
            await self._apply(channel_id, reason)

    async def clear(self, channel_id: int, feature: str, *, reason: str) -> None:
        async with self._locks(channel_id):
            async with self.db.transaction() as conn:
                dropped = await queries.core.delete_feature_wishes(conn, channel_id=channel_id, feature=feature)
                dropped += await queries.core.delete_overwrite_gate(conn, channel_id=channel_id, feature=feature)
            if dropped:
                await self._apply(channel_id, reason)

    async def reapply(self, channel_id: int, *, reason: str) -> None:
        async with self._locks(channel_id):
            await self._apply(channel_id, reason)

    async def forget_channel(self, channel_id: int) -> None:
        async with self._locks(channel_id):
            async with self.db.transaction() as conn:
                await queries.core.delete_channel_overwrites(conn, channel_id=channel_id)
                await queries.core.delete_channel_gates(conn, channel_id=channel_id)
                await queries.core.delete_channel_baselines(conn, channel_id=channel_id)
            self._written.pop(channel_id, None)
            self._composed.pop(channel_id, None)

    async def _has(self, channel_id: int, feature: str, key: Key | None = None) -> bool:
        """Whether the feature wishes anything (or this `key`) on the channel."""
        async with self.db.read() as conn:
            rows = await queries.core.list_overwrite_wishes(conn, channel_id=channel_id)
        return any(
            r.feature == feature and (key is None or (_target(r.target_kind, r.target_id), r.bit) == key) for r in rows
        )

    async def _has_gate(self, channel_id: int, feature: str) -> bool:
        async with self.db.read() as conn:
            gates = await queries.core.list_overwrite_gates(conn, channel_id=channel_id)
        return any(g.feature == feature for g in gates)

    async def merged(self, channel_id: int) -> dict[Key, bool]:
        channel = self.view.channel(channel_id)
        if channel is None:
            return {}
        async with self.db.read() as conn:
            rows = await queries.core.list_overwrite_wishes(conn, channel_id=channel_id)
            gate_rows = await queries.core.list_overwrite_gates(conn, channel_id=channel_id)
        return self._merge(channel.guild_id, rows, gate_rows)

    # -- composing and writing ------------------------------------------------------------

    def _merge(self, guild_id: int, rows: Iterable[OverwriteWish], gate_rows: Iterable[GateRole]) -> dict[Key, bool]:
        wishes = [Wish(r.feature, _target(r.target_kind, r.target_id), r.bit, bool(r.allow)) for r in rows]
        gates: dict[str, set[int]] = {}
        for g in gate_rows:
            admitted = gates.setdefault(g.feature, set())
            if g.role_id is not None:
                admitted.add(g.role_id)
        everyone = Target(TargetKind.ROLE, self.view.everyone_role_id(guild_id))
        me = Target(TargetKind.MEMBER, self.view.own_member_id(guild_id))
        return merge(wishes, {f: frozenset(r) for f, r in gates.items()}, everyone=everyone, me=me)

    def _cached(self, channel_id: int, target: Target) -> Overwrite:
        channel = self.view.channel(channel_id)
        return channel.overwrites.get(target, Overwrite()) if channel else Overwrite()

    def _last_known(self, channel_id: int, target: Target) -> Overwrite:
        """What this process last wrote, else the cache (which lags behind our own edits)."""
        written = self._written.get(channel_id, {})
        return written[target] if target in written else self._cached(channel_id, target)

    async def _apply(self, channel_id: int, reason: str) -> None:
        """Write the merged wishes; again if another bot process changed them meanwhile (the
        lock here is this process's only), until what was written is what the database says."""
        for _ in range(APPLY_ROUNDS):
            written = await self._apply_once(channel_id, reason)
            if written is None or written == await self.merged(channel_id):
                return
        log.warning("the permission wishes of channel %s kept changing; the next change writes them", channel_id)

    async def _apply_once(self, channel_id: int, reason: str) -> dict[Key, bool] | None:
        channel = self.view.channel(channel_id)
        if channel is None:
            return None
        async with self.db.transaction() as conn:
            # baselines before wishes: a baseline is written after its wish, so (even when each
            # statement sees the latest commits, as on PostgreSQL) a baseline seen has its wish seen
            baselines: dict[Key, bool | None] = {
                (_target(b.target_kind, b.target_id), b.bit): None if b.allow is None else bool(b.allow)
                for b in await queries.core.list_overwrite_baselines(conn, channel_id=channel_id)
            }
            rows = await queries.core.list_overwrite_wishes(conn, channel_id=channel_id)
            gate_rows = await queries.core.list_overwrite_gates(conn, channel_id=channel_id)
            merged = self._merge(channel.guild_id, rows, gate_rows)
            self._forget_restored_elsewhere(channel_id, baselines.keys())
            for target, bit in merged.keys() - baselines.keys():
                value = self._last_known(channel_id, target).bit(bit)
                baselines[(target, bit)] = value
                await queries.core.insert_overwrite_baseline(
                    conn, channel_id=channel_id, target_kind=_kind(target), target_id=target.id, bit=bit,
                    allow=_stored(value),
                )  # fmt: skip
        restored = baselines.keys() - merged.keys()
        ok = await self._write(channel_id, merged, {k: baselines[k] for k in restored}, reason)
        self._composed[channel_id] = set(merged)
        if ok and restored:
            async with self.db.transaction() as conn:
                for target, bit in restored:
                    await queries.core.delete_overwrite_baseline(
                        conn, channel_id=channel_id, target_kind=_kind(target), target_id=target.id, bit=bit
                    )
        return merged

    def _forget_restored_elsewhere(self, channel_id: int, with_baseline: Iterable[Key]) -> None:
        """Drop what this process remembers writing to a target whose composed bit another
        process has put back since (its baseline row is gone): the baseline taken next must
        come from Discord, not from our stale write (which would put a wish back as the baseline)."""
        gone = self._composed.get(channel_id, set()) - set(with_baseline)
        written = self._written.get(channel_id, {})
        for target, _ in gone:
            written.pop(target, None)

    async def _write(
        self, channel_id: int, merged: Mapping[Key, bool], restored: Mapping[Key, bool | None], reason: str
    ) -> bool:
        """Write every target whose overwrite changes; False when Discord refused one."""
        bits: dict[Target, dict[str, bool | None]] = collections.defaultdict(dict)
        for (target, bit), value in [*restored.items(), *merged.items()]:
            bits[target][bit] = value
        ok = True
        for target in sorted(bits, key=lambda t: (t.kind.value, t.id)):
            cached = wanted = self._cached(channel_id, target)  # other bits: as they are
            for bit, value in bits[target].items():
                wanted = wanted.with_bit(bit, value)
            if wanted == cached and self._written.get(channel_id, {}).get(target, wanted) == wanted:
                continue  # written already, and nobody changed it since (as far as the cache shows)
            try:
                await self.actions.set_overwrite(channel_id, target, None if wanted.is_empty else wanted, reason=reason)
            except NotFound:
                return False  # the channel is gone; its owner forgets it
            except PortError as e:
                log.warning("permission change on channel %s for %s failed: %s", channel_id, target, e)
                ok = False
                continue
            self._written.setdefault(channel_id, {})[target] = wanted
        return ok


def _check_bit(bit: str) -> None:
    if bit not in BITS:
        raise ValueError(f"the composer manages only {BITS}, not {bit!r}")

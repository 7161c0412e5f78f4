"""Match coaching: a wizard in a private thread per session (rank, sub-rank, hero, comment).

Sessions have their own id; a user has at most one active session (a unique index), and a
new start closes the old session and its thread, so no old answer leaks into the new one.
Every step names the session it belongs to and is checked against the session's owner and
current step, in Python and again in the SQL (`... WHERE step = 'rank'`). The inactivity
timeout is a persisted timer, so it survives restarts and fires once.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.db import IntegrityError
from bot.db.queries import CoachingSession, queries
from bot.discord_glue.ports import PortError
from bot.features.coaching import texts
from bot.features.coaching.claims import ClaimNotifier
from bot.features.coaching.rules import (
    SUBRANK_LABELS,
    TIMEOUT_SECONDS,
    StepRefused,
    clean_match_id,
    hero_name,
    transition,
    valid_answer,
)
from bot.shared.common import KeyedLocks, Reply
from bot.shared.coordination import EventClaims
from bot.shared.deps import Deps
from bot.shared.ranks import rank_from_key, rank_name
from bot.shared.timers import TimerFired

log = logging.getLogger(__name__)
T = texts.Coaching
TIMEOUT_EVENT = "coaching_timeout"


class CoachingUI(Protocol):
    """The Discord side of the wizard (implemented by the coaching cog, faked in tests)."""

    async def create_thread(self, guild_id: int, channel_id: int, user_id: int, name: str) -> int: ...

    async def post_step(self, thread_id: int, session_id: int, step: str) -> None: ...

    async def post_text(self, thread_id: int, text: str) -> None:
        """Posted with every mention disabled: user text never pings anyone."""
        ...

    async def close_thread(self, thread_id: int) -> None:
        """Archive and lock."""
        ...


class CoachingService:
    def __init__(
        self,
        deps: Deps,
        ui: CoachingUI,
        notifier: ClaimNotifier,
        *,
        timeout_seconds: int = TIMEOUT_SECONDS,
        events: EventClaims | None = None,
    ) -> None:
        self.db = deps.db
        self.ui = ui
        self.timers = timers = deps.timers
        self.notifier = notifier
        self.clock = deps.clock
        self.timeout_seconds = timeout_seconds
        #: a start is claimed by its modal submission: two processes seeing it make one session
        self.events = events or EventClaims(deps.db, clock=self.clock)
        self._locks = KeyedLocks()
        timers.register(TIMEOUT_EVENT, self._on_timeout)

    async def _session(self, session_id: int) -> CoachingSession | None:
        async with self.db.read() as conn:
            return await queries.coaching.get_session(conn, session_id=session_id)

    async def _arm_timeout(self, session_id: int) -> None:
        await self.timers.schedule(TIMEOUT_EVENT, str(session_id), self.clock.now() + self.timeout_seconds)

    async def _close(self, session: CoachingSession, reason: str, notice: str | None) -> bool:
        """Close once (the SQL only closes an active session); then tidy the thread."""
        async with self.db.transaction() as conn:
            closed = await queries.coaching.close_session(
                conn, session_id=session.session_id, close_reason=reason, closed_at=self.clock.now()
            )
        await self.timers.cancel(TIMEOUT_EVENT, str(session.session_id))
        if closed and session.thread_id is not None:
            try:
                if notice:
                    await self.ui.post_text(session.thread_id, notice)
                await self.ui.close_thread(session.thread_id)
            except PortError as e:
                log.warning("closing coaching thread %s failed: %s", session.thread_id, e)
        return bool(closed)

    # -- start -------------------------------------------------------------------------

    async def start(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        display_name: str,
        raw_match_id: str,
        *,
        event_id: int | None = None,
    ) -> tuple[Reply, int | None]:
        """The Match ID modal was submitted: a new session and its private thread.

        `event_id` is the submission's interaction id: claimed before anything else (also
        before an older session is replaced), so a second process seeing it does nothing."""
        match_id = clean_match_id(raw_match_id)
        if match_id is None:
            return Reply(False, T.MATCH_ID_INVALID), None
        elsewhere = await self.events.gate(event_id, "coaching_start")
        if elsewhere is not None:
            return elsewhere, None
        async with self._locks(("user", user_id)):
            async with self.db.read() as conn:
                old = await queries.coaching.get_active_session(conn, user_id=user_id)
            if old is not None:
                await self._close(old, "replaced", T.REPLACED)
            try:
                async with self.db.transaction() as conn:
                    session_id = await queries.coaching.create_session(
                        conn, user_id=user_id, guild_id=guild_id, match_id=match_id, created_at=self.clock.now()
                    )
            except IntegrityError:  # another process started one for this user just now
                return Reply(False, T.CLOSED), None
            try:
                thread_id = await self.ui.create_thread(
                    guild_id, channel_id, user_id, T.THREAD_NAME.format(name=display_name)[:100]
                )
            except PortError as e:
                log.warning("creating a coaching thread for %s failed: %s", user_id, e)
                session = await self._session(session_id)
                if session is not None:
                    await self._close(session, "cancelled", None)
                return Reply(False, T.THREAD_FAILED), None
            async with self.db.transaction() as conn:
                await queries.coaching.set_session_thread(
                    conn, session_id=session_id, thread_id=thread_id, updated_at=self.clock.now()
                )
            await self._arm_timeout(session_id)
            await self.ui.post_step(thread_id, session_id, "rank")
        return Reply(True, T.STARTED.format(thread=f"<#{thread_id}>")), session_id

    # -- steps -----------------------------------------------------------------------

    async def _guard(self, session_id: int, user_id: int, event: str) -> CoachingSession | Reply:
        session = await self._session(session_id)
        if session is None or not session.is_active:
            return Reply(False, T.CLOSED)
        if session.user_id != user_id:
            return Reply(False, T.NOT_YOURS)
        try:
            transition(session.step, event)
        except StepRefused:
            return Reply(False, T.WRONG_STEP)
        return session

    async def answer(self, session_id: int, user_id: int, step: str, value: str) -> Reply:
        """A rank, sub-rank, hero or comment for the session's current step."""
        async with self._locks(("session", session_id)):
            session = await self._guard(session_id, user_id, step)
            if isinstance(session, Reply):
                return session
            if not valid_answer(step, value):
                return Reply(False, T.COMMENT_INVALID if step == "comment" else T.INVALID)
            now = self.clock.now()
            async with self.db.transaction() as conn:
                if step == "rank":
                    changed = await queries.coaching.set_session_rank(
                        conn, session_id=session_id, rank=value, updated_at=now
                    )
                elif step == "subrank":
                    changed = await queries.coaching.set_session_subrank(
                        conn, session_id=session_id, subrank=value, updated_at=now
                    )
                elif step == "hero":
                    changed = await queries.coaching.set_session_hero(
                        conn, session_id=session_id, hero=value, updated_at=now
                    )
                else:
                    changed = await queries.coaching.set_session_comment(
                        conn, session_id=session_id, comment=value.strip(), updated_at=now
                    )
            if not changed:
                return Reply(False, T.WRONG_STEP)
            await self._arm_timeout(session_id)
            if session.thread_id is not None:
                following = transition(step, step)
                if following == "finish":  # the old bot showed the summary before „Abschließen“
                    answered = await self._session(session_id)
                    if answered is not None:
                        await self.ui.post_text(session.thread_id, self.summary(answered))
                await self.ui.post_step(session.thread_id, session_id, following)
        return Reply(True, T.SAVED)

    def summary(self, session: CoachingSession) -> str:
        rank_value = rank_from_key(session.rank or "")
        return T.SUMMARY.format(
            match_id=session.match_id or "–",
            rank=rank_name(rank_value) if rank_value else "–",
            subrank=SUBRANK_LABELS.get(session.subrank or "", ""),
            hero=hero_name(session.hero),
            comment=session.comment or "–",
            user=session.user_id,
        )

    async def finish(self, session_id: int, user_id: int) -> Reply:
        async with self._locks(("session", session_id)):
            session = await self._guard(session_id, user_id, "finish")
            if isinstance(session, Reply):
                return session
            if session.thread_id is not None:
                try:
                    await self.ui.post_text(session.thread_id, self.summary(session))
                except PortError as e:
                    log.warning("posting the coaching summary failed: %s", e)
            await self.notifier.notify(
                {
                    "thread_id": session.thread_id,
                    "match_id": session.match_id,
                    "rank": session.rank,
                    "subrank": session.subrank,
                    "hero": session.hero,
                    "user_id": session.user_id,
                }
            )
            await self._close(session, "finished", None)
        return Reply(True, T.FINISHED)

    async def _on_timeout(self, fired: TimerFired) -> None:
        session = await self._session(int(fired.key))
        if session is not None and session.is_active:
            async with self._locks(("session", session.session_id)):
                await self._close(session, "timeout", T.TIMEOUT)

    # -- the start message -------------------------------------------------------------

    async def panel(self, guild_id: int) -> tuple[int, int] | None:
        async with self.db.read() as conn:
            row = await queries.coaching.get_panel(conn, guild_id=guild_id)
        return (row.channel_id, row.message_id) if row else None

    async def remember_panel(self, guild_id: int, channel_id: int, message_id: int) -> None:
        async with self.db.transaction() as conn:
            await queries.coaching.set_panel(
                conn, guild_id=guild_id, channel_id=channel_id, message_id=message_id, updated_at=self.clock.now()
            )

"""Match coaching: the step table, a whole session, restarts, timeouts, the claim bot."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import struct

import pytest

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import Forbidden
from bot.features.coaching import texts
from bot.features.coaching.claims import TcpClaimNotifier
from bot.features.coaching.rules import EVENTS, STEPS, StepRefused, hero_pages, heroes, transition, valid_answer
from bot.features.coaching.service import CoachingService
from bot.shared.clock import ManualClock
from bot.shared.common import Reply
from tests.fakes.discord_world import FakeDiscord
from tests.helpers import make_deps, reopened
from tests.raw_sql import fetch_all, fetch_one


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


T = texts.Coaching
GUILD, CHANNEL = 5, 6


@dataclasses.dataclass
class FakeUI:
    threads: dict[int, list[str]] = dataclasses.field(default_factory=dict)
    closed: list[int] = dataclasses.field(default_factory=list)
    steps: list[tuple[int, int, str]] = dataclasses.field(default_factory=list)
    fail_create: bool = False
    next_id: int = 900

    async def create_thread(self, guild_id: int, channel_id: int, user_id: int, name: str) -> int:
        await asyncio.sleep(0.001)
        if self.fail_create:
            raise Forbidden("no threads here")
        self.next_id += 1
        self.threads[self.next_id] = [name]
        return self.next_id

    async def post_step(self, thread_id: int, session_id: int, step: str) -> None:
        self.steps.append((thread_id, session_id, step))

    async def post_text(self, thread_id: int, text: str) -> None:
        self.threads.setdefault(thread_id, []).append(text)

    async def close_thread(self, thread_id: int) -> None:
        self.closed.append(thread_id)


@dataclasses.dataclass
class RecordingNotifier:
    payloads: list[dict[str, object]] = dataclasses.field(default_factory=list)

    async def notify(self, payload: dict[str, object]) -> bool:
        self.payloads.append(payload)
        return True


def build(
    db: Database, clock: ManualClock | None = None
) -> tuple[CoachingService, FakeUI, RecordingNotifier, ManualClock]:
    clock = clock or ManualClock(1_000_000)
    ui, notifier = FakeUI(), RecordingNotifier()
    service = CoachingService(make_deps(db, FakeDiscord(clock), clock), ui, notifier)
    return service, ui, notifier, clock


def test_step_table() -> None:
    allowed = {
        ("rank", "rank"): "subrank", ("subrank", "subrank"): "hero", ("hero", "hero"): "comment",
        ("comment", "comment"): "finish", ("finish", "finish"): "closed",
    }  # fmt: skip
    for step in STEPS:
        for event in EVENTS:
            if (step, event) in allowed:
                assert transition(step, event) == allowed[(step, event)]
            elif step != "closed" and event in ("timeout", "cancel"):
                assert transition(step, event) == "closed"
            else:
                with pytest.raises(StepRefused):
                    transition(step, event)


def test_answers_and_heroes() -> None:
    first, second = hero_pages()
    assert len(first) + len(second) == len(heroes()) and max(len(first), len(second)) <= 25
    assert all(h.name[0] <= "M" for h in first) and all(h.name[0] > "M" for h in second)
    assert valid_answer("rank", "eternus") and not valid_answer("rank", "obscurus")
    assert valid_answer("subrank", "✶") and not valid_answer("subrank", "vi")
    assert valid_answer("hero", "lady_geist") and not valid_answer("hero", "gandalf")
    assert valid_answer("comment", "x" * 1000) and not valid_answer("comment", "x" * 1001)
    assert not valid_answer("comment", "   ")


async def run_session(service: CoachingService, user: int, match_id: str = "123") -> int:
    reply, session_id = await service.start(GUILD, CHANNEL, user, f"User {user}", match_id)
    assert reply.ok and session_id is not None
    for step, value in (("rank", "oracle"), ("subrank", "iv"), ("hero", "haze"), ("comment", "@everyone hilfe")):
        assert await service.answer(session_id, user, step, value) == Reply(True, T.SAVED)
    return session_id


async def test_a_whole_session(db: Database) -> None:
    service, ui, notifier, _ = build(db)
    session_id = await run_session(service, 42)
    session = await service._session(session_id)
    assert session is not None and session.step == "finish"
    assert [s for _, sid, s in ui.steps if sid == session_id] == ["rank", "subrank", "hero", "comment", "finish"]
    assert await service.finish(session_id, 42) == Reply(True, T.FINISHED)
    thread = session.thread_id or 0
    summary = ui.threads[thread][-1]
    assert "Match ID: 123" in summary and "Oracle IV" in summary and "Haze" in summary
    assert "@everyone hilfe" in summary  # posted through post_text: mentions disabled there
    assert ui.closed == [thread]
    assert notifier.payloads == [{"thread_id": thread, "match_id": "123", "rank": "oracle", "subrank": "iv",
                                  "hero": "haze", "user_id": 42}]  # fmt: skip
    assert await service.finish(session_id, 42) == Reply(False, T.CLOSED)


async def test_the_summary_is_shown_before_finishing(db: Database) -> None:
    service, ui, _, _ = build(db)
    session_id = await run_session(service, 42)  # every step answered, "Abschließen" not clicked yet
    session = await service._session(session_id)
    assert session is not None and session.thread_id is not None
    assert ui.threads[session.thread_id][1:] == [service.summary(session)]  # after the thread's name
    assert "Match ID: 123" in ui.threads[session.thread_id][1] and "@everyone hilfe" in ui.threads[session.thread_id][1]


async def test_each_step_is_validated(db: Database) -> None:
    service, _, _, _ = build(db)
    _, session_id = await service.start(GUILD, CHANNEL, 1, "A", "  m-77  ")
    assert session_id is not None
    assert await service.answer(session_id, 2, "rank", "oracle") == Reply(False, T.NOT_YOURS)
    assert await service.answer(session_id, 1, "hero", "haze") == Reply(False, T.WRONG_STEP)
    assert await service.answer(session_id, 1, "rank", "nope") == Reply(False, T.INVALID)
    assert await service.finish(session_id, 1) == Reply(False, T.WRONG_STEP)
    assert await service.answer(session_id, 1, "rank", "oracle") == Reply(True, T.SAVED)
    assert await service.answer(session_id, 1, "rank", "eternus") == Reply(False, T.WRONG_STEP)  # a stale click
    assert await service.answer(999, 1, "rank", "oracle") == Reply(False, T.CLOSED)
    for bad in ("", "   ", "x" * 51):
        assert (await service.start(GUILD, CHANNEL, 1, "A", bad))[0] == Reply(False, T.MATCH_ID_INVALID)


async def test_new_start_closes_the_old_thread_and_leaks_nothing(db: Database) -> None:
    service, ui, _, _ = build(db)
    first = await run_session(service, 7, "first")
    _, second = await service.start(GUILD, CHANNEL, 7, "U", "second")
    assert second is not None and second != first
    old = await service._session(first)
    new = await service._session(second)
    assert old is not None and (old.is_active, old.close_reason) == (0, "replaced")
    assert old.thread_id in ui.closed and ui.threads[old.thread_id or 0][-1] == T.REPLACED
    assert new is not None and (new.rank, new.hero, new.comment, new.match_id) == (None, None, None, "second")


async def test_timeout_after_restart_fires_once(db: Database) -> None:
    clock = ManualClock(1_000_000)
    service, _, _, _ = build(db, clock)
    _, session_id = await service.start(GUILD, CHANNEL, 3, "U", "m")
    assert session_id is not None
    clock.advance(300)
    await service.answer(session_id, 3, "rank", "seeker")  # activity moves the timeout
    await db.close()

    async with reopened(db) as db2:  # restart
        restarted, ui2, _, _ = build(db2, clock)
        clock.advance(599)
        assert await restarted.timers.dispatch_due() == 0
        clock.advance(1)
        assert await restarted.timers.dispatch_due() == 1
        assert await restarted.timers.dispatch_due() == 0  # once
        session = await restarted._session(session_id)
        assert session is not None and (session.is_active, session.close_reason) == (0, "timeout")
        assert ui2.closed == [session.thread_id]
        assert ui2.threads[session.thread_id or 0] == [T.TIMEOUT]
        async with db2.read() as conn:
            timer = "SELECT timer_id FROM timers WHERE event = {} AND key = {}"
            assert await fetch_one(conn, timer, "coaching_timeout", str(session_id)) is None


async def test_twenty_concurrent_sessions(db: Database) -> None:
    service, ui, notifier, _ = build(db)
    ids = await asyncio.gather(*(run_session(service, 100 + i, f"m{i}") for i in range(20)))
    results = await asyncio.gather(*(service.finish(s, 100 + i) for i, s in enumerate(ids)))
    assert all(r.ok for r in results) and len(set(ids)) == 20
    assert len(ui.closed) == 20 and len(notifier.payloads) == 20
    async with db.read() as conn:
        assert await fetch_all(conn, "SELECT session_id FROM coaching_sessions WHERE is_active = 1") == []


async def test_thread_failure_closes_the_session(db: Database) -> None:
    service, ui, _, _ = build(db)
    ui.fail_create = True
    reply, session_id = await service.start(GUILD, CHANNEL, 8, "U", "m")
    assert reply == Reply(False, T.THREAD_FAILED) and session_id is None
    async with db.read() as conn:
        assert await queries.coaching.get_active_session(conn, user_id=8) is None


async def test_claim_bot_over_tcp() -> None:
    received: list[dict[str, object]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (length,) = struct.unpack(">I", await reader.readexactly(4))
        received.append(json.loads((await reader.readexactly(length)).decode()))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await TcpClaimNotifier("127.0.0.1", port).notify({"match_id": "ü", "user_id": 1}) is True
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.01)
    assert received == [{"match_id": "ü", "user_id": 1}]
    # nobody listening: a quick False, no exception, no blocked loop
    assert await TcpClaimNotifier("127.0.0.1", port, timeout=1).notify({"x": 1}) is False

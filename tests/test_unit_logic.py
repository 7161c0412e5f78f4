"""The unit of work's shared logic (bot/db/base.py, bot/db/unit.py) on a fake engine whose
primitives only write down what they were asked: the statements in order, when a connection
is handed on, and a statement that fails or waits where a test says so. No database runs, so
the order of BEGIN, SAVEPOINT, COMMIT, ROLLBACK and the release is checked exactly, also
under cancellation at the awkward points (during a COMMIT, a SAVEPOINT, a RELEASE)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from bot.db import TransactionAbortedError
from bot.db.base import Database
from bot.db.connections import EngineConnection
from bot.db.unit import UnitKind, finish_uncancellable, holds_connection, open_here


class Boom(Exception):
    pass


class StatementFailed(Exception):
    pass


class FakeConn(EngineConnection):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.failed_statements = 0
        self.fail: set[str] = set()  # statements (first word, or the whole) that raise
        self.gates: dict[str, asyncio.Event] = {}  # statements that wait until their event is set
        self.commit_status = "COMMIT"
        self.waiting = asyncio.Event()  # a statement waits at its gate

    async def control(self, sql: str) -> str:
        word = sql.split()[0]
        gate = self.gates.get(word)
        if gate is not None:
            self.log.append(f"{self.name}: {sql} (waiting)")
            self.waiting.set()
            await gate.wait()
        if word in self.fail or sql in self.fail:
            self.failed_statements += 1
            self.log.append(f"{self.name}: {sql} FAILED")
            raise StatementFailed(sql)
        self.log.append(f"{self.name}: {sql}")
        return self.commit_status if word == "COMMIT" else word

    async def statement(self, *, fails: bool = False) -> None:
        """A query in the block."""
        await asyncio.sleep(0)
        if fails:
            self.failed_statements += 1
            raise StatementFailed("query")
        self.log.append(f"{self.name}: query")


class FakeDatabase(Database):
    def __init__(self) -> None:
        self.log: list[str] = []
        self.writer = FakeConn("writer", self.log)
        self.the_writer: EngineConnection = self.writer  # for identity checks on the handed-out types
        self.readers = 0
        self.rollback_fails = False

    @property
    def location(self) -> str:
        return "fake"

    @property
    def is_open(self) -> bool:
        return True

    async def open(self) -> None:
        return None

    async def close(self, drain_seconds: float = 30.0) -> None:
        return None

    async def user_version(self) -> int:
        return 0

    @contextlib.asynccontextmanager
    async def _connection(self, kind: UnitKind) -> AsyncIterator[EngineConnection]:
        if kind.writes:
            conn = self.writer
        else:
            self.readers += 1
            conn = FakeConn(f"{kind.value}{self.readers}", self.log)
        try:
            yield conn
        finally:
            self.log.append(f"{conn.name}: handed on")

    async def _begin(self, conn: EngineConnection, kind: UnitKind) -> None:
        await conn.control(f"BEGIN {kind.value}")

    async def _commit(self, conn: EngineConnection) -> None:
        if await conn.control("COMMIT") == "ROLLBACK":
            raise TransactionAbortedError

    async def _rollback(self, conn: EngineConnection) -> None:
        assert isinstance(conn, FakeConn)
        self.log.append(f"{conn.name}: ROLLBACK")

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str) -> AsyncIterator[None]:
        async with self._unit(UnitKind.LOCK):
            yield


def fake(conn: EngineConnection) -> FakeConn:
    assert isinstance(conn, FakeConn)
    return conn


def steps(db: FakeDatabase) -> list[str]:
    """The log with the savepoints' numbers taken out."""
    return [" ".join("sp" if w.startswith("deadlock_sp_") else w for w in line.split()) for line in db.log]


async def test_nested_units_are_savepoints_released_into_the_outer_commit() -> None:
    db = FakeDatabase()
    async with db.transaction() as outer:
        await fake(outer).statement()
        async with db.transaction() as inner:
            assert inner is outer
            await fake(inner).statement()
        async with db.write() as joined:  # no savepoint: part of the transaction
            assert joined is outer
    assert steps(db) == [
        "writer: BEGIN transaction",
        "writer: query",
        "writer: SAVEPOINT sp",
        "writer: query",
        "writer: RELEASE SAVEPOINT sp",
        "writer: COMMIT",
        "writer: handed on",
    ]


async def test_a_failure_inside_a_nested_unit_rolls_back_to_its_savepoint_only() -> None:
    db = FakeDatabase()
    async with db.transaction() as outer:
        with pytest.raises(StatementFailed):
            async with db.transaction() as inner:
                await fake(inner).statement(fails=True)
        assert outer.failed_statements == 0  # its failure went with the savepoint
    assert steps(db) == [
        "writer: BEGIN transaction",
        "writer: SAVEPOINT sp",
        "writer: ROLLBACK TO SAVEPOINT sp",
        "writer: RELEASE SAVEPOINT sp",
        "writer: COMMIT",
        "writer: handed on",
    ]


async def test_a_caught_failure_refuses_the_commit_at_every_level() -> None:
    db = FakeDatabase()
    with pytest.raises(TransactionAbortedError):
        async with db.transaction() as conn:
            with contextlib.suppress(StatementFailed):
                await fake(conn).statement(fails=True)
    async with db.transaction() as conn:
        with pytest.raises(TransactionAbortedError):
            async with db.transaction() as nested:
                with contextlib.suppress(StatementFailed):
                    await fake(nested).statement(fails=True)
    assert steps(db) == [
        "writer: BEGIN transaction",
        "writer: ROLLBACK",
        "writer: handed on",
        "writer: BEGIN transaction",
        "writer: SAVEPOINT sp",
        "writer: ROLLBACK TO SAVEPOINT sp",
        "writer: RELEASE SAVEPOINT sp",
        "writer: COMMIT",
        "writer: handed on",
    ]


async def test_a_failed_commit_is_raised_after_the_rollback() -> None:
    db = FakeDatabase()
    db.writer.fail.add("COMMIT")
    with pytest.raises(StatementFailed):
        async with db.transaction() as conn:
            await fake(conn).statement()
    assert steps(db)[-3:] == ["writer: COMMIT FAILED", "writer: ROLLBACK", "writer: handed on"]
    db.writer.fail.clear()
    db.writer.commit_status = "ROLLBACK"  # the engine turned the COMMIT into a ROLLBACK
    with pytest.raises(TransactionAbortedError):
        async with db.transaction():
            pass


@pytest.mark.parametrize("where", ["COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"])
async def test_a_cancellation_waits_for_the_step_running_then_the_unit_ends(where: str) -> None:
    """Cancelled while a COMMIT, SAVEPOINT, RELEASE or ROLLBACK TO runs: that step finishes,
    the unit ends after it (never beside it), the connection is handed on last, and only then
    does the task see its cancellation."""
    db = FakeDatabase()
    gate = db.writer.gates[where] = asyncio.Event()

    async def unit() -> None:
        async with db.transaction() as conn:
            await fake(conn).statement()
            async with db.transaction() as nested:
                await fake(nested).statement(fails=where == "ROLLBACK")

    task = asyncio.create_task(unit())
    waiting = {"SAVEPOINT": "SAVEPOINT sp", "RELEASE": "RELEASE SAVEPOINT sp", "ROLLBACK": "ROLLBACK TO SAVEPOINT sp"}
    await db.writer.waiting.wait()
    assert steps(db)[-1] == f"writer: {waiting.get(where, where)} (waiting)"
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done() and "writer: handed on" not in steps(db)
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    tail = steps(db)[steps(db).index(f"writer: {waiting.get(where, where)} (waiting)") :]
    expected = {
        "COMMIT": ["writer: COMMIT (waiting)", "writer: COMMIT", "writer: handed on"],
        "SAVEPOINT": [
            "writer: SAVEPOINT sp (waiting)",
            "writer: SAVEPOINT sp",
            "writer: ROLLBACK",
            "writer: handed on",
        ],
        "RELEASE": [
            "writer: RELEASE SAVEPOINT sp (waiting)",
            "writer: RELEASE SAVEPOINT sp",
            "writer: ROLLBACK",
            "writer: handed on",
        ],
        # the block's own error was on its way: the cancellation, come during its clean-up, wins
        "ROLLBACK": [
            "writer: ROLLBACK TO SAVEPOINT sp (waiting)",
            "writer: ROLLBACK TO SAVEPOINT sp",
            "writer: RELEASE SAVEPOINT sp",
            "writer: ROLLBACK",
            "writer: handed on",
        ],
    }[where]
    assert tail == expected


async def test_a_lock_commits_its_inner_units_even_when_its_block_fails(caplog: pytest.LogCaptureFixture) -> None:
    db = FakeDatabase()
    with pytest.raises(Boom):
        async with db.exclusive("k"):
            async with db.write() as conn:  # inside a lock: a savepoint of its own
                await fake(conn).statement()
            async with db.read() as conn:  # the lock's connection; a failed read dooms nothing
                assert conn is db.the_writer
                with contextlib.suppress(StatementFailed):
                    await fake(conn).statement(fails=True)
            raise Boom
    assert steps(db) == [
        "writer: BEGIN lock",
        "writer: SAVEPOINT sp",
        "writer: query",
        "writer: RELEASE SAVEPOINT sp",
        "writer: SAVEPOINT sp",
        "writer: ROLLBACK TO SAVEPOINT sp",
        "writer: RELEASE SAVEPOINT sp",
        "writer: COMMIT",
        "writer: handed on",
    ]
    db.writer.fail.add("COMMIT")  # its COMMIT failing as well: logged, the block's error goes on
    with caplog.at_level(logging.WARNING, "bot.db.base"), pytest.raises(Boom):
        async with db.exclusive("k"):
            raise Boom
    assert "committing the units of a failed lock block" in caplog.text


async def test_reads_and_snapshots_are_units_of_their_own_and_never_commit() -> None:
    db = FakeDatabase()
    async with db.transaction():
        async with db.read() as reader:  # the latest commit: a connection of its own
            assert reader is not db.the_writer
            async with db.read() as again:  # inside a read unit: a savepoint on it
                assert again is reader
        async with db.snapshot() as snap:
            assert snap is not db.the_writer
    assert steps(db) == [
        "writer: BEGIN transaction",
        "read1: BEGIN read",
        "read1: SAVEPOINT sp",
        "read1: RELEASE SAVEPOINT sp",
        "read1: ROLLBACK",
        "read1: handed on",
        "snapshot2: BEGIN snapshot",
        "snapshot2: ROLLBACK",
        "snapshot2: handed on",
        "writer: COMMIT",
        "writer: handed on",
    ]


async def test_a_savepoint_that_cannot_roll_back_is_logged_and_the_error_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = FakeDatabase()
    db.writer.fail.add("ROLLBACK")
    with caplog.at_level(logging.ERROR, "bot.db.base"), pytest.raises(Boom):
        async with db.transaction(), db.transaction():
            raise Boom
    assert "rolling back to a savepoint on fake failed" in caplog.text
    assert db.writer.failed_statements == 1  # the failed ROLLBACK TO counts: no outer COMMIT
    assert steps(db)[-2:] == ["writer: ROLLBACK", "writer: handed on"]
    with pytest.raises(TransactionAbortedError):  # also when the outer block caught the error
        async with db.transaction():
            with contextlib.suppress(Boom):
                async with db.transaction():
                    raise Boom


async def test_a_unit_belongs_to_its_task_and_its_database() -> None:
    db, other = FakeDatabase(), FakeDatabase()
    assert open_here(db) is None and not holds_connection(db)
    async with db.transaction() as conn:
        here = open_here(db)
        assert here is not None and here.conn is conn and here.kind is UnitKind.TRANSACTION
        async with other.transaction() as theirs:  # another database: a unit of its own
            assert theirs is other.the_writer
            here_too = open_here(db)
            assert here_too is not None and here_too.conn is conn  # found behind the other's

        async def child() -> tuple[bool, bool]:
            return open_here(db) is None, holds_connection(db)

        assert await asyncio.create_task(child()) == (True, True)
    assert open_here(db) is None
    assert steps(other) == ["writer: BEGIN transaction", "writer: COMMIT", "writer: handed on"]


async def test_finish_uncancellable_raises_the_work_s_error_before_the_cancellation() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def work() -> None:
        started.set()
        await release.wait()
        raise Boom

    task = asyncio.create_task(finish_uncancellable(work))
    await started.wait()
    task.cancel()
    await asyncio.sleep(0)
    assert not task.done()
    release.set()
    with pytest.raises(Boom):
        await task

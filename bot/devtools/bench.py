"""`deadlock-bot bench`: the data layer's speed, concurrency behaviour and memory, measured.

Six stacks (bot.devtools.bench_stacks) do the same work on the same file with the same
PRAGMAs (read back from each live connection and printed first). Every round runs every
stack once, in an order rotated round by round, so a slow spell of a shared machine hits all
of them; figures are the min and median over the rounds, and ratios are taken within a round.
A failed operation ("database is locked") counts as an error, never as a completed one.

Then statements per Discord event and the voice-status pass's writer time at 1k and 100k
steam_links rows (bot.devtools.bench_events), RSS over many queries and the loop's stalls.
The goals are printed next to the figures; they are goals, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.db import SqliteDatabase
from bot.db.sqlite.migrations import upgrade
from bot.devtools import bench_events
from bot.devtools.bench_stacks import PRAGMAS, STACKS, BotStack, Stack, open_stacks
from bot.shared.runtime_tuning import freeze_startup_objects

LANES = 1000
WORKLOADS = ("read@1", "read@100", "write@1", "join@100")


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class StallMeter:
    """A 1 ms ticker: the largest lateness it sees is the longest the event loop was blocked."""

    def __init__(self) -> None:
        self.max_stall = 0.0
        self._task: asyncio.Task[None] | None = None
        self._last = 0.0

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._last = loop.time()
            await asyncio.sleep(0.001)
            self.max_stall = max(self.max_stall, loop.time() - self._last - 0.001)

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        # a workload that never yields (raw sqlite3) stalls the loop from the last tick to here
        self.max_stall = max(self.max_stall, asyncio.get_running_loop().time() - self._last - 0.001)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Tally:
    """Per stack and workload: seconds per completed operation in each round, stalls, errors."""

    def __init__(self) -> None:
        self.per_op: dict[tuple[str, str], list[float]] = {}
        self.stalls: dict[str, list[float]] = {name: [] for name in STACKS}
        self.errors: dict[str, int] = dict.fromkeys(STACKS, 0)

    def add(self, stack: str, workload: str, seconds: float, completed: int, failed: int, stall: float) -> None:
        self.errors[stack] += failed
        self.stalls[stack].append(stall)
        if completed:
            self.per_op.setdefault((stack, workload), []).append(seconds / completed)

    def ratio(self, a: str, b: str, workload: str) -> list[float]:
        """a/b within each round (both ran in that round)."""
        xs, ys = self.per_op.get((a, workload), []), self.per_op.get((b, workload), [])
        return [x / y for x, y in zip(xs, ys, strict=False)]


async def _run(fn: Callable[[int], Awaitable[Any]], tasks: int, per_task: int) -> tuple[float, int, int, float]:
    """(elapsed, completed, failed, max loop stall) of `tasks` concurrent tasks."""
    done = failed = 0

    async def worker(t: int) -> None:
        nonlocal done, failed
        for k in range(per_task):
            try:
                await fn(t * per_task + k)
                done += 1
            except sqlite3.OperationalError:  # "database is locked": an error, not an operation
                failed += 1

    async with StallMeter() as meter:
        start = time.perf_counter()
        await asyncio.gather(*(worker(t) for t in range(tasks)))
        elapsed = time.perf_counter() - start
    return elapsed, done, failed, meter.max_stall


async def _round(stacks: dict[str, Stack], order: list[str], tally: Tally, rnd: int, sizes: dict[str, int]) -> None:
    rng = random.Random(rnd)
    for index, name in enumerate(order):
        s = stacks[name]
        base = (rnd * len(STACKS) + index) * 100_000

        def read(i: int, s: Stack = s) -> Awaitable[Any]:
            return s.read(1 + rng.randrange(LANES))

        def write(i: int, s: Stack = s, base: int = base) -> Awaitable[None]:
            return s.write(f"k{base + i}")

        def join(i: int, s: Stack = s, base: int = base) -> Awaitable[None]:
            return s.join(base + i)

        runs: dict[str, tuple[Callable[[int], Awaitable[Any]], int, int]] = {
            "read@1": (read, 1, sizes["seq"]),
            "read@100": (read, 100, sizes["per_task"]),
            "write@1": (write, 1, sizes["seq"] // 4),
            "join@100": (join, 100, max(1, sizes["per_task"] // 4)),
        }
        for workload, (fn, tasks, per_task) in runs.items():
            elapsed, done, failed, stall = await _run(fn, tasks, per_task)
            tally.add(name, workload, elapsed, done, failed, stall)


async def _prepare(path: Path) -> SqliteDatabase:
    db = SqliteDatabase(path)
    await db.open()
    await upgrade(db, backup=False)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO tempvoice_lanes (channel_id, guild_id, owner_id, base_name, category_id) "
            "VALUES (?, 1, ?, ?, 0)",
            [(c, c, f"Lane {c}") for c in range(1, LANES + 1)],
        )
    return db


async def _clean(db: SqliteDatabase) -> None:
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM tempvoice_lanes WHERE channel_id >= 10000000")
        await conn.execute("DELETE FROM kv_store WHERE ns = 'bench'")


async def _idle_stall(seconds: float) -> float:
    """The ticker's worst lateness with nothing running: what the machine itself adds."""
    async with StallMeter() as meter:
        await asyncio.sleep(seconds)
    return meter.max_stall


async def _rss_growth(bot: BotStack, queries_total: int) -> tuple[int, int]:
    for i in range(2000):  # warm-up
        await bot.read(1 + i % LANES)
    gc.collect()
    before = rss_bytes()
    for i in range(queries_total // 100):
        await asyncio.gather(*(bot.read(1 + (i * 100 + k) % LANES) for k in range(100)))
    gc.collect()
    return before, rss_bytes()


def _us(xs: list[float]) -> str:
    return f"{min(xs) * 1e6:8.1f} {statistics.median(xs) * 1e6:8.1f}" if xs else f"{'-':>8} {'-':>8}"


async def run(quick: bool = False, soak: float = 0.0, out: Callable[[str], None] = print) -> dict[str, Any]:
    rounds = 5 if quick else 15
    sizes = {"seq": 200 if quick else 1000, "per_task": 5 if quick else 20}
    rss_queries = 20_000 if quick else 200_000
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        db = await _prepare(path)
        stacks = await open_stacks(path, db)
        freeze_startup_objects()  # as the bot does after its start-up
        try:
            out(f"data layer benchmark (SQLite {sqlite3.sqlite_version}, {os.cpu_count()} cores, {rounds} rounds; "
                f"{'quick' if quick else 'full'} run)")  # fmt: skip
            out("PRAGMAs read back from each stack's live connection (bot: writer/reader where they differ):")
            out(f"  {'stack':<10} " + " ".join(f"{k:>14}" for k in PRAGMAS))
            for name in STACKS:
                values = await stacks[name].pragmas()
                out(f"  {name:<10} " + " ".join(f"{v!s:>14}" for v in values))
            idle = await _idle_stall(1.0)
            for rnd in range(rounds):
                order = list(STACKS[rnd % len(STACKS) :] + STACKS[: rnd % len(STACKS)])
                await _round(stacks, order, tally, rnd, sizes)
                await _clean(db)
            before, after = await _rss_growth(BotStack(db), rss_queries)
            soak_report = await _soak(BotStack(db), soak) if soak > 0 else None
        finally:
            for name in STACKS:
                await stacks[name].close()
            await db.close()
        events = await _events(Path(tmp), quick)
    return _report(tally, idle, after - before, rss_queries, events, soak_report, out)


async def _events(folder: Path, quick: bool) -> dict[str, Any]:
    if not bench_events.fakes_available():
        return {}
    counts = await bench_events.statements_per_event(folder / "events.sqlite3")
    passes = 5 if quick else 20
    voice = {n: await bench_events.voice_pass_writer_time(folder, n, passes) for n in (1000, 100_000)}
    return {"counts": counts, "voice": voice}


def _report(
    tally: Tally,
    idle: float,
    rss_growth: int,
    rss_queries: int,
    events: dict[str, Any],
    soak_report: str | None,
    out: Callable[[str], None],
) -> dict[str, Any]:
    out("µs per completed operation, min and median of the rounds:")
    out(f"  {'stack':<10} " + " ".join(f"{w:>17}" for w in WORKLOADS) + f" {'stall ms (med)':>15} {'errors':>6}")
    for name in STACKS:
        cells = " ".join(f"{_us(tally.per_op.get((name, w), [])):>17}" for w in WORKLOADS)
        stall = statistics.median(tally.stalls[name]) * 1000
        out(f"  {name:<10} {cells} {stall:>15.2f} {tally.errors[name]:>6}")
    goals: list[tuple[str, bool]] = []
    for workload in ("read@1", "read@100"):
        r = tally.ratio("bot", "aiosqlite", workload)
        text = (
            f"bot <= 1.15x aiosqlite one hop, {workload}: median {statistics.median(r):.2f}x "
            f"(range {min(r):.2f}-{max(r):.2f}x over {len(r)} rounds)"
        )
        goals.append((text, statistics.median(r) <= 1.15))
    r = tally.ratio("bot", "raw", "read@100")
    # the floor a thread hop sets on this machine: aiosqlite one hop on its own, same rounds
    floor = statistics.median(tally.ratio("aiosqlite", "raw", "read@100"))
    text = f"bot read@100 <= 3x raw sqlite3: median {statistics.median(r):.2f}x (aiosqlite one hop alone: {floor:.2f}x)"
    goals.append((text, statistics.median(r) <= 3.0))
    if events:
        out(
            "per event: named queries, statements executed (an executemany: one per row; a foreign key's "
            "cascade: one more), + BEGIN/COMMIT/..., thread hops (a query or a BEGIN/COMMIT: one each):"
        )
        for event, (calls, executed, control) in events["counts"].items():
            out(f"  {event:<30} {calls:>3} queries {executed:>4} statements (+{control}) {calls + control:>3} hops")
        staging = events["counts"]["staging join"][1]
        goals.append((f"<= 8 statements per staging join: {staging}", staging <= 8))
        out(
            "voice-status pass with 50 members in voice, nobody joining or leaving: writer held per pass"
            " (its writes and the wait for them); SQL of the steam_links joins:"
        )
        for links, (best, med, worst, sql) in events["voice"].items():
            held = f"min {best * 1000:.3f} ms, median {med * 1000:.3f} ms, max {worst * 1000:.3f} ms"
            out(f"  {links:>7,} steam_links: {held}; joins {sql * 1000:.3f} ms")
        med100k = events["voice"][100_000][1]
        goals.append(
            (f"voice-status pass < 1 ms of writer time at 100k links: median {med100k * 1000:.3f} ms", med100k < 0.001)
        )
    else:
        out("statements per event: skipped (needs a source checkout with tests/fakes)")
    goals.append(
        (f"RSS growth over {rss_queries:,} queries < 5 MB: {rss_growth / 2**20:.2f} MB", rss_growth < 5 * 2**20)
    )
    bot_stall = statistics.median(tally.stalls["bot"])
    text = (
        f"bot loop stall within 2 ms of the idle ticker: median {bot_stall * 1000:.2f} ms, "
        f"max {max(tally.stalls['bot']) * 1000:.2f} ms, idle {idle * 1000:.2f} ms"
    )
    if idle >= 0.005:
        text += " (the idle noise alone is over 5 ms: read the stall figures on a quiet machine)"
    goals.append((text, bot_stall <= idle + 0.002))
    out("goals: 'ok' = this run's figure meets the goal; 'over' = it does not, on this machine in this run")
    out("       (figures to compare, not tests: the bench asserts nothing and never fails a run)")
    for text, ok in goals:
        out(f"  {'ok' if ok else 'over':<4}  {text}")
    if soak_report:
        out(soak_report)
    return {"per_op": tally.per_op, "errors": tally.errors, "rss_growth": rss_growth, "events": events, "goals": goals}


async def _soak(s: BotStack, seconds: float) -> str:
    """The TempVoice join pattern from 100 tasks, over and over, for `seconds`."""
    deadline = time.perf_counter() + seconds
    start_rss = rss_bytes()
    stalls: list[float] = []  # one per round of 100 joins
    while time.perf_counter() < deadline:
        base = 20_000_000 + len(stalls) * 1000

        def join(k: int, base: int = base) -> Awaitable[None]:
            return s.join(base + k)

        _, _, _, stall = await _run(join, 100, 1)
        stalls.append(stall)
        async with s.db.transaction() as conn:
            await conn.execute("DELETE FROM tempvoice_lanes WHERE channel_id >= 30000000")
    done = len(stalls) * 100
    stalls.sort()
    p50, p99 = statistics.median(stalls), stalls[min(len(stalls) - 1, len(stalls) * 99 // 100)]
    return (f"soak {seconds:.0f}s: {done} joins ({done / seconds:.0f}/s), loop stall per round of 100 "
            f"joins: median {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, max {stalls[-1] * 1000:.2f} ms; "
            f"RSS {(rss_bytes() - start_rss) / 2**20:+.2f} MB")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deadlock-bot bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS", help="then run the join load this long")
    args = parser.parse_args(argv)
    asyncio.run(run(quick=args.quick, soak=args.soak))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

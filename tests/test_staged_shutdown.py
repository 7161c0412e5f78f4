"""The staged shutdown (bot/discord_glue/shutdown.py): the gate, the drain of the work in
flight, the order of the stages, and the real bot closing around a handler still running."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version
from bot.discord_glue import shutdown
from bot.discord_glue.shutdown import EventGate, drain, staged_shutdown
from bot.shared.loop import WakeableLoop


def test_the_gate_parses_but_mutes_once_closed_and_drops_interactions() -> None:
    seen: list[tuple[str, Any, bool]] = []
    gate = EventGate()

    def parser(name: str) -> Any:
        return lambda data: seen.append((name, data, gate.muted))

    parsers = {"VOICE_STATE_UPDATE": parser("voice"), "INTERACTION_CREATE": parser("interaction")}
    gate.install(parsers)
    parsers["VOICE_STATE_UPDATE"](1)
    parsers["INTERACTION_CREATE"](2)
    assert seen == [("voice", 1, False), ("interaction", 2, False)] and not gate.dropped
    gate.close()
    parsers["VOICE_STATE_UPDATE"](3)  # the cache learns it, no handler starts
    parsers["INTERACTION_CREATE"](4)  # not parsed: it would start its command itself
    assert seen[2:] == [("voice", 3, True)]
    assert not gate.muted and gate.dropped == {"VOICE_STATE_UPDATE": 1, "INTERACTION_CREATE": 1}


async def test_drain_waits_for_handlers_and_what_they_start() -> None:
    done: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def handler(name: str, then: str | None = None) -> None:
        await asyncio.sleep(0.05)
        if then is not None:  # e.g. a command whose error event runs as a handler of its own
            tasks.append(asyncio.create_task(handler(then), name=f"discord.py: {then}"))
        done.append(name)

    tasks.append(asyncio.create_task(handler("on_message", then="on_command_error"), name="discord.py: on_message"))
    tasks.append(asyncio.create_task(handler("slash"), name="CommandTree-invoker"))
    tasks.append(asyncio.create_task(handler("button"), name="discord-ui-view-dispatch-1"))
    other = asyncio.create_task(asyncio.sleep(30), name="a view's timeout timer")
    assert await drain(drain_seconds=10) == []
    assert sorted(done) == ["button", "on_command_error", "on_message", "slash"]
    assert not other.done()
    other.cancel()


async def test_drain_cancels_what_outlives_its_time(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.create_task(stuck(), name="discord.py: on_voice_state_update")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING):
        assert await drain(drain_seconds=0.1, cancel_seconds=5) == ["discord.py: on_voice_state_update"]
    assert cancelled.is_set() and task.cancelled()
    assert "still running after" in caplog.text


async def test_drain_lets_a_loop_pass_finish_and_starts_no_new_one() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    passes: list[str] = []

    async def run_pass() -> float:
        passes.append("start")
        entered.set()
        await release.wait()
        passes.append("end")
        return 0.001  # would run again at once

    loop = WakeableLoop("test loop", run_pass)
    loop.start()
    await entered.wait()
    draining = asyncio.create_task(drain(drain_seconds=10))
    await asyncio.sleep(0.05)
    assert not draining.done()  # the pass is still running
    release.set()
    assert await draining == []
    assert passes == ["start", "end"]
    await asyncio.sleep(0.05)
    assert passes == ["start", "end"] and loop.running  # held until stopped
    await loop.stop()
    entered.clear()
    loop.start()  # a loop started again runs again
    async with asyncio.timeout(10):
        await entered.wait()
    await loop.stop()


async def test_stages_run_in_order_and_the_database_closes_whatever_fails() -> None:
    order: list[str] = []
    gate = EventGate()

    async def step(name: str, fail: bool = False) -> None:
        order.append(name)
        if fail:
            raise RuntimeError(name)

    with pytest.raises(RuntimeError, match="features"):
        await staged_shutdown(
            gate,
            stop_features=lambda: step("features", fail=True),
            close_discord=lambda: step("discord"),
            close_database=lambda: step("database"),
        )
    assert order == ["features", "discord", "database"] and not gate.open


async def test_the_bot_closes_the_database_only_after_the_handler_running(tmp_path: Path) -> None:
    """A handler still using the database when close() is called (SIGTERM) finishes its write;
    an event arriving meanwhile starts no handler; the database closes once, afterwards."""
    db = SqliteDatabase(tmp_path / "bot.sqlite3", max_schema_version=latest_version())
    bot = DeadlockBot(db)
    await bot._async_setup_hook()  # what login does first (the loop)
    await bot.setup_hook()
    started, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def on_slow(name: str) -> None:
        calls.append(name)
        started.set()
        await release.wait()
        async with db.transaction() as conn:
            await queries.core.set_kv(conn, ns="test", k=name, v="written")

    bot.add_listener(on_slow)
    bot.dispatch("slow", "first")
    await started.wait()
    closing = asyncio.create_task(bot.close())
    await asyncio.sleep(0.05)
    assert db.is_open and not closing.done() and not bot.gate.open
    bot._connection.parsers["TYPING_START"]({"channel_id": "1", "user_id": "2", "timestamp": 0})  # parsed, not handled
    bot.dispatch("slow", "untouched")  # the bot's own dispatch still works outside a muted parse
    release.set()
    await asyncio.wait_for(closing, 10)
    await bot.close()  # a second close waits for the same shutdown
    assert not db.is_open
    assert calls == ["first", "untouched"]
    assert bot.gate.dropped == {"TYPING_START": 1}
    with sqlite3.connect(tmp_path / "bot.sqlite3") as con:
        rows = con.execute("SELECT k, v FROM kv_store WHERE ns = 'test' ORDER BY k").fetchall()
    assert rows == [("first", "written"), ("untouched", "written")]  # both finished their write


def test_handler_task_names_are_discord_py_s() -> None:
    """The prefixes name the tasks discord.py 2.7 runs handlers in (pinned against its source)."""
    import inspect

    import discord.app_commands.tree
    import discord.client
    import discord.ui.modal
    import discord.ui.view

    sources = "".join(
        inspect.getsource(m) for m in (discord.client, discord.app_commands.tree, discord.ui.view, discord.ui.modal)
    )
    for prefix in shutdown.HANDLER_TASK_PREFIXES:
        assert f"name=f'{prefix}" in sources or f"name='{prefix}" in sources, prefix


async def test_a_handler_closing_the_bot_is_not_waited_for(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A handler that calls close() (an admin command, say) is left out of the drain: the
    shutdown does not wait out the drain time for it, nor cancel it."""
    db = SqliteDatabase(tmp_path / "bot.sqlite3", max_schema_version=latest_version())
    bot = DeadlockBot(db)
    await bot._async_setup_hook()
    await bot.setup_hook()
    finished = asyncio.Event()

    async def on_stop_command() -> None:
        await bot.close()
        finished.set()

    bot.add_listener(on_stop_command)
    with caplog.at_level(logging.INFO):
        bot.dispatch("stop_command")
        async with asyncio.timeout(shutdown.DRAIN_SECONDS - 2):
            await finished.wait()
    assert not db.is_open
    assert "still running after" not in caplog.text and "work in flight done" in caplog.text

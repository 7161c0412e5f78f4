"""Match coaching end to end: start message, Match-ID modal, private thread, every step,
and the claim bot told over TCP (a real listener)."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

from tests.e2e.harness import BotProcess
from tests.e2e.invariants import assert_invariants
from tests.e2e.scene import Scene
from tests.e2e.server import LocalDiscord
from tests.e2e.world import PRIVATE_THREAD


async def test_coaching_wizard_with_claim_call(discord_api: LocalDiscord, bot: BotProcess, scene: Scene) -> None:
    api, w = discord_api, discord_api.world
    claims: list[dict[str, Any]] = []

    async def claim_bot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (size,) = struct.unpack(">I", await reader.readexactly(4))
        claims.append(json.loads(await reader.readexactly(size)))
        writer.close()

    listener = await asyncio.start_server(claim_bot, "127.0.0.1", 0)
    bot.env.update(COACHING_CLAIM_HOST="127.0.0.1", COACHING_CLAIM_PORT=str(listener.sockets[0].getsockname()[1]))
    try:
        await bot.start()
        await api.say(scene.admin, scene.commands, "!coaching panel")
        await api.until(lambda: api.bot_messages_with("dl_start"), why="the start message")
        start = api.bot_messages_with("dl_start")[0]
        await bot.until_row("SELECT message_id FROM coaching_panels", value=start)

        member = scene.members[2]
        opened = await api.interactions.answered(await api.click(member, start, "dl_start"), replies=0)
        started = await api.interactions.answered(await api.interactions.submit(opened, ["4711"]))
        thread = next(int(c["id"]) for c in w.channels.values() if c["type"] == PRIVATE_THREAD)
        assert f"<#{thread}>" in " ".join(started.texts())
        assert api.calls_to("PUT", rf"/channels/{thread}/thread-members/{member}")
        await bot.until_row("SELECT step FROM coaching_sessions WHERE user_id = ?", member, value="rank")
        (sid,) = bot.rows("SELECT session_id FROM coaching_sessions")[0]

        steps = [("rank", f"dl:rank:{sid}", "oracle"), ("subrank", f"dl:subrank:{sid}", "iii"),
                 ("hero", f"dl:hero1:{sid}", "abrams")]  # fmt: skip
        for step, custom_id, value in steps:
            await api.until(lambda cid=custom_id: api.bot_messages_with(cid), why=f"the {step} step")  # type: ignore[misc]
            message = api.bot_messages_with(custom_id)[0]
            await api.interactions.answered(await api.click(member, message, custom_id, values=[value]))
            if step == "rank":  # a restart in the middle: the session and its step messages live on
                await bot.until_row("SELECT step FROM coaching_sessions", value="subrank")
                assert await bot.stop() == 0
                await bot.start()
        await api.until(lambda: api.bot_messages_with(f"dl:comment:{sid}"), why="the comment step")
        comment_at = api.bot_messages_with(f"dl:comment:{sid}")[0]
        modal = await api.interactions.answered(await api.click(member, comment_at, f"dl:comment:{sid}"), replies=0)
        await api.interactions.answered(await api.interactions.submit(modal, ["Mehr Farmen in der Lane"]))

        # someone else cannot finish another member's session
        await api.until(lambda: api.bot_messages_with(f"dl:finish:{sid}"), why="the finish step")
        finish_at = api.bot_messages_with(f"dl:finish:{sid}")[0]
        await api.interactions.answered(await api.click(scene.members[3], finish_at, f"dl:finish:{sid}"))
        assert claims == []
        await api.interactions.answered(await api.click(member, finish_at, f"dl:finish:{sid}"))
        await api.until(lambda: claims, why="the claim call")
        assert claims == [
            {
                "thread_id": thread,
                "match_id": "4711",
                "rank": "oracle",
                "subrank": "iii",
                "hero": "abrams",
                "user_id": member,
            }
        ]
        await bot.until_row("SELECT close_reason FROM coaching_sessions WHERE session_id = ?", sid, value="finished")
        assert bot.rows("SELECT comment, is_active FROM coaching_sessions") == [("Mehr Farmen in der Lane", 0)]
        await api.until(lambda: w.channels[thread].get("thread_metadata", {}).get("archived"), why="thread closed")
        assert await bot.stop() == 0
        assert_invariants(api, bot)
    finally:
        listener.close()
        await listener.wait_closed()

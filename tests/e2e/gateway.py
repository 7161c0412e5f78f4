"""The gateway websocket of the local Discord API: HELLO, IDENTIFY -> READY + GUILD_CREATE,
heartbeats, RESUME with replay of missed dispatches, INVALID_SESSION, and the faults a test
asks for (close 4000, a dropped TCP connection).

Sharding as Discord does it: an IDENTIFY with `shard: [id, count]` gets a READY with the same
`shard` field and only the guilds of that shard (`(guild_id >> 22) % count == id`). The
connection of the world's guild's shard is the session this class keeps (dispatches, RESUME);
the other shards' connections get their READY with no guild, heartbeat ACKs and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from typing import Any

from aiohttp import WSMsgType, web

from tests.e2e.world import Json, World

log = logging.getLogger(__name__)

FLUSH_BUDGET = 60
HELLO, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS, INVALID_SESSION, HEARTBEAT_ACK, DISPATCH = 10, 1, 2, 6, 8, 9, 11, 0


class Gateway:
    def __init__(self, world: World, token: str) -> None:
        self.world = world
        self.token = token
        self.url = ""  # set by the server once it listens (READY's resume_gateway_url)
        self.ws: web.WebSocketResponse | None = None
        self.session_id = ""
        self.sessions = 0
        self.seq = 0
        self.sent: list[tuple[int, str, Json]] = []  # this session's dispatches, for RESUME
        self.identifies = 0
        self.resumes = 0
        self.replayed = 0
        self.connections = 0
        self.ops_received: list[int] = []
        self.last_dispatch = 0.0
        self.heartbeats = 0
        self.total_sent = 0  # dispatches over all sessions
        self.acked_seq = 0  # the highest sequence number a client heartbeat carried
        self.requested_seq = 0  # the sequence number the last heartbeat request covers
        self.identified_shards: list[list[int] | None] = []  # the `shard` field of every IDENTIFY
        self.idle_shards: dict[int, web.WebSocketResponse] = {}  # shards without the guild
        self._flushes: deque[float] = deque()
        self._acked = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_message(ws, json.loads(msg.data))
        finally:
            if self.ws is ws:
                self.ws = None
            for shard_id in [k for k, v in self.idle_shards.items() if v is ws]:
                del self.idle_shards[shard_id]
        return ws

    async def _on_message(self, ws: web.WebSocketResponse, msg: Json) -> None:
        op: int = msg.get("op", -1)
        raw = msg.get("d")
        data: Json = raw if isinstance(raw, dict) else {}
        self.ops_received.append(op)
        if op == HEARTBEAT:
            self.heartbeats += 1
            self.acked_seq = max(self.acked_seq, int(msg.get("d") or 0))
            self._acked.set()
            await ws.send_json({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(ws, data)
        elif op == RESUME:
            await self._resume(ws, data)
        elif op == REQUEST_MEMBERS:
            members = [self.world.member_json(m) for m in self.world.members]
            await self.dispatch(
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": str(self.world.guild_id),
                    "members": members,
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "nonce": data.get("nonce"),
                },
            )

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        shard = data.get("shard")
        self.identified_shards.append(shard)
        w = self.world
        if shard is not None and (w.guild_id >> 22) % shard[1] != shard[0]:
            await self._idle_ready(ws, shard)
            return
        self.ws = ws
        self.sessions += 1
        self.session_id = f"session-{self.sessions}"
        self.seq = 0
        self.acked_seq = self.requested_seq = 0
        self.sent = []
        ready = {
            "v": 10,
            "user": {**w.user_json(w.bot_id), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(w.guild_id), "unavailable": True}],
            "session_id": self.session_id,
            "resume_gateway_url": self.url,
            "application": {"id": str(w.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["local-e2e"],
            **({"shard": shard} if shard is not None else {}),
        }
        await self.dispatch("READY", ready)
        await self.dispatch("GUILD_CREATE", w.guild_create())

    async def _idle_ready(self, ws: web.WebSocketResponse, shard: list[int]) -> None:
        """READY of a shard that has none of the world's guilds."""
        w = self.world
        ready = {
            "v": 10,
            "user": {**w.user_json(w.bot_id), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [],
            "session_id": f"session-shard-{shard[0]}-{self.identifies}",
            "resume_gateway_url": self.url,
            "application": {"id": str(w.application_id), "flags": 0},
            "shard": shard,
            "_trace": ["local-e2e"],
        }
        self.idle_shards[shard[0]] = ws
        await ws.send_json({"op": DISPATCH, "s": 1, "t": "READY", "d": ready})

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> None:
        if data.get("token") != self.token or data.get("session_id") != self.session_id:
            await ws.send_json({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        self.ws = ws
        self.resumes += 1
        missed = [entry for entry in self.sent if entry[0] > int(data.get("seq") or 0)]
        for seq, name, payload in missed:
            await ws.send_json({"op": DISPATCH, "s": seq, "t": name, "d": payload})
        self.replayed += len(missed)
        await self.dispatch("RESUMED", {"_trace": ["local-e2e"]})

    async def dispatch(self, name: str, data: Json) -> None:
        """Send an event now (kept for a RESUME if the connection is gone)."""
        self.seq += 1
        self.total_sent += 1
        self.sent.append((self.seq, name, data))
        self.last_dispatch = asyncio.get_running_loop().time()
        ws = self.ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"op": DISPATCH, "s": self.seq, "t": name, "d": data})

    async def flush(self, max_wait: float = 1.0) -> None:
        """Return once the client has processed every event sent so far: ask for a heartbeat
        (op 1). discord.py answers with the last sequence number it received, and it parses
        (and caches) each event in the same step as taking its number. Its answer counts
        against its gateway send limit (110 a minute, and the limiter would stall its event
        loop), so at most FLUSH_BUDGET requests a minute; beyond that a pause stands in."""
        ws, wanted = self.ws, self.seq
        if ws is None or ws.closed or self.acked_seq >= wanted:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._flushes and now - self._flushes[0] > 60:
            self._flushes.popleft()
        if self.requested_seq < wanted:
            if len(self._flushes) >= FLUSH_BUDGET:
                await asyncio.sleep(0.05)
                return
            self._flushes.append(now)
            self.requested_seq = wanted
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"op": HEARTBEAT, "d": None, "s": None, "t": None})
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_wait):
                while self.acked_seq < wanted and self.ws is ws:
                    self._acked.clear()
                    await self._acked.wait()

    # -- faults ----------------------------------------------------------------------------------

    async def close(self, code: int) -> None:
        """Close the connection with a code (4000: unknown error, the client resumes)."""
        if self.ws is not None:
            ws, self.ws = self.ws, None
            await ws.close(code=code, message=b"local e2e close")

    def drop(self) -> None:
        """Cut the TCP connection without a close frame."""
        if self.ws is not None:
            ws, self.ws = self.ws, None
            transport: Any = ws._req.transport if ws._req is not None else None
            if transport is not None:
                transport.abort()

    async def invalidate(self) -> None:
        """op 9 INVALID_SESSION (not resumable): the client IDENTIFYs afresh."""
        if self.ws is not None:
            await self.ws.send_json({"op": INVALID_SESSION, "d": False, "s": None, "t": None})

"""The REST half of the local Discord API: the routes the bot uses, each changing the world
and sending the gateway events Discord would send (before, after or 50 ms after the HTTP
response, or never), every call recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.e2e.gateway import Gateway
from tests.e2e.interactions import Interactions
from tests.e2e.rules import ApiError, Faults, Order, RenameBudget, check_name, check_room
from tests.e2e.world import CATEGORY, DM, PRIVATE_THREAD, VOICE, Json, World

Handler = Callable[[re.Match[str], Json], Awaitable[tuple[int, Any]]]
DELAYS = {Order.BEFORE: 0.0, Order.AFTER: 0.002, Order.LATE: 0.05}


@dataclasses.dataclass(frozen=True)
class Hold:
    """Calls of `method` whose path matches `pattern` are answered `seconds` later (only the
    first one, with `once`)."""

    method: str
    pattern: re.Pattern[str]
    seconds: float
    once: bool = False


@dataclasses.dataclass
class Call:
    method: str
    path: str
    body: Json
    status: int
    reason: str | None
    at: float

    def is_(self, method: str, pattern: str) -> bool:
        return self.method == method and re.fullmatch(pattern, self.path) is not None


class Rest:
    def __init__(self, world: World, gateway: Gateway, token: str) -> None:
        self.world = world
        self.gateway = gateway
        self.token = token
        self.calls: list[Call] = []
        self.unhandled: list[str] = []
        self.received: list[str] = []  # "METHOD /path" as each request arrives (before it is answered)
        self.holds: list[Hold] = []  # answer matching calls later
        self.last_activity = time.monotonic()
        self.faults = Faults()
        self.renames = RenameBudget()
        self.order = Order.BEFORE  # the order a test asks for (Order.AFTER, LATE, NEVER) changes it
        self.interactions = Interactions(world, gateway)
        self.commands: dict[str, list[Json]] = {}  # "global" or guild id -> registered commands
        self._later: asyncio.Queue[tuple[float, str, Json]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        w = r"(\d+)"
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(p), h)
            for m, p, h in [
                ("GET", r"/users/@me", self._me),
                ("GET", r"/oauth2/applications/@me", self._application),
                ("GET", r"/gateway(/bot)?", self._gateway_url),
                ("PUT", rf"/applications/{w}/commands", self._put_commands),
                ("PUT", rf"/applications/{w}/guilds/{w}/commands", self._put_commands),
                ("GET", rf"/applications/{w}/commands", self._get_commands),
                ("GET", rf"/applications/{w}/guilds/{w}/commands", self._get_commands),
                ("POST", rf"/guilds/{w}/channels", self._create_channel),
                ("PATCH", rf"/channels/{w}", self._edit_channel),
                ("DELETE", rf"/channels/{w}", self._delete_channel),
                ("PUT", rf"/channels/{w}/permissions/{w}", self._put_overwrite),
                ("DELETE", rf"/channels/{w}/permissions/{w}", self._delete_overwrite),
                ("PATCH", rf"/guilds/{w}/members/{w}", self._edit_member),
                ("GET", rf"/guilds/{w}/members/{w}", self._get_member),
                ("GET", rf"/guilds/{w}/voice-states/({w}|@me)", self._get_voice_state),
                ("POST", rf"/channels/{w}/messages", self._send_message),
                ("PATCH", rf"/channels/{w}/messages/{w}", self._edit_message),
                ("DELETE", rf"/channels/{w}/messages/{w}", self._delete_message),
                ("POST", r"/users/@me/channels", self._open_dm),
                ("POST", rf"/channels/{w}/threads", self._create_thread),
                ("PUT", rf"/channels/{w}/thread-members/{w}", self._no_content),
                ("POST", rf"/interactions/{w}/([\w.-]+)/callback", self.interactions.callback),
                ("POST", rf"/webhooks/{w}/([\w.-]+)", self.interactions.followup),
                ("PATCH", rf"/webhooks/{w}/([\w.-]+)/messages/(@original|\d+)", self.interactions.edit_response),
                ("DELETE", rf"/webhooks/{w}/([\w.-]+)/messages/(@original|\d+)", self.interactions.delete_response),
                ("GET", rf"/webhooks/{w}/([\w.-]+)/messages/(@original|\d+)", self.interactions.get_response),
            ]
        ]

    # -- plumbing ----------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        self.received.append(f"{request.method} {path}")
        self.last_activity = time.monotonic()
        body: Json = {}
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json" and raw:
                parsed = json.loads(raw)
                body = parsed if isinstance(parsed, dict) else {"_list": parsed}
            elif request.content_type.startswith("multipart/") or raw:
                body = {"_raw": raw.decode("utf-8", "replace")}
        reason = request.headers.get("X-Audit-Log-Reason")
        for hold in list(self.holds):
            if hold.method == request.method and hold.pattern.search(path):
                if hold.once:
                    self.holds.remove(hold)
                await asyncio.sleep(hold.seconds)
        status, payload = await self._route(request, path, body)
        self.calls.append(Call(request.method, path, body, status, reason, time.monotonic()))
        self.last_activity = time.monotonic()
        if status == 204:
            return web.Response(status=204)
        headers: dict[str, str] = {}
        if status == 429:
            retry = payload["retry_after"]
            headers = {
                "Via": "1.1 google",
                "X-RateLimit-Limit": "2",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry),
                "X-RateLimit-Reset": str(time.time() + retry),
                "X-RateLimit-Bucket": "local-e2e",
                "X-RateLimit-Scope": "user",
                "Retry-After": str(retry),
            }
        headers["Content-Type"] = "application/json"  # exactly: discord.py parses nothing else
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    async def _route(self, request: web.Request, path: str, body: Json) -> tuple[int, Any]:
        if (
            not path.startswith(("/interactions/", "/webhooks/"))
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            return 401, {"code": 0, "message": "401: Unauthorized"}
        fault = self.faults.take(request.method, path)
        if fault is not None:
            return fault.status, fault.body
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and method == request.method:
                try:
                    return await handler(match, {**body, "_query": dict(request.query)})
                except ApiError as e:
                    return e.status, e.body
        self.unhandled.append(f"{request.method} {path}")
        return 404, {"code": 0, "message": "404: Not Found"}

    async def emit(self, name: str, data: Json) -> None:
        """A gateway event caused by a REST call, ordered relative to the response by `order`."""
        if self.order is Order.NEVER:
            return
        if self.order is Order.BEFORE:
            await self.gateway.dispatch(name, data)
            if name == "VOICE_STATE_UPDATE":  # the client has the move in its cache before it sees the response
                await self.gateway.flush()
            return
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._dispatch_later())
        self._later.put_nowait((time.monotonic() + DELAYS[self.order], name, data))

    async def _dispatch_later(self) -> None:
        while True:
            due, name, data = await self._later.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await self.gateway.dispatch(name, data)
            self._later.task_done()

    async def settled(self) -> None:
        """Every deferred gateway event sent."""
        await self._later.join()

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def channel(self, cid: int) -> Json:
        if cid not in self.world.channels:
            raise ApiError(404, 10003, "Unknown Channel")
        return self.world.channels[cid]

    # -- routes -------------------------------------------------------------------------------------

    async def _no_content(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        return 204, None

    async def _me(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        return 200, {**self.world.user_json(self.world.bot_id), "verified": True, "mfa_enabled": False, "flags": 0}

    async def _application(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        w = self.world
        return 200, {
            "id": str(w.application_id),
            "name": "deadlock-bot",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": w.user_json(w.bot_id),
            "summary": "",
            "verify_key": "00",
            "team": None,
            "flags": 0,
            "bot": w.user_json(w.bot_id),
        }

    async def _gateway_url(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway.url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        }

    async def _put_commands(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        where = m.group(2) if m.lastindex and m.lastindex >= 2 else "global"
        commands: list[Json] = body.get("_list", [])
        registered = [
            {**c, "id": str(self.world.new_id()), "application_id": str(self.world.application_id), "version": "1"}
            for c in commands
        ]
        self.commands[where] = registered
        return 200, registered

    async def _get_commands(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        where = m.group(2) if m.lastindex and m.lastindex >= 2 else "global"
        return 200, self.commands.get(where, [])

    async def _create_channel(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        w = self.world
        check_name(body.get("name"))
        parent = int(body["parent_id"]) if body.get("parent_id") else None
        if parent is not None and self.channel(parent)["type"] != CATEGORY:
            raise ApiError(400, 50035, "Invalid Form Body")
        check_room(len(w.children(parent)) if parent else None, len(w.channels))
        extra = {k: body[k] for k in ("user_limit", "bitrate", "topic") if body.get(k) is not None}
        extra["permission_overwrites"] = [self._overwrite(o) for o in body.get("permission_overwrites") or []]
        cid = w.add_channel(body["name"], int(body.get("type", 0)), parent_id=parent, **extra)
        await self.emit("CHANNEL_CREATE", dict(w.channels[cid]))
        return 201, dict(w.channels[cid])

    @staticmethod
    def _overwrite(o: Json) -> Json:
        return {
            "id": str(o["id"]),
            "type": int(o.get("type", 0)),
            "allow": str(o.get("allow", "0")),
            "deny": str(o.get("deny", "0")),
        }

    async def _edit_channel(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        cid = int(m.group(1))
        channel = self.channel(cid)
        if "name" in body:
            check_name(body["name"])
            if body["name"] != channel["name"]:
                self.renames.spend(cid)
        for key in ("name", "user_limit", "bitrate", "topic", "rtc_region"):
            if key in body:
                channel[key] = body[key]
        if "permission_overwrites" in body:
            channel["permission_overwrites"] = [self._overwrite(o) for o in body["permission_overwrites"]]
        if "parent_id" in body:
            channel["parent_id"] = str(body["parent_id"]) if body["parent_id"] else None
        if "archived" in body or "locked" in body:
            channel.setdefault("thread_metadata", {}).update({k: body[k] for k in ("archived", "locked") if k in body})
        await self.emit("THREAD_UPDATE" if channel["type"] in (11, 12) else "CHANNEL_UPDATE", dict(channel))
        return 200, dict(channel)

    async def _delete_channel(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        cid = int(m.group(1))
        w = self.world
        channel = self.channel(cid)
        for uid in w.voice_members(cid):
            del w.voice[uid]
            await self.emit("VOICE_STATE_UPDATE", w.voice_state(uid))
        del w.channels[cid]
        await self.emit("CHANNEL_DELETE", channel)
        return 200, channel

    async def _put_overwrite(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        cid, target = int(m.group(1)), int(m.group(2))
        channel = self.channel(cid)
        rest = [o for o in channel["permission_overwrites"] if o["id"] != str(target)]
        channel["permission_overwrites"] = [*rest, self._overwrite({**body, "id": target})]
        await self.emit("CHANNEL_UPDATE", dict(channel))
        return 204, None

    async def _delete_overwrite(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        channel = self.channel(int(m.group(1)))
        channel["permission_overwrites"] = [o for o in channel["permission_overwrites"] if o["id"] != m.group(2)]
        await self.emit("CHANNEL_UPDATE", dict(channel))
        return 204, None

    def _member(self, uid: int) -> Json:
        if uid not in self.world.members:
            raise ApiError(404, 10007, "Unknown Member")
        return self.world.members[uid]

    async def _get_member(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        uid = int(m.group(2))
        self._member(uid)
        return 200, self.world.member_json(uid)

    async def _get_voice_state(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        uid = self.world.bot_id if m.group(2) == "@me" else int(m.group(2))
        if uid not in self.world.voice:
            raise ApiError(404, 10065, "Unknown Voice State")
        return 200, self.world.voice_state(uid)

    async def _edit_member(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        w = self.world
        uid = int(m.group(2))
        member = self._member(uid)
        if "nick" in body:
            member["nick"] = body["nick"]
        if "channel_id" in body:
            if uid not in w.voice:
                raise ApiError(400, 40032, "Target user is not connected to voice.")
            target = body["channel_id"]
            if target is None:
                del w.voice[uid]
            else:
                if self.channel(int(target))["type"] != VOICE:
                    raise ApiError(400, 50024, "Cannot execute action on this channel type")
                w.voice[uid] = int(target)
            await self.emit("VOICE_STATE_UPDATE", w.voice_state(uid))
        return 200, w.member_json(uid)

    async def _send_message(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        cid = int(m.group(1))
        self.channel(cid)
        message = self.world.message_json(self.world.new_id(), cid, self.world.bot_id, body)
        self.world.messages[int(message["id"])] = message
        if self.channel(cid)["type"] != DM:
            await self.emit("MESSAGE_CREATE", message)
        return 200, message

    def _message(self, cid: int, mid: int) -> Json:
        message = self.world.messages.get(mid)
        if message is None or message["channel_id"] != str(cid):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def _edit_message(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        message = self._message(int(m.group(1)), int(m.group(2)))
        message.update({k: body[k] for k in ("content", "embeds", "components") if k in body})
        return 200, message

    async def _delete_message(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        message = self._message(int(m.group(1)), int(m.group(2)))
        del self.world.messages[int(message["id"])]
        return 204, None

    async def _open_dm(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        w = self.world
        uid = int(body["recipient_id"])
        if uid not in w.dm_channels:
            w.dm_channels[uid] = w.new_id()
            w.channels[w.dm_channels[uid]] = {
                "id": str(w.dm_channels[uid]),
                "type": DM,
                "last_message_id": None,
                "recipients": [w.user_json(uid)],
            }
        return 200, w.channels[w.dm_channels[uid]]

    async def _create_thread(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        parent = int(m.group(1))
        self.channel(parent)
        check_name(body.get("name"))
        w = self.world
        tid = w.add_channel(
            body["name"],
            int(body.get("type", PRIVATE_THREAD)),
            owner_id=str(w.bot_id),
            member_count=1,
            message_count=0,
            thread_metadata={
                "archived": False,
                "locked": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
            },
        )
        w.channels[tid]["parent_id"] = str(parent)
        await self.emit("THREAD_CREATE", {**w.channels[tid], "newly_created": True})
        return 201, dict(w.channels[tid])

"""A real DeadlockBot with every feature configured, driven through discord.py's own dispatch.

The guild cache is filled from gateway payloads; messages, clicks, modal submissions and slash
commands arrive as gateway payloads (MESSAGE_CREATE, INTERACTION_CREATE); every HTTP call the
bot makes (REST and interaction responses) is recorded instead of sent. `settle()` waits until
every task discord.py started for the event (command, view, modal, error dispatch) is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import sqlite3
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import discord
import pytest
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.app import DeadlockBot
from bot.db import SqliteDatabase
from bot.db.queries import queries

BASE = 10**17  # ids look like Discord's (converters take 15 to 20 digits as an id)
GUILD = BASE + 100
TEXT = BASE + 110
STAGING = BASE + 120
LANE_CAT = BASE + 130
LANE = BASE + 131
RANKED_CAT = BASE + 140
RANKED = BASE + 141
MATCH_CAT = BASE + 150
ADMIN_ROLE = BASE + 160
OWNER = BASE + 170  # the guild's owner (nobody in the tests)
ADMIN = BASE + 171  # manage_guild + manage_channels
MEMBER = BASE + 172  # no rights at all
PLAYERS = tuple(range(BASE + 181, BASE + 194))  # 13: one more than a match takes
BOT_USER = BASE + 9999
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True, manage_channels=True, view_channel=True)

ENV = {
    "TEMPVOICE_STAGING_CHANNEL_IDS": str(STAGING),
    "RANKVOICE_RANKED_CATEGORY_IDS": str(RANKED_CAT),
    "VOICE_STATUS_CATEGORY_IDS": str(RANKED_CAT),
    "COACHING_ENABLED": "1",
    "BALANCER_MATCH_CATEGORY_IDS": str(MATCH_CAT),
}
_ids = itertools.count(BASE * 10)


def snowflake() -> int:
    return next(_ids)


def user(user_id: int) -> dict[str, Any]:
    return {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0", "avatar": None,
            "global_name": f"User {user_id}"}  # fmt: skip


def member(user_id: int) -> dict[str, Any]:
    roles = [str(ADMIN_ROLE)] if user_id == ADMIN else []
    return {"user": user(user_id), "roles": roles, "joined_at": "2025-01-01T00:00:00+00:00", "deaf": False,
            "mute": False, "flags": 0}  # fmt: skip


def _channel(cid: int, kind: int, name: str, parent: int | None = None) -> dict[str, Any]:
    return {"id": str(cid), "type": kind, "name": name, "position": 0, "permission_overwrites": [],
            "guild_id": str(GUILD), "parent_id": str(parent) if parent else None, "bitrate": 64000,
            "user_limit": 0}  # fmt: skip


def _voice_state(user_id: int, channel: int) -> dict[str, Any]:
    return {"channel_id": str(channel), "user_id": str(user_id), "session_id": "s", "deaf": False, "mute": False,
            "self_deaf": False, "self_mute": False, "self_video": False, "suppress": False,
            "request_to_speak_timestamp": None}  # fmt: skip


def guild_payload() -> dict[str, Any]:
    everyone = {"id": str(GUILD), "name": "@everyone", "permissions": str(discord.Permissions(view_channel=True,
                send_messages=True, connect=True).value), "position": 0, "color": 0, "hoist": False,
                "managed": False, "mentionable": False}  # fmt: skip
    admin = dict(everyone, id=str(ADMIN_ROLE), name="Admin", permissions=str(ADMIN_PERMISSIONS.value), position=1)
    channels = [
        _channel(TEXT, 0, "chat"), _channel(LANE_CAT, 4, "Lanes"), _channel(STAGING, 2, "Lane erstellen", LANE_CAT),
        _channel(LANE, 2, "Lane 1", LANE_CAT), _channel(RANKED_CAT, 4, "Ranked"),
        _channel(RANKED, 2, "Ranked Voice 1", RANKED_CAT), _channel(MATCH_CAT, 4, "Matches"),
    ]  # fmt: skip
    members = [member(m) for m in (ADMIN, MEMBER, *PLAYERS)] + [
        member(BOT_USER) | {"user": user(BOT_USER) | {"bot": True}}
    ]
    voice = [_voice_state(ADMIN, LANE), _voice_state(MEMBER, LANE)] + [_voice_state(p, RANKED) for p in PLAYERS]
    return {"id": str(GUILD), "name": "Deadlock", "owner_id": str(OWNER), "unavailable": False,
            "roles": [everyone, admin], "channels": channels, "members": members, "voice_states": voice,
            "member_count": len(members), "features": [], "emojis": [], "stickers": [], "threads": []}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Call:
    """One HTTP request the bot made: REST (`channels/..`) or an interaction response/followup."""

    method: str
    path: str
    payload: Any

    @property
    def text(self) -> str | None:
        """The content of a message or interaction response (None for anything else)."""
        data = self.payload or {}
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]
        return data.get("content") if isinstance(data, dict) else None

    @property
    def is_answer(self) -> bool:
        """A message to the member (a reply, an ephemeral response, a modal): changes nothing on the server."""
        return (
            (self.method == "POST" and self.path.endswith("/messages"))
            or "/interactions/" in self.path
            or (self.method == "POST" and self.path.startswith("/webhooks/"))
        )


class Harness:
    def __init__(self, bot: DeadlockBot, db_path: Path) -> None:
        self.bot = bot
        self.db_path = db_path
        self.calls: list[Call] = []

    # -- what the bot did ------------------------------------------------------------

    def texts(self) -> list[str]:
        return [c.text for c in self.calls if c.text]

    def changes(self) -> list[Call]:
        """Calls that change something on the server (not an answer, not a read)."""
        return [c for c in self.calls if not c.is_answer and c.method != "GET"]

    def modal(self) -> dict[str, Any]:
        """The last modal the bot opened (interaction response type 9)."""
        modals: list[dict[str, Any]] = [
            c.payload["data"] for c in self.calls if isinstance(c.payload, dict) and c.payload.get("type") == 9
        ]
        assert modals, f"no modal opened: {self.calls}"
        return modals[-1]

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: what "nothing changed" compares."""
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {t: sorted(map(tuple, con.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}
        finally:
            con.close()

    async def settle(self) -> None:
        """Wait for every task discord.py started for the last event (and the tasks those started)."""
        prefixes = ("discord.py: ", "discord-ui-", "CommandTree-invoker")
        me = asyncio.current_task()
        while True:
            pending = [t for t in asyncio.all_tasks() if t is not me and not t.done()
                       and t.get_name().startswith(prefixes)]  # fmt: skip
            if not pending:
                return
            await asyncio.wait(pending, timeout=10)

    async def add_lane(self, owner: int, *members: int) -> None:
        """LANE as a TempVoice lane of `owner`'s, with `members` in it (as the database knows it)."""
        async with self.bot.db.transaction() as conn:
            await queries.tempvoice.insert_lane(
                conn, channel_id=LANE, guild_id=GUILD, owner_id=owner, base_name="Lane 1", category_id=LANE_CAT,
                lane_number=1, min_rank=0, source_staging_id=None, created_at="2026-01-01 00:00:00",
            )  # fmt: skip
            for who in (owner, *members):
                await queries.tempvoice.add_lane_member(conn, channel_id=LANE, user_id=who, joined_at=1)

    # -- what a member does ----------------------------------------------------------

    def _interaction(self, kind: int, author: int, data: dict[str, Any], message: Any = None) -> dict[str, Any]:
        payload = {
            "id": str(snowflake()), "application_id": str(BOT_USER), "type": kind, "token": "token", "version": 1,
            "guild_id": str(GUILD), "channel_id": str(TEXT), "channel": _channel(TEXT, 0, "chat"),
            "member": dict(member(author), permissions=str(self._permissions(author))),
            "app_permissions": str(discord.Permissions.all().value), "locale": "de", "guild_locale": "de",
            "entitlements": [], "authorizing_integration_owners": {}, "attachment_size_limit": 8388608, "data": data,
        }  # fmt: skip
        if message is not None:
            payload["message"] = message
        return payload

    def _permissions(self, author: int) -> int:
        guild = self.bot.get_guild(GUILD)
        assert guild is not None
        found = guild.get_member(author)
        return found.guild_permissions.value if found else 0

    def _message(self, author: int, content: str, components: list[Any] | None = None) -> dict[str, Any]:
        return {"id": str(snowflake()), "channel_id": str(TEXT), "guild_id": str(GUILD), "author": user(author),
                "member": member(author), "content": content, "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
                "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
                "components": components or []}  # fmt: skip

    async def say(self, author: int, content: str) -> None:
        self.bot._connection.parse_message_create(cast(Any, self._message(author, content)))
        await self.settle()

    async def slash(self, author: int, path: list[str], options: list[dict[str, Any]] | None = None) -> None:
        """A slash command; a user option (type 6) gets its member resolved as Discord sends it."""
        inner: list[dict[str, Any]] = options or []
        users = [int(o["value"]) for o in inner if o["type"] == 6]
        for name in reversed(path[1:]):
            inner = [{"type": 1, "name": name, "options": inner}]
        data: dict[str, Any] = {"id": str(snowflake()), "name": path[0], "type": 1, "options": inner}
        if users:
            data["resolved"] = {
                "users": {str(u): user(u) for u in users},
                "members": {str(u): {k: v for k, v in member(u).items() if k != "user"} | {"permissions": "0"}
                            for u in users},
            }  # fmt: skip
        self.bot._connection.parse_interaction_create(cast(Any, self._interaction(2, author, data)))
        await self.settle()

    async def click(
        self, author: int, custom_id: str, *, select: list[str] | None = None, message_id: int | None = None
    ) -> None:
        component: dict[str, Any] = {"type": 2, "custom_id": custom_id, "style": 1, "label": "x"}
        if select is not None:
            component = {"type": 3, "custom_id": custom_id, "options": [{"label": v, "value": v} for v in select]}
        message = self._message(BOT_USER, "", [{"type": 1, "components": [component]}])
        if message_id is not None:
            message["id"] = str(message_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if select is not None:
            data["values"] = select
        self.bot._connection.parse_interaction_create(cast(Any, self._interaction(3, author, data, message)))
        await self.settle()

    async def submit(self, author: int, modal: dict[str, Any], value: str) -> None:
        """Fill every text input of a modal the bot opened with `value` and submit it."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": c["custom_id"], "value": value}
                 for c in row["components"]]} for row in modal["components"]]  # fmt: skip
        data = {"custom_id": modal["custom_id"], "components": rows}
        self.bot._connection.parse_interaction_create(cast(Any, self._interaction(5, author, data)))
        await self.settle()


@dataclasses.dataclass
class _Recorder:
    harness: Harness | None = None

    async def rest(self, route: Any, **kwargs: Any) -> Any:
        assert self.harness is not None
        self.harness.calls.append(Call(route.method, route.path, kwargs.get("json")))
        if route.method == "GET" and route.path == "/guilds/{guild_id}/members/{member_id}":
            guild = self.harness.bot.get_guild(GUILD)
            if guild is None or guild.get_member(int(route.url.rsplit("/", 1)[1])) is None:
                raise discord.NotFound(types.SimpleNamespace(status=404, reason="Not Found"), "Unknown Member")
        if route.method == "POST" and route.path.endswith("/messages"):
            sent = dict(kwargs.get("json") or {})
            return self.harness._message(BOT_USER, sent.get("content") or "") | {"embeds": sent.get("embeds", [])}
        return {}

    async def webhook(self, route: Any, **kwargs: Any) -> Any:
        assert self.harness is not None
        self.harness.calls.append(Call(route.method, route.path, kwargs.get("payload")))
        if "/callback" in route.path:
            return {"interaction": {"id": str(route.webhook_id), "type": 3}}
        return self.harness._message(BOT_USER, (kwargs.get("payload") or {}).get("content") or "")


@contextlib.asynccontextmanager
async def open_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, prefix: str = "!") -> AsyncIterator[Harness]:
    """The bot with every feature on (prefix `prefix`), its guild cached, its HTTP recorded."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COMMAND_PREFIX", prefix)
    recorder = _Recorder()

    async def webhook_request(adapter: AsyncWebhookAdapter, route: Any, session: Any = None, **kwargs: Any) -> Any:
        return await recorder.webhook(route, **kwargs)

    monkeypatch.setattr(AsyncWebhookAdapter, "request", webhook_request)
    path = tmp_path / "bot.sqlite3"
    bot = DeadlockBot(SqliteDatabase(path))
    monkeypatch.setattr(bot.http, "request", recorder.rest)
    await bot._async_setup_hook()
    await bot.setup_hook()
    state = bot._connection
    state.user = discord.ClientUser(state=state, data=cast(Any, user(BOT_USER) | {"bot": True}))
    state.application_id = BOT_USER
    # no gateway: a member lookup goes to HTTP as on a rate-limited gateway
    gateway = types.SimpleNamespace(is_ratelimited=lambda: True)
    monkeypatch.setattr(bot, "_get_websocket", lambda *_, **__: gateway)
    state.parse_guild_create(guild_payload())
    recorder.harness = h = Harness(bot, path)
    try:
        yield h
    finally:
        await bot.close()

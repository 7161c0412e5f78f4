"""Interactions on the local Discord API: the test clicks, selects, submits modals and runs
slash commands as a member; the bot must answer each one once, within 3 seconds."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
import time
from collections.abc import Sequence
from typing import Any

from tests.e2e.gateway import Gateway
from tests.e2e.rules import INTERACTION_DEADLINE, ApiError
from tests.e2e.world import DM, PRIVATE_THREAD, PUBLIC_THREAD, Json, World

EPHEMERAL = 64
COMPONENT, COMMAND, MODAL_SUBMIT = 3, 2, 5
MESSAGE_ANSWER, DEFERRED_ANSWER, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 4, 5, 6, 7, 9


@dataclasses.dataclass
class Pending:
    id: int
    token: str
    user_id: int
    channel_id: int
    created: float
    message: Json | None
    answers: list[int] = dataclasses.field(default_factory=list)  # callback types, in order
    late: int = 0  # answers refused because the deadline had passed
    modal: Json | None = None
    replies: list[Json] = dataclasses.field(default_factory=list)  # messages sent in answer

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    def texts(self) -> list[str]:
        out = []
        for r in self.replies:
            out.append(str(r.get("content") or ""))
            out.extend(f"{e.get('title') or ''} {e.get('description') or ''}" for e in r.get("embeds") or [])
        return out


class Interactions:
    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gateway = gateway
        self.all: list[Pending] = []
        self._by_token: dict[str, Pending] = {}
        self.refused_twice = 0

    # -- what the test does as a member --------------------------------------------------------------

    async def _create(self, kind: int, user_id: int, channel_id: int, data: Json, message: Json | None) -> Pending:
        w = self.world
        p = Pending(w.new_id(), "tok-" + secrets.token_hex(8), user_id, channel_id, time.monotonic(), message)
        self.all.append(p)
        self._by_token[p.token] = p
        channel = w.channels[channel_id]
        partial = dict(channel) if channel["type"] in (PUBLIC_THREAD, PRIVATE_THREAD) else {}  # threads: in full
        payload: Json = {
            "id": str(p.id),
            "application_id": str(w.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(w.guild_id),
            "channel_id": str(channel_id),
            "channel": partial
            or {
                "id": str(channel_id),
                "type": channel["type"],
                "name": channel.get("name"),
                "guild_id": str(w.guild_id),
                "parent_id": channel.get("parent_id"),
                "flags": 0,
                "permission_overwrites": channel.get("permission_overwrites", []),
                "position": 0,
                "nsfw": False,
            },
            "member": {**w.member_json(user_id), "permissions": self._permissions(user_id)},
            "token": p.token,
            "version": 1,
            "locale": "de",
            "guild_locale": "de",
            "app_permissions": "8",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(w.guild_id)},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        if message is not None:
            payload["message"] = message
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return p

    def _permissions(self, user_id: int) -> str:
        bits = 0
        for rid in [self.world.guild_id, *(int(r) for r in self.world.members[user_id]["roles"])]:
            bits |= int(self.world.roles[rid]["permissions"])
        return str(bits)

    async def click(self, user_id: int, message_id: int, custom_id: str, *, values: list[str] | None = None) -> Pending:
        message = self.world.messages[message_id]
        data: Json = {"custom_id": custom_id, "component_type": 3 if values is not None else 2}
        if values is not None:
            data["values"] = values
        return await self._create(COMPONENT, user_id, int(message["channel_id"]), data, message)

    async def submit(self, opened: Pending, values: list[str]) -> Pending:
        """Fill in the text inputs of the modal `opened` showed, in order, and send it."""
        assert opened.modal is not None, "that interaction opened no modal"
        given = iter(values)

        def filled(component: Json) -> Json:
            if component.get("type") == 4:
                return {"type": 4, "custom_id": component["custom_id"], "value": next(given, "")}
            out = {k: v for k, v in component.items() if k in ("type", "id")}
            if "components" in component:
                out["components"] = [filled(c) for c in component["components"]]
            if "component" in component:
                out["component"] = filled(component["component"])
            return out

        data = {"custom_id": opened.modal["custom_id"], "components": [filled(c) for c in opened.modal["components"]]}
        return await self._create(MODAL_SUBMIT, opened.user_id, opened.channel_id, data, opened.message)

    async def pick(
        self, user_id: int, message_id: int, custom_id: str, *, members: Sequence[int] = (), roles: Sequence[int] = ()
    ) -> Pending:
        """Choose members and roles in a user, role or mentionable select of the message (its
        type as the message shows it): the ids with Discord's resolved data."""
        message = self.world.messages[message_id]
        kinds = [c.get("type") for row in message.get("components") or [] for c in row.get("components") or []
                 if c.get("custom_id") == custom_id]  # fmt: skip
        data: Json = {
            "custom_id": custom_id,
            "component_type": kinds[0] if kinds else 5,
            "values": [str(i) for i in [*members, *roles]],
            "resolved": self.resolved(members=members, roles=roles),
        }
        return await self._create(COMPONENT, user_id, int(message["channel_id"]), data, message)

    def resolved(self, *, members: Sequence[int] = (), roles: Sequence[int] = ()) -> Json:
        """Discord's `resolved` of an interaction naming these members and roles."""
        w = self.world
        member_data = {str(m): {k: v for k, v in w.member_json(m).items() if k != "user"} for m in members}
        for m in members:
            member_data[str(m)]["permissions"] = self._permissions(m)
        return {
            "users": {str(m): w.user_json(m) for m in members},
            "members": member_data,
            "roles": {str(r): dict(w.roles[r]) for r in roles},
        }

    async def slash(
        self,
        user_id: int,
        channel_id: int,
        name: str,
        options: list[Json] | None = None,
        *,
        resolved: Json | None = None,
    ) -> Pending:
        data = {"id": str(self.world.new_id()), "name": name, "type": 1, "options": options or []}  # a global command
        if resolved is not None:
            data["resolved"] = resolved
        return await self._create(COMMAND, user_id, channel_id, data, None)

    async def answered(self, p: Pending, *, replies: int = 1, max_wait: float = 10.0) -> Pending:
        """Wait until the bot answered `p` and sent `replies` messages for it."""
        deadline = time.monotonic() + max_wait
        while not (p.answered and len(p.replies) >= replies):
            if time.monotonic() > deadline:
                raise TimeoutError(f"interaction {p.id}: answers {p.answers}, replies {p.texts()}")
            await asyncio.sleep(0.02)
        return p

    def unanswered(self) -> list[Pending]:
        return [p for p in self.all if not p.answered]

    # -- what the bot calls ---------------------------------------------------------------------------

    def _pending(self, token: str) -> Pending:
        p = self._by_token.get(token)
        if p is None:
            raise ApiError(404, 10062, "Unknown interaction")
        return p

    async def callback(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        p = self._pending(m.group(2))
        if time.monotonic() - p.created > INTERACTION_DEADLINE:
            p.late += 1
            raise ApiError(404, 10062, "Unknown interaction")
        if p.answered:
            self.refused_twice += 1
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        kind = int(body["type"])
        data: Json = body.get("data") or {}
        p.answers.append(kind)
        resource: Json = {"type": kind}
        if kind == MESSAGE_ANSWER:
            resource["message"] = self._reply(p, data)
        elif kind == UPDATE_MESSAGE and p.message is not None:
            p.message.update({k: data[k] for k in ("content", "embeds", "components") if k in data})
            resource["message"] = p.message
        elif kind == MODAL:
            p.modal = data
        interaction = {
            "id": str(p.id),
            "type": kind,
            "response_message_loading": kind == DEFERRED_ANSWER,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        if "message" in resource:
            interaction["response_message_id"] = resource["message"]["id"]
        return 200, {"interaction": interaction, "resource": resource}

    def _reply(self, p: Pending, data: Json) -> Json:
        message = self.world.message_json(self.world.new_id(), p.channel_id, self.world.bot_id, data)
        message.update(
            interaction={"id": str(p.id), "type": 2, "name": "x", "user": self.world.user_json(p.user_id)},
            webhook_id=str(self.world.application_id),
        )
        if self.world.channels.get(p.channel_id, {}).get("type") == DM:
            message.pop("guild_id", None)
        self.world.messages[int(message["id"])] = message
        p.replies.append(message)
        return message

    async def followup(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        p = self._pending(m.group(2))
        if not p.answered:
            raise ApiError(404, 10015, "Unknown Webhook")
        return 200, self._reply(p, body)

    async def edit_response(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        p = self._pending(m.group(2))
        if m.group(3) == "@original" and p.answers and p.answers[0] in (DEFERRED_ANSWER,) and not p.replies:
            return 200, self._reply(p, body)
        target = p.replies[0] if m.group(3) == "@original" and p.replies else p.message
        if target is None:
            raise ApiError(404, 10008, "Unknown Message")
        target.update({k: body[k] for k in ("content", "embeds", "components") if k in body})
        return 200, target

    async def get_response(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        p = self._pending(m.group(2))
        if not p.replies:
            raise ApiError(404, 10008, "Unknown Message")
        return 200, p.replies[0] if m.group(3) == "@original" else self._reply_by_id(p, int(m.group(3)))

    @staticmethod
    def _reply_by_id(p: Pending, message_id: int) -> Json:
        for reply in p.replies:
            if int(reply["id"]) == message_id:
                return reply
        raise ApiError(404, 10008, "Unknown Message")

    async def delete_response(self, m: re.Match[str], body: Json) -> tuple[int, Any]:
        self._pending(m.group(2))
        return 204, None

"""The small world of the local Discord API: one guild with its categories, channels, roles,
members and voice states, kept in Discord's JSON shapes (what REST answers and the gateway sends)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

Json = dict[str, Any]

VOICE, TEXT, CATEGORY, DM, PUBLIC_THREAD, PRIVATE_THREAD = 2, 0, 4, 1, 11, 12
ADMINISTRATOR = 1 << 3
DISCORD_EPOCH_MS = 1_420_070_400_000
#: what @everyone may do by default (view, connect, speak, send messages, ...)
EVERYONE_PERMISSIONS = 0x0000_0006_3E6C_6E41


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class World:
    """Guild state consistent with the calls received. Ids are snowflakes counted upward."""

    def __init__(self) -> None:
        self._last_id = 0
        self.application_id = self.new_id()
        self.bot_id = self.application_id
        self.guild_id = self.new_id()
        self.guild_name = "Deadlock Community"
        self.roles: dict[int, Json] = {}
        self.channels: dict[int, Json] = {}
        self.members: dict[int, Json] = {}
        self.voice: dict[int, int] = {}  # member id -> voice channel id
        self.messages: dict[int, Json] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.add_role("@everyone", role_id=self.guild_id, permissions=EVERYONE_PERMISSIONS, position=0)
        bot_role = self.add_role("deadlock-bot", permissions=ADMINISTRATOR, position=50)
        self.add_member("deadlock-bot", member_id=self.bot_id, roles=[bot_role], bot=True)

    def new_id(self) -> int:
        """A snowflake of now (discord.py reads an interaction's age from its id), strictly increasing."""
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, stamp)
        return self._last_id

    # -- building the world ----------------------------------------------------------------

    def add_role(self, name: str, *, role_id: int | None = None, permissions: int = 0, position: int = 1) -> int:
        rid = role_id or self.new_id()
        self.roles[rid] = {
            "id": str(rid),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0},
            "hoist": False,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }
        return rid

    def add_member(
        self, name: str, *, member_id: int | None = None, roles: list[int] | None = None, bot: bool = False
    ) -> int:
        mid = member_id or self.new_id()
        self.members[mid] = {
            "user": {
                "id": str(mid),
                "username": name,
                "global_name": name,
                "discriminator": "0",
                "avatar": None,
                "bot": bot,
            },
            "roles": [str(r) for r in roles or []],
            "nick": None,
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        return mid

    def add_channel(self, name: str, kind: int, *, parent_id: int | None = None, **extra: Any) -> int:
        cid = self.new_id()
        self.channels[cid] = self.channel_json(cid, name, kind, parent_id, extra)
        return cid

    def channel_json(self, cid: int, name: str, kind: int, parent_id: int | None, extra: Json) -> Json:
        data: Json = {
            "id": str(cid),
            "type": kind,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": len(self.channels),
            "parent_id": str(parent_id) if parent_id else None,
            "permission_overwrites": [],
            "nsfw": False,
            "flags": 0,
        }
        if kind == VOICE:
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                video_quality_mode=1,
                rate_limit_per_user=0,
                last_message_id=None,
            )
        elif kind == TEXT:
            data.update(topic=None, rate_limit_per_user=0, last_message_id=None)
        data.update(extra)
        return data

    # -- reading -------------------------------------------------------------------------------

    def channel_name(self, cid: int) -> str:
        return str(self.channels[cid]["name"])

    def children(self, category_id: int) -> list[Json]:
        return [c for c in self.channels.values() if c.get("parent_id") == str(category_id)]

    def voice_members(self, cid: int) -> list[int]:
        return [m for m, c in self.voice.items() if c == cid]

    def overwrite(self, cid: int, target: int) -> Json | None:
        for ow in self.channels[cid]["permission_overwrites"]:
            if ow["id"] == str(target):
                return dict(ow)
        return None

    # -- payloads ------------------------------------------------------------------------------

    def user_json(self, uid: int) -> Json:
        return dict(self.members[uid]["user"])

    def member_json(self, uid: int) -> Json:
        return {**self.members[uid], "user": self.user_json(uid)}

    def voice_state(self, uid: int) -> Json:
        cid = self.voice.get(uid)
        return {
            "guild_id": str(self.guild_id),
            "channel_id": str(cid) if cid else None,
            "user_id": str(uid),
            "member": self.member_json(uid),
            "session_id": f"voice-{uid}",
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_video": False,
            "self_stream": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }

    def guild_json(self) -> Json:
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "owner_id": str(self.bot_id),
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "premium_tier": 1,
            "premium_subscription_count": 2,
            "preferred_locale": "de",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "splash": None,
            "discovery_splash": None,
            "application_id": None,
            "system_channel_id": None,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "afk_channel_id": None,
        }

    def guild_create(self) -> Json:
        """GUILD_CREATE with every member (member_count matches: no chunking wait)."""
        states = [self.voice_state(uid) for uid in self.voice]
        for s in states:
            del s["member"], s["guild_id"]
        return {
            **self.guild_json(),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": now_iso(),
            "channels": [
                self._without_guild(c) for c in self.channels.values() if c["type"] in (TEXT, VOICE, CATEGORY)
            ],
            "threads": [  # active threads come apart from the channels, as Discord sends them
                c
                for c in self.channels.values()
                if c["type"] in (PUBLIC_THREAD, PRIVATE_THREAD) and not c["thread_metadata"]["archived"]
            ],
            "members": [self.member_json(m) for m in self.members],
            "voice_states": states,
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    @staticmethod
    def _without_guild(channel: Json) -> Json:
        return {k: v for k, v in channel.items() if k != "guild_id"}

    def message_json(self, mid: int, channel_id: int, author_id: int, body: Json) -> Json:
        return {
            "id": str(mid),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild_id),
            "author": self.user_json(author_id),
            "member": self.member_json(author_id),
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
        }

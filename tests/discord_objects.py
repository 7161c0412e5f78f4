"""Real discord.py state built from gateway payloads (no network): for wiring tests."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands

GUILD = 1111
STAGING = 3333
LANE = 2222
CATEGORY = 5555
USER = 4444
ROLE = 6666


def _member(user_id: int, name: str, roles: list[int] | None = None) -> dict[str, Any]:
    return {
        "user": {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "avatar": None,
            "global_name": name.title(),
        },
        "roles": [str(r) for r in roles or []],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def _role(role_id: int, name: str) -> dict[str, Any]:
    return {"id": str(role_id), "name": name, "permissions": "0", "position": 0, "color": 0, "hoist": False,
            "managed": False, "mentionable": False}  # fmt: skip


def guild_payload() -> dict[str, Any]:
    def voice(cid: int, name: str, overwrites: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {
            "id": str(cid), "type": 2, "name": name, "position": 0, "bitrate": 64000, "user_limit": 4,
            "parent_id": str(CATEGORY), "permission_overwrites": overwrites or [], "guild_id": str(GUILD),
        }  # fmt: skip

    category = {"id": str(CATEGORY), "type": 4, "name": "Lanes", "position": 0, "permission_overwrites": [],
                "guild_id": str(GUILD)}  # fmt: skip
    connect, speak = str(discord.Permissions(connect=True).value), str(discord.Permissions(speak=True).value)
    deny_connect = [
        {"id": str(ROLE), "type": 0, "allow": "0", "deny": connect},
        {"id": str(USER), "type": 1, "allow": speak, "deny": "0"},
    ]
    return {
        "id": str(GUILD), "name": "Deadlock", "owner_id": str(USER), "unavailable": False,
        "roles": [_role(GUILD, "@everyone"), _role(ROLE, "Archon")],
        "channels": [category, voice(LANE, "Lane 1", deny_connect), voice(STAGING, "Staging")],
        "members": [_member(USER, "alice", [ROLE])], "voice_states": [], "member_count": 1,
        "features": [], "emojis": [], "stickers": [],
    }  # fmt: skip


def voice_state(channel: int | None, *, self_mute: bool = False) -> Any:  # a GuildVoiceState payload
    return {
        "guild_id": str(GUILD), "channel_id": str(channel) if channel else None, "user_id": str(USER),
        "session_id": "s", "deaf": False, "mute": False, "self_deaf": False, "self_mute": self_mute,
        "self_video": False, "suppress": False, "request_to_speak_timestamp": None,
        "member": _member(USER, "alice", [ROLE]),
    }  # fmt: skip


async def offline_bot() -> commands.Bot:
    """A bot whose cache is filled from payloads, as after GUILD_CREATE; it never connects."""
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents, chunk_guilds_at_startup=False)
    await bot._async_setup_hook()
    state = bot._connection
    me: Any = {"id": "9999", "username": "bot", "discriminator": "0", "avatar": None, "bot": True, "global_name": None}
    state.user = discord.ClientUser(state=state, data=me)
    state.parse_guild_create(guild_payload())
    return bot

"""Checks that every path of a cog passes (a cog_check also runs for the subcommands of a
group with invoke_without_command=True, which the group's own checks do not)."""

from __future__ import annotations

from typing import Any

import discord
from discord.ext import commands


def require_guild_permission(ctx: commands.Context[Any], permission: str) -> bool:
    """On a server, and the author has `permission` there; else NoPrivateMessage or
    MissingPermissions (the one error path answers both in German)."""
    if ctx.guild is None or not isinstance(ctx.author, discord.Member):
        raise commands.NoPrivateMessage()
    if not getattr(ctx.author.guild_permissions, permission):
        raise commands.MissingPermissions([permission])
    return True

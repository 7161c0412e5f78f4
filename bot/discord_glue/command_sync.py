"""Registering the slash commands with Discord (`tree.sync()`), only when they changed.

Discord limits how many commands an application may create per day, so the bot does not
sync on every start: it hashes the payload `tree.sync()` would send and keeps the hash of
the last successful global sync in `kv_store`; a start with the same commands sends
nothing. `deadlock-bot commands sync [--guild ID]` syncs on demand (a guild sync appears at
once, for testing; a global one is what members see)."""

from __future__ import annotations

import hashlib
import json
import logging

import discord
from discord import app_commands

from bot.db import Database
from bot.db.queries import queries

log = logging.getLogger(__name__)
KV_NS = "app_commands"
GLOBAL_KEY = "global_payload_sha256"


def payload_hash(tree: app_commands.CommandTree[discord.Client]) -> str:
    """SHA-256 of the global commands' payload, as `tree.sync()` sends it."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def describe(commands: list[app_commands.AppCommand]) -> list[str]:
    """One line per registered command: `/name - description`, subcommands indented."""
    lines = []
    for command in sorted(commands, key=lambda c: c.name):
        lines.append(f"/{command.name} - {command.description}")
        for option in command.options:
            if isinstance(option, app_commands.AppCommandGroup):
                lines.append(f"    {option.name} - {option.description}")
    return lines


async def sync_commands(
    tree: app_commands.CommandTree[discord.Client], db: Database, *, guild_id: int | None = None
) -> list[app_commands.AppCommand]:
    """Register the commands globally (remembering the payload's hash) or in one guild."""
    if guild_id is not None:
        guild = discord.Object(guild_id)
        tree.copy_global_to(guild=guild)
        return await tree.sync(guild=guild)
    digest = payload_hash(tree)
    registered = await tree.sync()
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns=KV_NS, k=GLOBAL_KEY, v=digest)
    return registered


async def sync_if_changed(tree: app_commands.CommandTree[discord.Client], db: Database) -> bool:
    """At start: sync globally only when the commands differ from the last sync. A refused
    sync is logged and retried at the next start (the bot runs on with its prefix commands)."""
    if tree.client.application_id is None:  # not logged in (setup_hook driven directly): nothing to sync with
        log.info("no application id: the slash commands are not synced")
        return False
    digest = payload_hash(tree)
    async with db.read() as conn:
        stored = await queries.core.get_kv(conn, ns=KV_NS, k=GLOBAL_KEY)
    if stored == digest:
        log.info("slash commands unchanged since the last sync: nothing sent to Discord")
        return False
    try:
        registered = await sync_commands(tree, db)
    except discord.HTTPException as e:
        log.warning("registering the slash commands failed (%s); retried at the next start", e)
        return False
    log.info("slash commands registered: %s", ", ".join(sorted(f"/{c.name}" for c in registered)))
    return True

"""One error path for everything the bot registers: prefix and hybrid commands
(`on_command_error`), application commands (`tree.on_error`), views and modals (the base
classes below) and dynamic items (`answer_errors`).

The rule: what the member did wrong gets a German one-liner (texts in `texts.Common`);
something that is not ours (another bot's `!rank`) is silence at DEBUG level; a bug is logged
once with its traceback and the member hears `Common.ERROR`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_glue.texts import Common

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()


def usage(ctx: commands.Context[Any]) -> str:
    """`!balance end <id> [skip]`: the configured prefix, the command and its parameters."""
    command = ctx.command
    if command is None:
        return ctx.clean_prefix
    return f"{ctx.clean_prefix}{command.qualified_name} {command.signature}".rstrip()


def configured_prefix(bot: Any, default: str = "!") -> str:
    """The bot's configured command prefix (COMMAND_PREFIX) for texts shown outside a command,
    e.g. after a button click; `default` when the prefix is not a plain string."""
    configured = getattr(bot, "command_prefix", None)
    return configured if isinstance(configured, str) else default


def text_prefix(ctx: commands.Context[Any]) -> str:
    """The configured prefix for help texts (under a slash command too, where ctx's prefix is "/")."""
    return configured_prefix(ctx.bot, ctx.clean_prefix)


def _unwrap(error: Exception) -> Exception:
    while isinstance(error, (commands.CommandInvokeError, commands.HybridCommandError)):
        inner = error.original
        if not isinstance(inner, Exception):
            break
        error = inner
    if isinstance(error, app_commands.CommandInvokeError) and isinstance(error.original, Exception):
        return error.original
    return error


def member_text(error: Exception, ctx: commands.Context[Any] | None = None) -> str | None:
    """The German one-liner for a mistake of the member; None for a bug."""
    if isinstance(error, (commands.NoPrivateMessage, app_commands.NoPrivateMessage)):
        return Common.GUILD_ONLY
    if isinstance(error, (commands.MissingPermissions, app_commands.MissingPermissions)):
        names = [Common.PERMISSION_NAMES.get(p, p) for p in error.missing_permissions]
        return Common.NEEDS_PERMISSION.format(permission=", ".join(names))
    if isinstance(error, (commands.MemberNotFound, commands.UserNotFound)):
        return Common.NOT_A_MEMBER.format(value=error.argument)
    if isinstance(error, (commands.ChannelNotFound, commands.ChannelNotReadable)):
        return Common.NOT_A_CHANNEL.format(value=error.argument)
    if isinstance(error, (commands.UserInputError, app_commands.TransformerError)) and ctx is not None:
        return Common.BAD_ARGUMENT.format(usage=usage(ctx))
    if isinstance(error, (commands.CheckFailure, app_commands.CheckFailure)):  # a check without its own text
        return Common.NOT_ALLOWED
    return None


async def on_command_error(ctx: commands.Context[Any], error: Exception) -> None:
    """The bot's one handler for prefix and hybrid commands."""
    error = _unwrap(error)
    if isinstance(error, commands.CommandNotFound):  # another bot's command, a typo: not ours to answer
        log.debug("no command: %s", error)
        return
    text = member_text(error, ctx)
    if text is None:
        log.error("command %s failed", ctx.command and ctx.command.qualified_name, exc_info=error)
        text = Common.ERROR
    else:
        log.debug("command %s refused: %s", ctx.command and ctx.command.qualified_name, error)
    with contextlib.suppress(discord.HTTPException):
        if ctx.interaction is not None:
            await _answer(ctx.interaction, text)
        else:
            await ctx.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)


async def on_app_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """`tree.on_error`: application commands that are not hybrid prefix commands."""
    unwrapped = _unwrap(error)
    text = member_text(unwrapped)
    if text is None and isinstance(unwrapped, app_commands.TransformerError):
        text = Common.BAD_ARGUMENT.format(usage=f"/{interaction.command.qualified_name if interaction.command else ''}")
    if text is None:
        log.error("application command %s failed", interaction.command and interaction.command.name, exc_info=error)
        text = Common.ERROR
    await report(interaction, text)


async def _answer(interaction: discord.Interaction, text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def report(interaction: discord.Interaction, text: str = Common.ERROR) -> None:
    """Tell the clicker (ephemeral); an interaction that expired meanwhile is no second error."""
    with contextlib.suppress(discord.HTTPException):
        await _answer(interaction, text)


async def interaction_failed(interaction: discord.Interaction, error: Exception, where: object) -> None:
    log.error("%s failed", where, exc_info=error)
    await report(interaction)


class View(discord.ui.View):
    """The base of every view of the bot: a failing callback is logged and answered."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await interaction_failed(interaction, error, f"{type(self).__name__} {getattr(item, 'custom_id', item)}")


class Modal(discord.ui.Modal):
    """The base of every modal of the bot: a failing submission is logged and answered."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]  # discord.py's own Modal narrows it so
        await interaction_failed(interaction, error, type(self).__name__)


@contextlib.asynccontextmanager
async def answer_errors(interaction: discord.Interaction, where: object) -> AsyncIterator[None]:
    """For dynamic items, whose errors discord.py only logs: log and answer like a view."""
    try:
        yield
    except Exception as e:
        await interaction_failed(interaction, e, where)


def install(tree: app_commands.CommandTree[Any]) -> None:
    """Application command errors take the one path too (DeadlockBot's constructor calls this;
    its `on_command_error` is the function above)."""
    tree.on_error = on_app_command_error  # type: ignore[method-assign]

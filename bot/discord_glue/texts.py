"""Texts every feature's Discord glue shares (German, as the community knows them)."""

from __future__ import annotations

from typing import ClassVar


class Common:
    ERROR = "Da ist etwas schiefgelaufen. Bitte versuch es noch einmal."
    GUILD_ONLY = "Das geht nur auf einem Server."
    NEEDS_PERMISSION = "Dafür brauchst du die Berechtigung „{permission}“."
    NEEDS_MANAGE_GUILD = NEEDS_PERMISSION.format(permission="Server verwalten")
    NEEDS_MANAGE_CHANNELS = NEEDS_PERMISSION.format(permission="Kanäle verwalten")
    #: discord.py's permission names -> the names Discord's German client shows
    PERMISSION_NAMES: ClassVar[dict[str, str]] = {
        "manage_guild": "Server verwalten",
        "manage_channels": "Kanäle verwalten",
    }
    NOT_ALLOWED = "Das darfst du hier nicht."
    BAD_ARGUMENT = "Das habe ich nicht verstanden. So geht es: `{usage}`"
    NOT_A_MEMBER = "„{value}“ ist kein Mitglied dieses Servers."
    NOT_A_CHANNEL = "„{value}“ ist kein passender Kanal dieses Servers."
    OPTION_MEMBER = "Das Mitglied (ohne Angabe: du)"  # a slash option's description
    OPTION_CHANNEL = "Der Sprachkanal (ohne Angabe: deiner)"  # a slash option's description

"""The live voice status's user-facing texts (German)."""

from __future__ import annotations


class VoiceStatus:
    #: the channel-name parts the status appends
    IN_MATCH = " - im Match Min {minutes} ({players}/{slots})"
    IN_LOBBY = " - in der Lobby"
    #: `!dlvs` (admins)
    LINE = "<#{channel}>: {state}{suffix}"
    NO_DECISIONS = "Noch keine Entscheidungen."
    NAME_A_CHANNEL = "Nenne einen Sprachkanal oder tritt einem bei."
    NO_DECISION = "Für diesen Kanal gibt es noch keine Entscheidung."
    SNAPSHOT = "<#{channel}>: {state}{suffix} · Spieler {players}/{slots} · {renamed}\n```json\n{detail}\n```"
    RENAMED_AT = "zuletzt umbenannt <t:{at}:R>"
    NEVER_RENAMED = "noch nie umbenannt"
    TRACE_ON = "an"
    TRACE_OFF = "aus"
    TRACE = "Tracing ist {state} ({file})."


class Options:
    """The slash commands' option descriptions (shown in Discord's command picker)."""

    STATE = "ein, aus oder status"


class Commands:
    """The commands' descriptions, as Discord's command picker shows them."""

    DLVS = "Live-Voice-Status der überwachten Kanäle (Server verwalten)"
    DLVS_SNAPSHOT = "Die letzte Entscheidung für einen Sprachkanal"
    DLVS_TRACE = "Tracing in eine rotierende Datei ein- oder ausschalten"

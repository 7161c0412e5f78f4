"""Rank voice's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations

from bot.discord_glue.texts import Common


class RankVoice:
    NO_PERMISSION = Common.NEEDS_MANAGE_CHANNELS
    NOT_MANAGED = "Dieser Kanal ist kein Rang-Sprachkanal."
    ENABLED = "Rang-System für diesen Kanal aktiviert."
    DISABLED = "Rang-System für diesen Kanal deaktiviert: der Kanal ist wieder offen."
    REFRESHED = "Neu verankert: {rank} (erlaubt {low} bis {high})."
    REFRESHED_EMPTY = "Zurückgesetzt: der Kanal ist leer und offen."
    STATE_ON = "aktiv"
    STATE_OFF = "deaktiviert"
    CHANNEL_FREE = "Modus {mode}, {state}, noch kein Anker."
    CHANNEL_ANCHORED = "Modus {mode}, {state}: Anker {rank} von <@{user}>, erlaubt {low} bis {high}."
    NOT_IN_VOICE = "Du bist in keinem Sprachkanal."
    NO_ANCHORS = "Keine verankerten Kanäle."
    NAME_PART = " • {rank}"  # the channel-name part: the anchor's rank ...
    NAME_RADIUS = " +/-{radius}"  # ... and the window around it
    STATUS = "Verankerte Kanäle: {count} · Dein Rang: {rank}"
    ANCHOR_LINE = "<#{channel}>: {rank} ({low}–{high})"
    ROLE_LINE = "{rank}: {role} ({count})"
    NO_ROLES = "Keine Rang-Rollen gefunden."
    CATEGORIES = "Ranked (±1): {ranked}\nGrind (±2): {grind}\nAusgenommen: {excluded}"
    INFO = "{name}: {rank}"
    BALANCING_RULE = (
        "Rang-Kanäle lassen ab dem ersten Spieler nur Ränge in seiner Nähe zu: in „Ranked“-Kategorien ±1, "
        "in „Grind“-Kategorien ±2 Rangstufen (begrenzt auf Initiate bis Eternus)."
    )
    HELP = (
        "**{prefix}rrang** – Rang-Sprachkanäle\n"
        "`status` Systemstatus und dein Rang · `anker` verankerte Kanäle · `vcstatus` dein Kanal · "
        "`info [@Mitglied]` Rang · `rollen` Rang-Rollen · `kanaele` überwachte Kategorien\n"
        "Mit „Kanäle verwalten“: `toggle ein|aus`, `aktualisieren [#Kanal]`"
    )


class Options:
    """The slash commands' option descriptions (shown in Discord's command picker)."""

    STATE = "ein oder aus (ohne Angabe: der Zustand deines Kanals)"


class Commands:
    """The commands' descriptions, as Discord's command picker shows them."""

    RRANG = "Rang-Sprachkanäle"
    RRANG_STATUS = "Systemstatus und dein Rang"
    RRANG_ANKER = "Verankerte Kanäle"
    RRANG_TOGGLE = "Rang-System im eigenen Kanal ein- oder ausschalten"
    RRANG_VCSTATUS = "Status deines Sprachkanals"
    RRANG_INFO = "Rang eines Mitglieds"
    RRANG_AKTUALISIEREN = "Kanal neu verankern (Kanäle verwalten)"
    RRANG_ROLLEN = "Rang-Rollen und wie viele sie haben"
    RRANG_KANAELE = "Überwachte Kategorien"

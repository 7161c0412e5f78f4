"""Rank voice's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations


class RankVoice:
    NO_PERMISSION = "Dafür brauchst du die Berechtigung „Kanäle verwalten“."
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
    HELP = (
        "**!rrang** – Rang-Sprachkanäle\n"
        "`status` Systemstatus und dein Rang · `anker` verankerte Kanäle · `vcstatus` dein Kanal · "
        "`info [@Mitglied]` Rang · `rollen` Rang-Rollen · `kanaele` überwachte Kategorien\n"
        "Mit „Kanäle verwalten“: `toggle ein|aus`, `aktualisieren [#Kanal]`"
    )

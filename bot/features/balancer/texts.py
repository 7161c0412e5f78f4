"""The team balancer's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations


class Balancer:
    NO_PERMISSION = "Matches erstellen, beenden und aufräumen dürfen nur Hosts (Host-Rolle oder „Kanäle verwalten“)."
    NOT_IN_VOICE = "Du musst in einem Sprachkanal sein."
    TOO_FEW = "Zu wenige Spieler: mindestens 4 (gefunden: {count})."
    NO_MATCH = "Match {id} gibt es nicht (oder es ist schon beendet)."
    NO_CATEGORY = "Die Match-Kategorie ist nicht eingerichtet."
    CREATE_FAILED = "Die Match-Kanäle konnten nicht erstellt werden (Kategorie voll oder keine Rechte)."
    TEAM_A = "🟠 Team Amber • {id}"
    TEAM_B = "🔵 Team Sapphire • {id}"
    DEBRIEF = "💬 Nachbesprechung • {id}"
    STARTED = "Match {id} gestartet: {moved} Spieler verschoben."
    NOT_IN_VOICE_LIST = "nicht in Voice: {names}"
    ENDED = "Match {id} beendet."
    ENDED_DEBRIEF = "Match {id} beendet, Nachbesprechung in {channel}."
    CLEANED = "{count} Match(es) aufgeräumt."
    NO_MATCHES = "Keine laufenden Matches."
    SELECT_TOO_MANY = "Höchstens 12 Spieler (6v6)."
    SELECT_ONLY_HOST = "Nur der Host kann diese Auswahl bedienen."
    SELECT_START = "🎮 Match starten ({count}/12)"
    SELECT_RANDOM = "🎲 Zufällige Auswahl"
    SELECT_TITLE = "Mehr als 12 Spieler: wähle bis zu 12 aus."
    HELP = (
        "**!balance** (auch !bal, !teams) – Teams nach Rang\n"
        "`auto`/`voice` Vorschau für deinen Kanal · `matches` laufende Matches · `status [@Mitglied]` Rang\n"
        "Hosts: `start` (mehr als 12: Auswahl) · `manual @a @b ...` (4–12) · `end <id> [skip]` · "
        "`cleanup [Stunden]`"
    )

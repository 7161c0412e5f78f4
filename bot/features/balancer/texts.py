"""The team balancer's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations

from typing import ClassVar


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
    NOT_MEMBERS = "Kein Mitglied dieses Servers: {ids}."
    TEAM_AMBER = "🟠 Team Amber"
    TEAM_SAPPHIRE = "🔵 Team Sapphire"
    NO_RANK_ROLE = "keine Rang-Rolle"
    STATUS = "{name}: {rank} (Rolle: {role})"
    SELECT_RANDOM = "🎲 Zufällige Auswahl"
    SELECT_TITLE = "Mehr als 12 Spieler: wähle bis zu 12 aus."
    SELECT_GONE = "Diese Auswahl ist abgelaufen (15 Minuten) oder schon gestartet. Neu öffnen: {prefix}balance start"
    PREVIEW_GONE = "Diese Vorschau ist abgelaufen (15 Minuten) oder schon gestartet. Neu öffnen: {prefix}balance auto"
    HELP = (
        "**{prefix}balance** (auch {prefix}bal, {prefix}teams) – Teams nach Rang und Wertung\n"
        "`auto`/`voice` Vorschau für deinen Kanal · `matches` laufende Matches · `status [@Mitglied]` Rang\n"
        "`history [@Mitglied]` letzte Matches · `top` Rangliste · `stats [@Mitglied]` Statistik\n"
        "Hosts: `start` (mehr als 12: Auswahl) · `manual @a @b ...` (4–12, mehr: Auswahl) · `end <id> [skip]` · "
        "`result <id> A|B|abbrechen` · `cleanup [Stunden]`"
    )


class Results:
    """Results, ratings, history and the leaderboard."""

    OUTCOME: ClassVar[dict[str, str]] = {
        "amber": "🟠 Team Amber hat gewonnen",
        "sapphire": "🔵 Team Sapphire hat gewonnen",
        "aborted": "abgebrochen (ohne Wertung)",
    }
    BUTTON_AMBER = "🟠 Amber gewinnt"
    BUTTON_SAPPHIRE = "🔵 Sapphire gewinnt"
    BUTTON_ABORT = "Abbrechen (ohne Wertung)"
    BAD_OUTCOME = "Ergebnis: `A` (Team Amber), `B` (Team Sapphire) oder `abbrechen`."
    NO_PERMISSION = "Ergebnisse eintragen dürfen nur Hosts (Host-Rolle oder „Kanäle verwalten“)."
    NO_MATCH = "Match {id} gibt es nicht."
    RECORDED = "Match {id}: {outcome}. Ergebnis gespeichert."
    RECORDED_RATED = "Match {id}: {outcome}. Ergebnis gespeichert, Wertungen von {count} Spielern angepasst."
    ALREADY = "Match {id} hat schon ein Ergebnis: {outcome}. Willst du es auf „{new}“ korrigieren?"
    CONFIRM = "✅ Korrektur bestätigen"
    CONFIRM_ONLY_ACTOR = "Nur wer korrigieren wollte, kann das bestätigen."
    CORRECTED = "Match {id}: Ergebnis korrigiert auf {outcome}. Alle Wertungen wurden neu berechnet."
    UNCHANGED = "Match {id} hat dieses Ergebnis bereits: {outcome}."
    RESULT_FOOTER = (
        "Ergebnis: Buttons unten oder {prefix}balance result {id} A|B|abbrechen · Beenden: {prefix}balance end {id}"
    )

    VALUE_RANK = "{rank} ({value:.2f})"
    VALUE_RATING = "Wertung {value:.2f} ({rank})"
    TEAM_TOTALS = "Summe {sum:.2f} · Ø {avg:.2f} · Varianz {var:.2f}"
    BALANCE_FIELD = "Balance"
    BALANCE_LINE = "{mark} Ø-Differenz {diff:.2f}"
    BENCH_FIELD = "Bank"
    NOTE_FIELD = "Hinweis"
    PREVIEW_TITLE = "Vorschau"
    WIN_CHANCE = "Siegchance: 🟠 {a:.0%} · 🔵 {b:.0%}"
    REROLL = "🎲 Neu würfeln"
    START = "🎮 Match starten"
    SWAP_PLACEHOLDER = "Zwei Spieler tauschen (Host)"
    SWAP_BAD = "Wähle zwei Spieler aus verschiedenen Teams."
    PREVIEW_ONLY = "Diese Vorschau bedient nur, wer sie geöffnet hat, oder ein Host."
    ONLY_HOST = "Tauschen und Starten dürfen nur Hosts."

    PAGE = "Seite {page}/{pages}"
    PAGE_ONLY_OWNER = "Blättern kann nur, wer die Liste geöffnet hat."
    HISTORY_TITLE = "Matches von {name}"
    GUILD_HISTORY_TITLE = "Letzte Matches"
    NO_HISTORY = "Noch keine Matches."
    NO_RESULT = "kein Ergebnis"
    RUNNING = "läuft"
    TOP_TITLE = "Rangliste (ab {min} gewerteten Matches)"
    NO_TOP = "Noch niemand hat {min} gewertete Matches."
    TOP_LINE = "**{place}.** {name} – {value:.1f} (μ {mu:.1f}, σ {sigma:.1f}) · {games} Matches, {wins} Siege"
    STATS_TITLE = "Statistik von {name}"
    STATS_MATCHES = "Matches"
    STATS_MATCHES_VALUE = "{matches} gesamt, {games} gewertet"
    STATS_WINS = "Siege"
    STATS_WINS_VALUE = "{wins} ({rate})"
    STATS_RATING = "Wertung"
    STATS_RATING_VALUE = "{value:.1f} (μ {mu:.1f}, σ {sigma:.1f})"
    STATS_NO_RATING = "noch keine (Rang zählt)"
    STATS_TREND = "Trend"
    STATS_TREND_VALUE = "{delta:+.1f} in den letzten {count} gewerteten Matches"
    STATS_NO_TREND = "–"
    STATS_BALANCED_BY = "Balanciert nach"
    BY_RATING = "Wertung (ab {min} gewerteten Matches)"
    BY_RANK = "Rang (Wertung ab {min} gewerteten Matches)"


class Options:
    """The slash commands' option descriptions (shown in Discord's command picker)."""

    PLAYERS = "Die Spieler als Erwähnungen, z. B. @a @b @c @d"
    MATCH_ID = "Die Nummer des Matches"
    SKIP = "Ohne Nachbesprechungskanal beenden"
    HOURS = "Matches, die älter als so viele Stunden sind"


class Commands:
    """The commands' descriptions, as Discord's command picker shows them."""

    BALANCE = "Teams nach Rang"
    BALANCE_AUTO = "Vorschau der Teams für deinen Sprachkanal"
    BALANCE_START = "Teams bilden, Kanäle erstellen und verschieben (Host)"
    BALANCE_MANUAL = "Teams aus genannten Spielern (Host)"
    BALANCE_END = "Match beenden (Host)"
    BALANCE_RESULT = "Ergebnis eines Matches eintragen: A, B oder abbrechen (Host)"
    BALANCE_HISTORY = "Letzte Matches (eines Mitglieds) mit Ergebnis und Wertung"
    BALANCE_TOP = "Rangliste nach Wertung"
    BALANCE_STATS = "Matches, Siege, Wertung und Trend eines Mitglieds"
    BALANCE_CLEANUP = "Alte Matches aufräumen (Host)"
    BALANCE_MATCHES = "Laufende Matches"
    BALANCE_STATUS = "Rang eines Mitglieds (Rolle und Datenbank)"
    #: option descriptions of these commands
    OPTION_OUTCOME = "A, B oder abbrechen"
    OPTION_HISTORY_MEMBER = "Das Mitglied (ohne Angabe: alle Matches des Servers)"

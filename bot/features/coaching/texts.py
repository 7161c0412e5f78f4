"""Match coaching's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations


class Coaching:
    START_BUTTON = "Match-Coaching starten"
    PANEL_TITLE = "Deadlock Match-Coaching"
    PANEL_TEXT = "Lass dein Match analysieren: Klick auf den Button, gib die Match ID ein und beantworte die Fragen."
    MATCH_ID_TITLE = "Match ID"
    MATCH_ID_LABEL = MATCH_ID_TITLE
    MATCH_ID_INVALID = "Bitte gib eine Match ID mit 1 bis 50 Zeichen ein."
    THREAD_NAME = "Match-Coaching: {name}"
    STARTED = "Dein Coaching-Thread: {thread}"
    REPLACED = "Eine neue Coaching-Sitzung wurde gestartet; diese hier ist geschlossen."
    THREAD_FAILED = "Der Coaching-Thread konnte nicht erstellt werden. Bitte versuch es später noch einmal."
    NOT_YOURS = "Das ist nicht deine Coaching-Sitzung."
    CLOSED = "Diese Coaching-Sitzung ist bereits geschlossen."
    WRONG_STEP = "Dieser Schritt ist schon erledigt (oder noch nicht dran)."
    INVALID = "Diese Auswahl ist ungültig."
    COMMENT_INVALID = "Der Kommentar muss 1 bis 1000 Zeichen lang sein."
    STEP_RANK = "Welchen Rang hattest du in diesem Match?"
    STEP_SUBRANK = "Welche Stufe innerhalb des Rangs?"
    STEP_HERO = "Welchen Helden hast du gespielt?"
    STEP_COMMENT = "Was sollen sich die Coaches ansehen? Klick auf „Kommentar“."
    STEP_FINISH = "Alles da. Prüfe die Zusammenfassung und klick auf „Abschließen“."
    COMMENT_BUTTON = "Kommentar"
    COMMENT_LABEL = "Kommentar (max. 1000 Zeichen)"
    FINISH_BUTTON = "Abschließen"
    HERO_PAGE_1 = "Helden (A–M)"
    HERO_PAGE_2 = "Helden (N–Z)"
    SAVED = "Gespeichert."
    FINISHED = "Danke! Deine Anfrage ist eingereicht."
    TIMEOUT = "⏱️ Timeout erreicht. Thread wird geschlossen."
    SUMMARY = (
        "**Match-Coaching**\nMatch ID: {match_id}\nRang: {rank} {subrank}\nHeld: {hero}\n"
        "Kommentar: {comment}\nAnalysiert von: <@{user}>"
    )
    PANEL_POSTED = "Coaching-Startnachricht gepostet."
    PANEL_HELP = "`{prefix}coaching panel` postet die Startnachricht in diesen Kanal."
    PANEL_EXISTS = "Die Coaching-Startnachricht gibt es schon: {link}"


class Commands:
    """The commands' descriptions, as Discord's command picker shows them."""

    COACHING = "Match-Coaching verwalten (Server verwalten)"
    COACHING_PANEL = "Die Startnachricht in diesen Kanal posten"

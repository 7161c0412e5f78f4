"""TempVoice's user-facing texts, in German as the community knows them from the old bot."""

from __future__ import annotations

from bot.discord_glue.texts import Common


class TempVoice:
    JOIN_LANE_FIRST = "Tritt zuerst deiner Lane bei."
    NOT_A_LANE = "Dieser Kanal ist keine TempVoice-Lane."
    NOT_OWNER = "Nur der Owner der Lane (oder ein Moderator) kann das."
    NOT_OWNER_OR_ADMIN = "Nur der Owner der Lane (oder ein Admin) kann das."
    CATEGORY_FULL = (
        "Gerade ist kein Platz für eine neue Lane (die Kategorie ist voll). Bitte versuch es gleich noch einmal "
        "oder tritt einer bestehenden Lane bei."
    )
    CREATE_FAILED = "Die Lane konnte nicht erstellt werden. Bitte versuch es später noch einmal."
    REGION_DE = "Region gesetzt: 🇩🇪 nur Deutsch."
    REGION_EU = "Region gesetzt: 🇪🇺 offen für alle."
    LIMIT_SET = "Limit gesetzt: {limit}."
    LIMIT_REMOVED = "Limit entfernt (jeder kann beitreten)."
    LIMIT_INVALID = "Bitte gib eine ganze Zahl von 0 bis 99 ein (0 = kein Limit)."
    CLAIMED = "Du bist jetzt Owner dieser Lane."
    CLAIM_OWNER_PRESENT = "Der Owner ist noch in der Lane: Owner Claim geht erst, wenn er sie verlassen hat."
    ALREADY_OWNER = "Du bist bereits Owner dieser Lane."
    KICKED = "{member} wurde aus der Lane geworfen."
    KICK_NOT_IN_LANE = "Dieses Mitglied ist nicht in deiner Lane."
    KICK_SELF = "Du kannst dich nicht selbst kicken."
    KICK_NOBODY = "Es ist niemand außer dir in der Lane."
    BANNED = "{member} ist jetzt für deine Lanes gebannt."
    ALREADY_BANNED = "{member} ist bereits gebannt."
    UNBANNED = "{member} ist nicht mehr gebannt."
    NOT_BANNED = "{member} war nicht gebannt."
    BAN_SELF = "Du kannst dich nicht selbst bannen."
    USER_NOT_FOUND = "Mitglied nicht gefunden. Nutze eine @Erwähnung, die ID oder den exakten Namen."
    USER_AMBIGUOUS = "Mehrere Mitglieder passen zu diesem Namen. Nutze eine @Erwähnung oder die ID."
    MINRANK_SET = "Mindest-Rang gesetzt: {rank}."
    MINRANK_CLEARED = "Kein Rang-Limit mehr: jeder kann beitreten."
    MINRANK_WRONG_CATEGORY = "Ein Mindest-Rang geht nur in den Rang-Kategorien."
    MINRANK_ABOVE_OWN = "Du kannst keinen Mindest-Rang über deinem eigenen Rang ({rank}) setzen."
    TEMPLATE_SET = "Vorlage gesetzt: {name} (Limit {limit})."
    TEMPLATE_RESET = "Lane zurückgesetzt: {name} (Limit {limit})."
    RENAME_PENDING = " Der neue Name folgt, sobald Discord es erlaubt."
    PANEL_POSTED = "TempVoice-Panel gepostet."
    PANEL_TITLE = "TempVoice Interface"
    LANE_PANEL_TITLE = "TempVoice Interface – {name}"
    PANEL_DESCRIPTION = (
        "Steuere deine Lane: Region (🇩🇪/🇪🇺), Limit, Kick, Ban/Unban, Mindest-Rang und Vorlagen. "
        "Die Buttons wirken auf die Lane, in der du gerade bist."
    )
    PANEL_OWNER = "Owner: {owner}"
    PANEL_OWNER_UNKNOWN = "Owner: Unbekannt"
    LIMIT_MODAL_TITLE = "Limit setzen"
    LIMIT_MODAL_LABEL = "Limit (0-99, 0 = kein Limit)"
    BAN_MODAL_TITLE = "Mitglied bannen"
    UNBAN_MODAL_TITLE = "Mitglied entbannen"
    USER_MODAL_LABEL = "User (@Mention/Name/ID)"
    KICK_PLACEHOLDER = "Wen möchtest du kicken?"
    MINRANK_PLACEHOLDER = "Mindest-Rang wählen"
    MINRANK_NONE = "Kein Limit (Jeder)"
    ERROR = Common.ERROR

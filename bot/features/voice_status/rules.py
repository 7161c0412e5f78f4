"""Live voice status: from the presence rows the Steam service writes, to a channel-name suffix.

Pure functions. A member's Steam accounts are classified one by one (match, lobby, or
nothing when the row is older than 180 s); a member counts with their best account; in a
channel, matches beat lobbies, and among matches the largest cohort (same game server or
party) wins. The rename policy keeps within Discord's budget and stops counting minutes
late in a match, as the old bot did.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from bot.features.voice_status.texts import VoiceStatus as T

STALE_AFTER = 180
MINUTE_OFFSET = 3  # the old bot showed the highest minute of the cohort plus 3 (presence lags behind)
MAX_TEAM = 6
_MATCH_TEXT = re.compile(r"\b(im match|im spiel|in match|in game|match)\b|\(\d+\.?\s*min", re.IGNORECASE)
_LOBBY_TEXT = re.compile(r"\b(lobby|queue|warteschlange|hauptmenü|main menu|menu)\b", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*\.?\s*(?:min|minute)", re.IGNORECASE)
MATCH_STAGES = frozenset({"match", "in_match", "ingame", "in_game", "playing"})
LOBBY_STAGES = frozenset({"lobby", "menu", "queue", "queued", "hideout", "mainmenu"})


@dataclasses.dataclass(frozen=True)
class Presence:
    user_id: int
    steam_id: str
    in_match_now_strict: int | None
    in_deadlock_now: int | None
    stage: str | None
    minutes: int | None
    localized: str | None
    party_hint: str | None
    server_id: str | None
    updated_at: int | None


@dataclasses.dataclass(frozen=True)
class Observation:
    state: str  # "match" or "lobby"
    minutes: int | None
    cohort: str
    updated_at: int


def classify(p: Presence, now: int, stale_after: int = STALE_AFTER) -> Observation | None:
    if p.updated_at is None or now - p.updated_at > stale_after:
        return None  # stale or never seen: no statement about this account
    stage = (p.stage or "").strip().lower()
    text = p.localized or ""
    cohort = p.server_id or p.party_hint or f"solo:{p.steam_id}"
    if p.in_match_now_strict == 1 or stage in MATCH_STAGES or (not stage and _MATCH_TEXT.search(text)):
        minutes = p.minutes
        if minutes is None and (m := _MINUTES.search(text)):
            minutes = int(m[1])
        return Observation("match", minutes, cohort, p.updated_at)
    if stage in LOBBY_STAGES or p.in_deadlock_now == 1 or (not stage and _LOBBY_TEXT.search(text)):
        return Observation("lobby", None, p.party_hint or f"solo:{p.steam_id}", p.updated_at)
    return None


def best_per_member(presences: Iterable[Presence], now: int) -> dict[int, Observation]:
    """Each member's most telling account: a match beats a lobby, then the fresher one."""
    best: dict[int, Observation] = {}
    for p in presences:
        o = classify(p, now)
        if o is None:
            continue
        current = best.get(p.user_id)
        if current is None or (o.state == "match", o.updated_at) > (current.state == "match", current.updated_at):
            best[p.user_id] = o
    return best


@dataclasses.dataclass(frozen=True)
class Decision:
    state: str  # "none", "lobby", "match"
    suffix: str | None
    minutes: int | None = None
    players: int = 0
    slots: int = 0


def decide(members_in_channel: int, observations: Iterable[Observation]) -> Decision:
    obs = list(observations)
    matches = [o for o in obs if o.state == "match"]
    if matches:
        cohorts: dict[str, list[Observation]] = {}
        for o in matches:
            cohorts.setdefault(o.cohort, []).append(o)
        dominant = max(cohorts.values(), key=lambda c: (len(c), max(o.minutes or 0 for o in c)))
        players = min(MAX_TEAM, len(dominant))
        slots = max(players, min(members_in_channel, MAX_TEAM))
        minutes = max(o.minutes or 0 for o in dominant) + MINUTE_OFFSET
        return Decision(
            "match", T.IN_MATCH.format(minutes=minutes, players=players, slots=slots), minutes, players, slots
        )
    if obs:
        return Decision("lobby", T.IN_LOBBY, None, len(obs), min(members_in_channel, MAX_TEAM))
    return Decision("none", None)


def may_rename(
    prev_state: str | None, prev_suffix: str | None, last_rename_at: int | None, new: Decision, now: int
) -> bool:
    """Cooldowns: 6 min, 10 min from minute 25, no minute updates from minute 45; leaving a
    match for the lobby may skip the wait. Never the name it already has."""
    if new.suffix == prev_suffix:
        return False
    if last_rename_at is None:
        return True
    if prev_state == "match" and new.state == "lobby":
        return True
    minutes = new.minutes or 0
    if prev_state == "match" and new.state == "match" and minutes >= 45:
        return False
    cooldown = 600 if minutes >= 25 else 360
    return now - last_rename_at >= cooldown

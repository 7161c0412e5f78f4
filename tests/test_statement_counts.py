"""Statements per Discord event, counted by SQLite's trace hook on a real database file (the
bench's own count: `deadlock-bot bench` prints the same figures). A change that adds a
statement to one of these events fails here: lower the bound when you save one."""

from __future__ import annotations

from pathlib import Path

from bot.devtools.bench_events import statements_per_event

#: event -> (at most this many statements, at most this many BEGIN/COMMIT/...). A foreign
#: key's ON DELETE CASCADE counts as a statement of its own (SQLite traces it).
BOUNDS = {
    "staging join": (8, 2),
    "join a lane": (2, 0),
    "leave": (2, 0),
    "succession": (5, 2),
    "last leave (lane deleted)": (12, 6),
    "staging join, owner actions": (16, 2),
    "succession, owner actions": (12, 2),
    "voice-status pass": (5, 0),  # a quiet one: 4 reads, 1 write
}


async def test_statements_per_event_stay_within_their_bounds(tmp_path: Path) -> None:
    counts = await statements_per_event(tmp_path / "events.sqlite3")
    over = []
    for event, (most, most_control) in BOUNDS.items():
        _queries, statements, control = counts[event]
        if statements > most or control > most_control:
            over.append(f"{event}: {statements} statements (+{control}), at most {most} (+{most_control})")
    assert not over, "; ".join(over)

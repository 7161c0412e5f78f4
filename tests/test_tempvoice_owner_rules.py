"""Pure rules of the owner actions: lane names and the lock/hide overwrite plan."""

from __future__ import annotations

import pytest

from bot.discord_glue.ports import Target, TargetKind
from bot.features.tempvoice.access import AccessInputs, AccessState, plan
from bot.features.tempvoice.names import NameProblem, NameRefused, parse_blocklist, validate_lane_name
from bot.features.tempvoice.settings import owner_actions_config
from bot.shared.overwrites import CONNECT, VIEW

BLOCK = parse_blocklist(" Idiot, spast ,,böses wort, n00b ")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Chill", "Chill"),
        ("  Abend \n Runde  ", "Abend Runde"),
        ("x" * 100, "x" * 100),
        ("Lane 7 Ranked", "Lane 7 Ranked"),
        ("Team 1.5", "Team 1.5"),
        ("Idiotensicher", "Idiotensicher"),  # a word of the list inside a longer word is fine
        ("Ä Ö Ü ß 🎮", "Ä Ö Ü ß 🎮"),
        ("email@home", "email@home"),
    ],
)
def test_names_accepted(raw: str, expected: str) -> None:
    assert validate_lane_name(raw, BLOCK) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", NameProblem.EMPTY),
        (" \t\n ", NameProblem.EMPTY),
        ("x" * 101, NameProblem.TOO_LONG),
        ("@everyone rein", NameProblem.MENTION),
        ("@HERE", NameProblem.MENTION),
        ("<@123>", NameProblem.MENTION),
        ("<@!123>", NameProblem.MENTION),
        ("<@&456>", NameProblem.MENTION),
        ("<#789>", NameProblem.MENTION),
        ("discord.gg/deadlock", NameProblem.INVITE),
        ("DISCORD.COM/invite/abc", NameProblem.INVITE),
        ("discordapp.com/invite/abc", NameProblem.INVITE),
        ("http://x", NameProblem.URL),
        ("www.example", NameProblem.URL),
        ("shop.example.com", NameProblem.URL),
        ("twitch.tv/streamer", NameProblem.URL),
        ("Lane 3", NameProblem.RESERVED),
        ("lane12", NameProblem.RESERVED),
        ("du idiot", NameProblem.BLOCKED_WORD),
        ("SPAST!", NameProblem.BLOCKED_WORD),
        ("ein Böses Wort hier", NameProblem.BLOCKED_WORD),
        ("n00b", NameProblem.BLOCKED_WORD),
    ],
)
def test_names_refused(raw: str, problem: NameProblem) -> None:
    with pytest.raises(NameRefused) as caught:
        validate_lane_name(raw, BLOCK)
    assert caught.value.problem is problem


def test_blocklist_setting() -> None:
    config = owner_actions_config({"TEMPVOICE_NAME_BLOCKLIST": "Foo, Bar Baz", "TEMPVOICE_MODERATOR_ROLE_IDS": "5,6"})
    assert config.name_blocklist == {"foo", "bar baz"} and config.moderator_role_ids == {5, 6}
    assert owner_actions_config({}).name_blocklist == frozenset()
    with pytest.raises(ValueError, match="TEMPVOICE_MODERATOR_ROLE_IDS"):
        owner_actions_config({"TEMPVOICE_MODERATOR_ROLE_IDS": "mods"})


def member(i: int) -> Target:
    return Target(TargetKind.MEMBER, i)


INPUTS = AccessInputs(
    everyone_id=1,
    owner_id=10,
    moderator_role_ids=frozenset({50}),
    trusted=frozenset({11, 13}),
    permitted_members=frozenset({12}),
    permitted_roles=frozenset({60}),
    banned=frozenset({13, 14}),
)


@pytest.mark.parametrize("locked", [False, True])
@pytest.mark.parametrize("hidden", [False, True])
def test_plan_every_state(locked: bool, hidden: bool) -> None:
    wanted = plan(AccessState(locked, hidden), INPUTS)
    assert wanted.gate == (frozenset() if locked else None)  # a lock admits no role
    everyone = Target(TargetKind.ROLE, 1)
    allowed = {member(10), member(11), member(12), Target(TargetKind.ROLE, 50), Target(TargetKind.ROLE, 60)}
    expected = {(t, CONNECT): True for t in allowed if locked} | {(t, VIEW): True for t in allowed if hidden}
    if hidden:
        expected[(everyone, VIEW)] = False
    assert wanted.wishes == expected  # a banned member (13 is also trusted) gets nothing

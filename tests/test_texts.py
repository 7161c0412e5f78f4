"""Every user-facing German text lives in a texts module (bot/features/<f>/texts.py,
bot/discord_glue/texts.py), and each text is written there once."""

from __future__ import annotations

import ast
import collections
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from discord import app_commands

import bot
from tests.bot_harness import Harness

ROOT = Path(bot.__file__).parent
#: two words or a German letter: a sentence, a label, a name part (ids and keys are single words)
WORDS = re.compile(r"[A-Za-zÄÖÜäöüß]{2,}\s+[A-Za-zÄÖÜäöüß]{2,}|[ÄÖÜäöüß]")
#: keyword arguments that are no text for members: the audit log, command metadata, ids
NOT_SHOWN = {"reason", "name", "aliases", "custom_id", "template", "fallback", "usage"}
#: calls whose strings are not shown to members: logs, exceptions, audit-log reasons
NOT_SHOWN_CALLS = {
    "delete",
    "delete_lane",
    "delete_channel",
    "_delete_lane",
    "_delete_channel",
    "WakeableLoop",
    "create_task",
    "getLogger",
    "compile",
}


def _call_name(node: ast.Call) -> tuple[str, str]:
    f = node.func
    if isinstance(f, ast.Attribute):
        return (f.value.id if isinstance(f.value, ast.Name) else ""), f.attr
    return "", f.id if isinstance(f, ast.Name) else ""


def _hidden(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()

    def hide(node: ast.AST) -> None:
        hidden.update(id(sub) for sub in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                hide(first)  # a docstring
        if isinstance(node, ast.Raise):
            hide(node)
        if isinstance(node, ast.Call):
            owner, name = _call_name(node)
            if owner in ("log", "trace", "logging") or name.endswith("Error") or name in NOT_SHOWN_CALLS:
                hide(node)
            for kw in node.keywords:
                if kw.arg in NOT_SHOWN:
                    hide(kw.value)
    return hidden


def inline_texts(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _hidden(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in hidden:  # noqa: SIM102
            if WORDS.search(node.value):
                yield f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"


def test_no_text_for_members_outside_the_texts_modules() -> None:
    glue = [ROOT / "discord_glue" / f for f in ("errors.py", "checks.py", "voice_events.py")]
    not_code = ("texts.py", "settings.py", "feature.py", "__init__.py")
    code = [p for p in sorted(ROOT.glob("features/*/*.py")) if p.name not in not_code]
    found = [line for path in code + glue for line in inline_texts(path)]
    assert found == []


def test_each_text_is_written_once() -> None:
    seen: collections.defaultdict[str, list[str]] = collections.defaultdict(list)
    for path in [*ROOT.glob("features/*/texts.py"), ROOT / "discord_glue" / "texts.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and WORDS.search(str(node.value.value))
            ):
                seen[str(node.value.value)].append(f"{path.parent.name}.{ast.unparse(node.targets[0])}")
    assert {text: where for text, where in seen.items() if len(where) > 1} == {}


def _texts_classes() -> dict[str, dict[str, str]]:
    """Every texts module's classes: "feature.Class" -> {attribute: text}."""
    found: dict[str, dict[str, str]] = {}
    for path in [*sorted(ROOT.glob("features/*/texts.py")), ROOT / "discord_glue" / "texts.py"]:
        module = importlib.import_module(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
        for name, cls in vars(module).items():
            if isinstance(cls, type) and cls.__module__ == module.__name__:
                texts = {k: v for k, v in vars(cls).items() if isinstance(v, str) and not k.startswith("_")}
                found[f"{path.parent.name}.{name}"] = texts
    return found


async def test_every_command_and_option_has_a_german_description_from_a_texts_module(harness: Harness) -> None:
    """Read from the running bot: every prefix and slash command's description is a text of a
    feature's `Commands` class, every slash option's one of a texts module (not discord.py's "…")."""
    classes = _texts_classes()
    commands_texts = {t for where, texts in classes.items() if where.endswith(".Commands") for t in texts.values()}
    all_texts = {t for texts in classes.values() for t in texts.values()}
    bot = harness.bot
    wrong = [
        f"!{c.qualified_name}: {c.description!r}" for c in bot.walk_commands() if c.description not in commands_texts
    ]
    options: list[tuple[str, str]] = []
    for c in bot.tree.walk_commands():
        if c.description not in commands_texts:
            wrong.append(f"/{c.qualified_name}: {c.description!r}")
        if isinstance(c, app_commands.Command):
            options += [(f"/{c.qualified_name} {p.name}", p.description) for p in c.parameters]
    assert wrong == []
    assert [f"{where}: {text!r}" for where, text in options if text not in all_texts] == []
    assert len(list(bot.walk_commands())) >= 40 and len(options) >= 10  # the walk found the commands


def test_command_descriptions_fit_discord() -> None:
    """Discord refuses a slash command whose description is empty or longer than 100 characters."""
    for where, texts in _texts_classes().items():
        if where.endswith((".Commands", ".Options")):
            assert all(0 < len(t) <= 100 for t in texts.values()), where

"""Every user-facing German text lives in a texts module (bot/features/<f>/texts.py,
bot/discord_glue/texts.py), and each text is written there once."""

from __future__ import annotations

import ast
import collections
import re
from collections.abc import Iterator
from pathlib import Path

import bot

ROOT = Path(bot.__file__).parent
#: two words or a German letter: a sentence, a label, a name part (ids and keys are single words)
WORDS = re.compile(r"[A-Za-zÄÖÜäöüß]{2,}\s+[A-Za-zÄÖÜäöüß]{2,}|[ÄÖÜäöüß]")
#: keyword arguments that are no text for members: the audit log, command metadata, ids
NOT_SHOWN = {"reason", "description", "name", "aliases", "custom_id", "template", "fallback", "usage"}
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

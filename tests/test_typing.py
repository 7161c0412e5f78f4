"""mypy --strict on small fixture files: the generated accessors make misuse a type error."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

from bot.resources import SOURCE_ROOT

FIXTURES = Path(__file__).parent / "typing_fixtures"


def _mypy(path: Path) -> list[tuple[int, str]]:
    stdout, stderr, _ = api.run(
        [
            "--strict",
            "--config-file",
            str(SOURCE_ROOT / "pyproject.toml"),
            "--no-error-summary",
            "--hide-error-context",
            str(path),
        ]
    )
    assert not stderr, stderr
    found = []
    for line in stdout.splitlines():
        m = re.match(rf".*{re.escape(path.name)}:(\d+): error: (.*)", line)
        if m:
            found.append((int(m[1]), m[2]))
    return found


def test_correct_use_type_checks() -> None:
    assert _mypy(FIXTURES / "good.py") == []


def test_misuse_is_rejected() -> None:
    path = FIXTURES / "misuse.py"
    expected = {
        n: line.split("# E: ", 1)[1].strip()
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if "# E: " in line
    }
    errors = _mypy(path)
    by_line: dict[int, list[str]] = {}
    for n, msg in errors:
        by_line.setdefault(n, []).append(msg)
    for n, text in expected.items():
        assert any(text in msg for msg in by_line.get(n, [])), (n, text, by_line.get(n))
    assert set(by_line) == set(expected), f"unexpected errors: {sorted(set(by_line) - set(expected))}"

"""sql/ holds only what the bot runs: every named query is called somewhere in bot/ (outside
the generated accessors). A query only tests use belongs in the test (tests/raw_sql.py)."""

from __future__ import annotations

import re

from bot.resources import SOURCE_ROOT

NAME = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


def _named_queries() -> list[tuple[str, str]]:
    out = []
    for path in sorted((SOURCE_ROOT / "sql").glob("*/*.sql")):
        if path.parent.name == "migrations":
            continue
        out += [(path.parent.name, name) for name in NAME.findall(path.read_text(encoding="utf-8"))]
    return out


def _bot_source() -> str:
    generated = SOURCE_ROOT / "bot" / "db" / "queries.py"
    files = sorted(p for p in (SOURCE_ROOT / "bot").rglob("*.py") if p != generated)
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_sql_has_named_queries() -> None:
    assert len(_named_queries()) > 100  # the glob found the files


def test_every_named_query_is_called_by_the_bot() -> None:
    source = _bot_source()
    unused = [
        f"{domain}.{name}"
        for domain, name in _named_queries()
        if not re.search(rf"\bqueries\.{domain}\.{name}\b", source)
    ]
    assert not unused, f"named queries nothing in bot/ calls (move them into the tests that use them): {unused}"

"""What the suite's local Discord APIs received, for pytest's summary line (and the README's
figure). The fixture adds each test's; under pytest-xdist each worker hands its sum to the
controller. The hooks are in tests/conftest.py: the controller of an xdist run (`-m e2e` from
the top) never loads tests/e2e/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

CHECKED = {"REST calls": 0, "gateway events": 0, "interactions": 0}


def hand_over(session: pytest.Session) -> None:
    """At the end of an xdist worker's session: its figures go to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["e2e_checked"] = dict(CHECKED)


def take_over(node: Any) -> None:
    """In the controller, when a worker ended."""
    for what, n in getattr(node, "workeroutput", {}).get("e2e_checked", {}).items():
        CHECKED[what] += n


def summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CHECKED["REST calls"]:
        figures = ", ".join(f"{n} {what}" for what, n in CHECKED.items())
        terminalreporter.write_line(f"e2e: the local Discord API recorded {figures}")

"""Texts every feature's Discord glue shares (German, as the community knows them)."""

from __future__ import annotations


class Common:
    ERROR = "Da ist etwas schiefgelaufen. Bitte versuch es noch einmal."

"""The live voice status's user-facing texts (German)."""

from __future__ import annotations

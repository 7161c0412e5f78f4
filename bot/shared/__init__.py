"""Pieces several features share: renames, timers, locks and claims, clock, ranks."""

"""deadlock-bot: the Discord bot of a Deadlock community, built around one central data layer."""

__version__ = "0.1.0"

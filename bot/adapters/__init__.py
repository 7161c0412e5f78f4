"""discord.py implementations of the ports."""

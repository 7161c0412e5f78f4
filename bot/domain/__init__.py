"""Pure domain logic: no asyncio, no discord.py, no database."""

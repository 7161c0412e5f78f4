"""Discord glue: the ports services talk to, their discord.py adapter, and the shared cog pieces."""

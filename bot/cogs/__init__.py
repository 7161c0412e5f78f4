"""Thin discord.py cogs: events and interactions in, service calls out."""

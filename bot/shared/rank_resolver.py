"""A member's rank for every feature: rank roles first (highest wins), else the rank bot's table."""

from __future__ import annotations

from bot.db import Database
from bot.db.queries import queries
from bot.discord_glue.ports import GuildView
from bot.shared.ranks import Rank, RankRoles, parse_rank_label


class RankResolver:
    def __init__(self, db: Database, view: GuildView, rank_roles: RankRoles) -> None:
        self.db = db
        self.view = view
        self.rank_roles = rank_roles

    def from_roles(self, guild_id: int, member_id: int) -> Rank | None:
        member = self.view.member(guild_id, member_id)
        if member is None:
            return None
        names = {r.id: r.name for r in self.view.roles(guild_id)}
        return self.rank_roles.member_rank_detail((rid, names.get(rid, "")) for rid in member.role_ids)

    async def rank_of(self, guild_id: int, member_id: int) -> Rank:
        """Rank roles, else `user_ranks` (written by the standalone rank bot), else Obscurus."""
        found = self.from_roles(guild_id, member_id)
        if found is not None:
            return found
        async with self.db.read() as conn:
            stored = await queries.ranks.get_user_rank(conn, user_id=member_id)
        parsed = parse_rank_label(stored) if stored else None
        return parsed or Rank(0)

"""Forget a person: remove their personal data from every table of this bot, in one transaction."""

from __future__ import annotations

import logging

from bot.db.base import Database
from bot.db.preflight import SchemaIncompleteError, schema_tables
from bot.db.queries import queries

log = logging.getLogger(__name__)

MAX_SNOWFLAKE = 2**63 - 1


def parse_user_id(raw: str) -> int:
    """A Discord user id as typed by an admin: digits only, optionally as a <@mention>."""
    text = raw.strip().removeprefix("<@").removeprefix("!").removesuffix(">")
    if not text.isdigit() or not 0 < int(text) <= MAX_SNOWFLAKE:
        raise ValueError(f"not a Discord user id: {raw!r} (expected the numeric id, e.g. 123456789012345678)")
    return int(text)


async def forget_user(db: Database, user_id: int) -> dict[str, int]:
    """Delete the person's data; returns rows removed per kind. Other people's data stays.
    A database that lacks tables of the schema is refused before anything is deleted."""
    async with db.read() as conn:
        missing = sorted(schema_tables() - await conn.table_names())
    if missing:
        raise SchemaIncompleteError(
            f"{db.location} lacks the table(s) {', '.join(missing)}: run `deadlock-bot db upgrade` first; "
            "nothing was deleted"
        )
    async with db.transaction() as conn:
        # Steam accounts first: the watch list and presence are found through the links.
        counts = {
            "watch list entries": await queries.core.forget_watch_entries(conn, user_id=user_id),
            "live presence rows": await queries.core.forget_presence(conn, user_id=user_id),
            "steam links": await queries.core.forget_steam_links(conn, user_id=user_id),
            "tempvoice bans (issued and received)": await queries.core.forget_bans(conn, user_id=user_id),
            "tempvoice region preference": await queries.core.forget_owner_prefs(conn, user_id=user_id),
            "tempvoice trusted lists (own and on others')": await queries.core.forget_trusted(conn, user_id=user_id),
            "tempvoice lane preset": await queries.core.forget_preset(conn, user_id=user_id),
            "tempvoice lane permits": await queries.core.forget_lane_permits(conn, user_id=user_id),
            "lane join records": await queries.core.forget_lane_memberships(conn, user_id=user_id),
            "coaching sessions": await queries.core.forget_coaching_sessions(conn, user_id=user_id),
            "match slots made anonymous": await queries.core.forget_match_players(conn, user_id=user_id),
            "balancer ratings": await queries.core.forget_ratings(conn, user_id=user_id),
            "matches hosted (host removed)": await queries.core.forget_match_hosting(conn, user_id=user_id),
            "results recorded (recorder removed)": await queries.core.forget_result_recordings(conn, user_id=user_id),
            "open balancer panels": await queries.core.forget_balancer_panels(conn, user_id=user_id),
            "stored rank": await queries.core.forget_user_rank(conn, user_id=user_id),
            "voice stats": await queries.core.forget_voice_stats(conn, user_id=user_id),
            "voice status snapshot": await queries.core.forget_voice_presence(conn, user_id=user_id),
            "channel permission wishes": await queries.core.forget_overwrite_wishes(conn, user_id=user_id)
            + await queries.core.forget_overwrite_baselines(conn, user_id=user_id),
        }
    log.info("forgot user %s: %s", user_id, counts)
    return counts

"""Rank voice, ranks, balancer, coaching, voice status and core tables through the accessors."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database, IntegrityError
from bot.db.queries import AddMatchPlayersParams, AddVoiceMembersParams, SaveChannelStatusesParams, queries
from tests.other_programs import upsert_presence, upsert_steam_link
from tests.raw_sql import execute, fetch_all, fetch_one


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_db


GUILD = 1_234_567_890_123_456_789
NOW = 1_764_000_000


async def test_rank_voice_settings_and_anchors(db: Database) -> None:
    async with db.transaction() as conn:
        await queries.rank_voice.set_channel_enabled(conn, channel_id=7, guild_id=GUILD, enabled=0, updated_at="t1")
        await queries.rank_voice.set_channel_enabled(conn, channel_id=8, guild_id=GUILD, enabled=1, updated_at="t1")
        await queries.rank_voice.set_channel_enabled(conn, channel_id=7, guild_id=GUILD, enabled=1, updated_at="t2")
        await queries.rank_voice.upsert_anchor(
            conn,
            channel_id=7,
            guild_id=GUILD,
            user_id=42,
            rank_name="Eternus",
            rank_value=11,
            anchor_subrank=6,
            allowed_min=10,
            allowed_max=11,
            score_min=None,
            score_max=None,
            updated_at="t1",
        )
        await queries.rank_voice.upsert_anchor(
            conn,
            channel_id=8,
            guild_id=GUILD,
            user_id=43,
            rank_name="Archon",
            rank_value=7,
            anchor_subrank=None,
            allowed_min=5,
            allowed_max=9,
            score_min=30,
            score_max=50,
            updated_at="t1",
        )
    async with db.read() as conn:
        assert await queries.rank_voice.get_channel_enabled(conn, channel_id=7) == 1
        assert await queries.rank_voice.get_channel_enabled(conn, channel_id=9) is None
        assert await queries.rank_voice.get_channel_enabled(conn, channel_id=8) == 1
        anchor = await queries.rank_voice.get_anchor(conn, channel_id=7)
        assert anchor is not None
        assert (anchor.rank_name, anchor.rank_value, anchor.allowed_min, anchor.allowed_max) == ("Eternus", 11, 10, 11)
        assert [a.channel_id for a in await queries.rank_voice.list_anchors(conn, guild_id=GUILD)] == [7, 8]
    async with db.transaction() as conn:
        assert await queries.rank_voice.delete_anchor(conn, channel_id=7) == 1
        assert await queries.rank_voice.delete_channel_settings(conn, channel_id=8) == 1
    async with db.read() as conn:
        assert await queries.rank_voice.get_anchor(conn, channel_id=7) is None


async def test_user_ranks(db: Database) -> None:
    async with db.transaction() as conn:  # the standalone rank bot writes the table
        await execute(conn, "INSERT INTO user_ranks (user_id, rank) VALUES ({}, {}), ({}, {})", 5, "Eternus", 6, None)
    async with db.read() as conn:
        assert await queries.ranks.get_user_rank(conn, user_id=5) == "Eternus"
        assert await queries.ranks.get_user_rank(conn, user_id=6) is None
        assert await queries.ranks.get_user_rank(conn, user_id=7) is None


async def test_balancer_matches(db: Database) -> None:
    async with db.transaction() as conn:
        first = await queries.balancer.create_match(
            conn, guild_id=GUILD, host_id=1, origin_channel_id=99, seed=7, started_at=NOW
        )
        second = await queries.balancer.create_match(
            conn, guild_id=GUILD, host_id=1, origin_channel_id=None, seed=None, started_at=NOW + 10
        )
        await queries.balancer.set_match_channels(conn, match_id=first, team_a_channel_id=201, team_b_channel_id=202)
        players: list[AddMatchPlayersParams] = [
            {"match_id": first, "user_id": u, "team": t, "rank_value": v, "rank_subtier": 3, "rank_name": n}
            for u, t, v, n in [
                (1, "amber", 11, "Eternus"),
                (2, "sapphire", 10, "Ascendant"),
                (3, "amber", 2, "Seeker"),
                (4, "sapphire", 3, "Alchemist"),
                (5, "bench", 0, "Obscurus"),
            ]
        ]
        await queries.balancer.add_match_players(conn, players)
    assert second == first + 1
    async with db.read() as conn:
        match = await queries.balancer.get_match(conn, match_id=first)
        assert match is not None
        assert (match.state, match.team_a_channel_id, match.winner, match.seed) == ("active", 201, None, 7)
        roster = await queries.balancer.list_match_players(conn, match_id=first)
        assert [p.user_id for p in roster] == [1, 3, 5, 2, 4]
        running = await queries.balancer.list_running_matches(conn, guild_id=GUILD)
        assert [m.match_id for m in running] == [first, second]
    async with db.transaction() as conn:
        assert await queries.balancer.start_debrief(conn, match_id=first, debrief_channel_id=300) == 1
        assert await queries.balancer.start_debrief(conn, match_id=first, debrief_channel_id=301) == 0
        assert (
            await queries.balancer.finish_match(conn, match_id=first, state="ended", winner="amber", ended_at=NOW + 60)
            == 1
        )
        assert (
            await queries.balancer.finish_match(conn, match_id=first, state="ended", winner=None, ended_at=NOW + 61)
            == 0
        )  # ends once
        with pytest.raises(IntegrityError):
            async with db.transaction() as nested:  # a savepoint: the rest still commits
                await queries.balancer.finish_match(nested, match_id=second, state="won", winner=None, ended_at=NOW)
    async with db.read() as conn:
        match = await queries.balancer.get_match(conn, match_id=first)
        assert match is not None and (match.state, match.winner, match.ended_at) == ("ended", "amber", NOW + 60)


async def test_match_ids_survive_deletes(db: Database) -> None:
    async with db.transaction() as conn:
        first = await queries.balancer.create_match(
            conn, guild_id=GUILD, host_id=1, origin_channel_id=None, seed=None, started_at=NOW
        )
        await conn.execute("DELETE FROM balancer_matches")
        again = await queries.balancer.create_match(
            conn, guild_id=GUILD, host_id=1, origin_channel_id=None, seed=None, started_at=NOW
        )
    assert again > first  # AUTOINCREMENT never hands an id out twice


async def test_coaching_session_steps(db: Database) -> None:
    async with db.transaction() as conn:
        sid = await queries.coaching.create_session(conn, user_id=9, guild_id=GUILD, match_id="12345", created_at=NOW)
        assert await queries.coaching.set_session_thread(conn, session_id=sid, thread_id=77, updated_at=NOW) == 1
        # steps only move forward from the step they expect
        assert await queries.coaching.set_session_subrank(conn, session_id=sid, subrank="iv", updated_at=NOW) == 0
        assert await queries.coaching.set_session_rank(conn, session_id=sid, rank="oracle", updated_at=NOW) == 1
        assert await queries.coaching.set_session_rank(conn, session_id=sid, rank="eternus", updated_at=NOW) == 0
        assert await queries.coaching.set_session_subrank(conn, session_id=sid, subrank="iv", updated_at=NOW) == 1
        assert await queries.coaching.set_session_hero(conn, session_id=sid, hero="lady_geist", updated_at=NOW) == 1
        assert (
            await queries.coaching.set_session_comment(conn, session_id=sid, comment="@everyone hi", updated_at=NOW + 1)
            == 1
        )
    async with db.read() as conn:
        session = await queries.coaching.get_session(conn, session_id=sid)
        assert session is not None
        assert (session.step, session.rank, session.subrank, session.hero, session.comment) == (
            "finish",
            "oracle",
            "iv",
            "lady_geist",
            "@everyone hi",
        )
        active = await queries.coaching.get_active_session(conn, user_id=9)
        assert active is not None and active.session_id == sid

    # one active session per user
    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await queries.coaching.create_session(conn, user_id=9, guild_id=GUILD, match_id=None, created_at=NOW)

    async with db.transaction() as conn:
        assert (
            await queries.coaching.close_session(conn, session_id=sid, close_reason="finished", closed_at=NOW + 2) == 1
        )
        assert (
            await queries.coaching.close_session(conn, session_id=sid, close_reason="timeout", closed_at=NOW + 3) == 0
        )
        new_sid = await queries.coaching.create_session(
            conn, user_id=9, guild_id=GUILD, match_id=None, created_at=NOW + 4
        )
    assert new_sid != sid
    async with db.read() as conn:
        new = await queries.coaching.get_session(conn, session_id=new_sid)
        assert new is not None and (new.rank, new.comment, new.step) == (None, None, "rank")  # nothing leaks
        old = await queries.coaching.get_session(conn, session_id=sid)
        assert old is not None and (old.is_active, old.close_reason, old.closed_at) == (0, "finished", NOW + 2)
        assert old.step == "finish"  # the stage it reached stays


async def test_coaching_panel(db: Database) -> None:
    async with db.transaction() as conn:
        await queries.coaching.set_panel(conn, guild_id=GUILD, channel_id=1, message_id=2, updated_at=NOW)
        await queries.coaching.set_panel(conn, guild_id=GUILD, channel_id=1, message_id=3, updated_at=NOW)
    async with db.read() as conn:
        panel = await queries.coaching.get_panel(conn, guild_id=GUILD)
        assert panel is not None and panel.message_id == 3


async def test_voice_status_pass(db: Database) -> None:
    async with db.transaction() as conn:
        await upsert_steam_link(
            conn, user_id=1, steam_id="76561198000000001", name="a", verified=1, primary_account=1, updated_at="t"
        )
        await upsert_steam_link(
            conn, user_id=1, steam_id="76561198000000002", name=None, verified=0, primary_account=0, updated_at="t"
        )
        await upsert_steam_link(
            conn, user_id=2, steam_id="76561198000000003", name="c", verified=1, primary_account=1, updated_at="t"
        )
        await upsert_presence(
            conn,
            steam_id="76561198000000001",
            in_deadlock_now=1,
            in_match_now_strict=1,
            deadlock_stage="match",
            deadlock_minutes=12,
            deadlock_localized="Deadlock: Im Match",
            deadlock_party_hint=None,
            last_server_id="srv",
            last_seen_ts=NOW,
            deadlock_updated_at=NOW,
        )
        # the watch table holds someone who left voice
        await conn.execute("INSERT INTO deadlock_voice_watch VALUES ('stale', 1, 1, 5)")
        members: list[AddVoiceMembersParams] = [
            {"user_id": 1, "guild_id": GUILD, "channel_id": 500, "seen_at": NOW},
            {"user_id": 2, "guild_id": GUILD, "channel_id": 501, "seen_at": NOW},
            {"user_id": 3, "guild_id": GUILD, "channel_id": 501, "seen_at": NOW},  # no steam link
        ]
        await queries.voice_status.clear_guild_voice_members(conn, [{"guild_id": GUILD}])
        await queries.voice_status.add_voice_members(conn, members)
        # another guild's row (passed by another process) and a member who moved there
        await queries.voice_status.add_voice_members(
            conn, [{"user_id": 9, "guild_id": GUILD + 1, "channel_id": 900, "seen_at": NOW}]
        )
        await queries.voice_status.add_voice_members(
            conn, [{"user_id": 3, "guild_id": GUILD + 1, "channel_id": 900, "seen_at": NOW}]
        )
        assert await fetch_all(conn, "SELECT COUNT(*) FROM voice_status_members") == [(4,)]
        await queries.voice_status.clear_guild_voice_members(conn, [{"guild_id": GUILD + 1}])
        assert await fetch_all(conn, "SELECT COUNT(*) FROM voice_status_members") == [(2,)]
        await queries.voice_status.add_voice_members(conn, [members[2]])
        assert await fetch_all(conn, "SELECT COUNT(*) FROM voice_status_members") == [(3,)]
        presence = await queries.voice_status.list_presence(conn)
        assert await queries.voice_status.refresh_watch(conn, updated_at=NOW) == 3
        assert await queries.voice_status.prune_watch(conn) == 1
    assert [(p.user_id, p.steam_id, p.deadlock_minutes) for p in presence] == [
        (1, "76561198000000001", 12),
        (1, "76561198000000002", None),
        (2, "76561198000000003", None),
    ]
    async with db.read() as conn:
        watch = await fetch_all(
            conn, "SELECT steam_id, channel_id, updated_at FROM deadlock_voice_watch ORDER BY steam_id"
        )
        links = await fetch_all(conn, "SELECT steam_id FROM steam_links WHERE user_id = {} ORDER BY steam_id", 1)
    assert watch == [
        ("76561198000000001", 500, NOW),
        ("76561198000000002", 500, NOW),
        ("76561198000000003", 501, NOW),
    ]
    assert links == [("76561198000000001",), ("76561198000000002",)]  # the pass changed no link

    # the rows as the pass reads them back; a lease says who passes a guild
    async with db.transaction() as conn:
        assert [(m.user_id, m.channel_id) for m in await queries.voice_status.list_voice_members(
            conn, guild_id=GUILD)] == [(1, 500), (2, 501), (3, 501)]  # fmt: skip
        guilds = await queries.voice_status.list_voice_member_guilds(conn, now=NOW)
        assert [(g.guild_id, g.passed) for g in guilds] == [(GUILD, 0)]
        await queries.core.acquire_lease(conn, name=f"voice_status:{GUILD}", holder="me", now=NOW, expires_at=NOW + 180)
        guilds = await queries.voice_status.list_voice_member_guilds(conn, now=NOW)
        assert [(g.guild_id, g.passed) for g in guilds] == [(GUILD, 1)]
        guilds = await queries.voice_status.list_voice_member_guilds(conn, now=NOW + 180)  # ran out
        assert [(g.guild_id, g.passed) for g in guilds] == [(GUILD, 0)]

    # everyone left monitored voice: the watch list empties too
    async with db.transaction() as conn:
        await queries.voice_status.remove_voice_members(conn, [{"user_id": 1, "guild_id": GUILD + 1}])
        assert await fetch_all(conn, "SELECT COUNT(*) FROM voice_status_members") == [(3,)]  # not that guild's
        await queries.voice_status.remove_voice_members(conn, [{"user_id": u, "guild_id": GUILD} for u in (1, 2, 3)])
        assert await fetch_all(conn, "SELECT COUNT(*) FROM voice_status_members") == [(0,)]
        await queries.voice_status.refresh_watch(conn, updated_at=NOW + 60)
        assert await queries.voice_status.prune_watch(conn) == 3


async def test_voice_status_channel_decisions(db: Database) -> None:
    first: SaveChannelStatusesParams = {
        "channel_id": 500, "guild_id": GUILD, "state": "match", "suffix": "im Match Min 15 (4/6)",
        "match_minutes": 15, "players": 4, "slots": 6, "last_rename_at": NOW, "decided_at": NOW,
        "detail": '{"cohort": 4}',
    }  # fmt: skip
    second: SaveChannelStatusesParams = {
        **first, "state": "lobby", "suffix": "in der Lobby", "match_minutes": None, "players": 2,
        "decided_at": NOW + 60, "detail": None,
    }  # fmt: skip
    async with db.transaction() as conn:
        await queries.voice_status.save_channel_statuses(conn, [first])
        await queries.voice_status.save_channel_statuses(conn, [second])  # an upsert
    async with db.read() as conn:
        status = await queries.voice_status.get_channel_status(conn, channel_id=500)
        assert status is not None
        assert (status.state, status.match_minutes, status.decided_at) == ("lobby", None, NOW + 60)
        assert len(await queries.voice_status.list_channel_status(conn, guild_id=GUILD)) == 1


async def test_timers_fire_once(db: Database) -> None:
    async with db.transaction() as conn:
        t1 = await queries.core.schedule_timer(
            conn, event="coaching_timeout", key="1", due_at=100, payload="{}", created_at=0
        )
        t1_again = await queries.core.schedule_timer(
            conn, event="coaching_timeout", key="1", due_at=200, payload='{"x": 1}', created_at=0
        )
        await queries.core.schedule_timer(
            conn, event="coaching_timeout", key="2", due_at=150, payload="{}", created_at=0
        )
    assert t1 == t1_again  # re-arming moves the timer
    async with db.read() as reader:
        assert await queries.core.next_timer_due(reader, event="coaching_timeout") == 150
        due = await queries.core.list_due_timers(reader, event="coaching_timeout", now=199, max_count=10)
        assert [t.key for t in due] == ["2"]
        timer = await fetch_one(reader, "SELECT due_at, payload FROM timers WHERE key = {}", "1")
        assert timer == (200, '{"x": 1}')

    async def claim(timer_id: int) -> int:
        async with db.transaction() as conn:
            return await queries.core.claim_timer(conn, timer_id=timer_id)

    results = await asyncio.gather(*(claim(due[0].timer_id) for _ in range(5)))
    assert sorted(results) == [0, 0, 0, 0, 1]  # fires once
    async with db.transaction() as conn:
        assert await queries.core.cancel_timer(conn, event="coaching_timeout", key="1") == 1
        assert await queries.core.next_timer_due(conn, event="coaching_timeout") is None


async def test_kv_store(db: Database) -> None:
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="tempvoice", k="panel", v="1")
    async with db.write() as conn:
        await queries.core.set_kv(conn, ns="tempvoice", k="panel", v="2")
    async with db.read() as conn:
        assert await queries.core.get_kv(conn, ns="tempvoice", k="panel") == "2"
    async with db.write() as conn:
        assert await execute(conn, "DELETE FROM kv_store WHERE ns = {} AND k = {}", "tempvoice", "panel") == 1
        assert await queries.core.get_kv(conn, ns="tempvoice", k="panel") is None


async def test_forget_user_queries(db: Database) -> None:
    user = 555
    async with db.transaction() as conn:
        await upsert_steam_link(
            conn, user_id=user, steam_id="s", name=None, verified=0, primary_account=1, updated_at="t"
        )
        await queries.tempvoice.add_ban(conn, owner_id=user, banned_id=1, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=2, banned_id=user, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=2, banned_id=3, created_at=None)
        await queries.tempvoice.set_region(conn, owner_id=user, region="DE", updated_at="t")
        await queries.coaching.create_session(conn, user_id=user, guild_id=1, match_id=None, created_at=NOW)
        await execute(conn, "INSERT INTO user_ranks (user_id, rank) VALUES ({}, {})", user, "Oracle")
        # another program's table, no named query of ours writes it: a constant statement
        await conn.execute("INSERT INTO voice_stats (user_id, total_seconds) VALUES (555, 10)")
    async with db.transaction() as conn:
        counts = [
            await queries.core.forget_steam_links(conn, user_id=user),
            await queries.core.forget_bans(conn, user_id=user),
            await queries.core.forget_owner_prefs(conn, user_id=user),
            await queries.core.forget_coaching_sessions(conn, user_id=user),
            await queries.core.forget_user_rank(conn, user_id=user),
            await queries.core.forget_voice_stats(conn, user_id=user),
        ]
    assert counts == [1, 2, 1, 1, 1, 1]
    async with db.read() as conn:
        assert await queries.tempvoice.is_banned(conn, owner_id=2, banned_id=3) is True  # other people's data stays

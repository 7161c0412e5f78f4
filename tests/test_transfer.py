"""db export / db import (JSON round trip) and db forget-user."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.db import Database, SqliteDatabase
from bot.db.privacy import forget_user, parse_user_id
from bot.db.queries import queries
from bot.db.sqlite.migrations import latest_version, upgrade
from tests.legacy_shapes import DDL_31743C2, ROWS_31743C2, SNOW
from tests.other_programs import upsert_presence, upsert_steam_link
from tests.pg_support import needs_postgres, pg_schema_url
from tests.raw_sql import fetch_all
from tests.test_legacy import build


async def filled_database(path: Path, *, blob_in_text_column: bool = True) -> None:
    """The old bot's data, adopted, plus rows in the new tables, a deleted match (its id must
    never come back) and, unless told otherwise, a BLOB where TEXT was declared (which only
    SQLite's loose typing allows)."""
    build(path, DDL_31743C2, ROWS_31743C2)
    async with SqliteDatabase(path) as db:
        await upgrade(db, backup=False)
        async with db.transaction() as conn:
            match_id = await queries.balancer.create_match(
                conn, guild_id=SNOW, host_id=SNOW, origin_channel_id=None, seed=3, started_at=1
            )
            await queries.balancer.add_match_players(
                conn,
                [
                    {
                        "match_id": match_id,
                        "user_id": SNOW,
                        "team": "amber",
                        "rank_value": 11,
                        "rank_subtier": 6,
                        "rank_name": "Eternus",
                    }
                ],
            )
            await queries.core.schedule_timer(conn, event="e", key="k", due_at=5, payload="{}", created_at=1)
            deleted = await queries.balancer.create_match(
                conn, guild_id=SNOW, host_id=SNOW, origin_channel_id=None, seed=None, started_at=2
            )
            await conn.execute("DELETE FROM balancer_matches WHERE match_id = ?", (deleted,))
            if blob_in_text_column:
                await conn.execute("INSERT INTO kv_store VALUES ('bin', 'blob', ?)", (b"\x00\xffbytes",))


def test_export_import_export_is_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.sqlite3"
    asyncio.run(filled_database(source))
    first = tmp_path / "first.json"
    assert main(["db", "export", "--db", str(source), "--json", str(first)]) == 0
    assert "exported" in capsys.readouterr().out

    target = tmp_path / "target.sqlite3"
    assert main(["db", "import", "--db", str(target), "--json", str(first)]) == 0
    out = capsys.readouterr().out
    assert "row counts compared" in out and "tempvoice_lanes" in out

    second = tmp_path / "second.json"
    assert main(["db", "export", "--db", str(target), "--json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()

    data = json.loads(first.read_text())
    lanes = data["tables"]["tempvoice_lanes"]
    assert len(lanes["rows"]) == 5 and "lane_number" in lanes["columns"]
    assert {"$bytes": "AP9ieXRlcw=="} in [r[2] for r in data["tables"]["kv_store"]["rows"]]
    assert "steam_tasks" not in data["tables"]  # other programs' tables are theirs
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT v FROM kv_store WHERE ns = 'bin'").fetchone() == (b"\x00\xffbytes",)
    assert conn.execute("SELECT user_id FROM steam_links WHERE steam_id = '76561198000000003'").fetchone() == (
        9_223_372_036_854_775_807,
    )
    conn.close()

    # a non-empty database is refused, --replace replaces
    assert main(["db", "import", "--db", str(target), "--json", str(first)]) == 1
    assert "already holds data" in capsys.readouterr().err
    assert main(["db", "import", "--db", str(target), "--json", str(first), "--replace"]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a JSON export"),
        ('{"format": "other"}', "is not a deadlock-bot export"),
        ('{"format": "deadlock-bot-export", "format_version": 9}', "export format 9"),
        (
            '{"format": "deadlock-bot-export", "format_version": 1, "schema_version": 99, "tables": {}}',
            "schema version 99",
        ),
        (
            '{"format": "deadlock-bot-export", "format_version": 1, "schema_version": 1, "tables": {"x": {}}}',
            "tables this schema does not know: x",
        ),
        (
            '{"format": "deadlock-bot-export", "format_version": 1, "schema_version": 1, '
            '"tables": {"kv_store": {"columns": ["ns", "nope"], "rows": []}}}',
            "do not match the schema",
        ),
        (
            '{"format": "deadlock-bot-export", "format_version": 1, "schema_version": 1, '
            '"tables": {"kv_store": {"columns": ["ns", "k", "v"], "rows": [["a", "b"]]}}}',
            "list of 3 values",
        ),
        (
            '{"format": "deadlock-bot-export", "format_version": 1, "schema_version": 1, '
            '"tables": {"kv_store": {"columns": ["ns", "k", "v"], "rows": [["a", "b", null]]}}}',
            "table kv_store, row 1, column v: null, but the column is NOT NULL",
        ),
    ],
)
def test_bad_export_files_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content.replace('"schema_version": 1,', f'"schema_version": {latest_version()},'))
    target = tmp_path / "t.sqlite3"
    assert main(["db", "import", "--db", str(target), "--json", str(bad)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [bad]  # checked before anything was created


def test_missing_export_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "import", "--db", str(tmp_path / "t.sqlite3"), "--json", str(tmp_path / "none.json")]) == 1
    assert "no export file" in capsys.readouterr().err


async def test_forget_user_removes_only_their_data(any_db: Database) -> None:
    db = any_db  # on both engines
    other = 42
    async with db.transaction() as conn:
        for user, steam in [(SNOW, "s1"), (SNOW, "shared"), (other, "shared"), (other, "s2")]:
            await upsert_steam_link(
                conn, user_id=user, steam_id=steam, name=None, verified=1, primary_account=0, updated_at="t"
            )
            await upsert_presence(
                conn,
                steam_id=steam,
                in_deadlock_now=1,
                in_match_now_strict=0,
                deadlock_stage=None,
                deadlock_minutes=None,
                deadlock_localized=None,
                deadlock_party_hint=None,
                last_server_id=None,
                last_seen_ts=1,
                deadlock_updated_at=1,
            )
        await queries.voice_status.add_voice_members(
            conn,
            [
                {"user_id": SNOW, "guild_id": 1, "channel_id": 2, "seen_at": 1},
                {"user_id": other, "guild_id": 1, "channel_id": 2, "seen_at": 1},
            ],
        )
        await queries.voice_status.refresh_watch(conn, updated_at=1)
        await queries.tempvoice.add_ban(conn, owner_id=SNOW, banned_id=other, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=other, banned_id=SNOW, created_at=None)
        await queries.tempvoice.add_ban(conn, owner_id=other, banned_id=7, created_at=None)
        await queries.tempvoice.set_region(conn, owner_id=SNOW, region="DE", updated_at="t")
        await queries.coaching.create_session(conn, user_id=SNOW, guild_id=1, match_id="m", created_at=1)
        for target in (SNOW, other):
            await queries.core.upsert_overwrite_wish(
                conn, channel_id=5, feature="tempvoice.ban", target_kind="member", target_id=target,
                bit="connect", allow=0,
            )  # fmt: skip
    counts = await forget_user(db, SNOW)
    assert counts["channel permission wishes"] == 1
    assert counts["steam links"] == 2 and counts["watch list entries"] == 1 and counts["live presence rows"] == 1
    assert counts["tempvoice bans (issued and received)"] == 2 and counts["coaching sessions"] == 1
    async with db.read() as conn:
        assert await fetch_all(conn, "SELECT steam_id FROM steam_links WHERE user_id = {}", SNOW) == []
        assert await fetch_all(conn, "SELECT steam_id FROM deadlock_voice_watch ORDER BY steam_id") == [
            ("s2",),
            ("shared",),
        ]
        assert await queries.tempvoice.is_banned(conn, owner_id=other, banned_id=7) is True
        assert await queries.tempvoice.get_region(conn, owner_id=SNOW) is None
    assert sum((await forget_user(db, SNOW)).values()) == 0  # nothing left to forget


def test_forget_user_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "d.sqlite3"
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO steam_links (user_id, steam_id) VALUES (5, 'x')")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["db", "forget-user", "<@5>", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "forgot user 5" in out and "1 rows removed in one transaction" in out
    assert main(["db", "forget-user", "five", "--db", str(db)]) == 2
    assert "not a Discord user id" in capsys.readouterr().err


def test_parse_user_id() -> None:
    assert parse_user_id(" 123 ") == 123 and parse_user_id("<@!456>") == 456
    for bad in ["0", "-1", "1.5", "", str(2**63)]:
        with pytest.raises(ValueError):
            parse_user_id(bad)


# -- across engines ------------------------------------------------------------------------


@needs_postgres
def test_sqlite_to_postgres_and_back_gives_identical_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source.sqlite3"
    asyncio.run(filled_database(source, blob_in_text_column=False))
    from_sqlite, from_pg, from_sqlite_again = (tmp_path / n for n in ("a.json", "b.json", "c.json"))
    assert main(["db", "export", "--db", str(source), "--json", str(from_sqlite)]) == 0
    with pg_schema_url() as url:
        assert main(["db", "import", "--db", url, "--json", str(from_sqlite)]) == 0
        out = capsys.readouterr().out
        assert "row counts compared" in out
        counts = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:] if line.strip()}
        assert counts["tempvoice_lanes"] == ["5", "5"] and counts["steam_links"][0] == counts["steam_links"][1]
        assert main(["db", "export", "--db", url, "--json", str(from_pg)]) == 0
        assert from_pg.read_bytes() == from_sqlite.read_bytes()

        # the deleted match's id stays used on PostgreSQL too
        async def next_match_id() -> int:
            from bot.db.postgres.engine import PgDatabase

            async with PgDatabase(url) as pg, pg.transaction() as conn:
                return await queries.balancer.create_match(
                    conn, guild_id=1, host_id=1, origin_channel_id=None, seed=None, started_at=3
                )

        data = json.loads(from_pg.read_text())
        assert data["sequences"]["balancer_matches"] == 2
        assert [r[0] for r in data["tables"]["balancer_matches"]["rows"]] == [1]
        assert asyncio.run(next_match_id()) == 3

    # and back: PostgreSQL's export into a new SQLite file exports the same bytes
    target = tmp_path / "target.sqlite3"
    assert main(["db", "import", "--db", str(target), "--json", str(from_pg)]) == 0
    assert main(["db", "export", "--db", str(target), "--json", str(from_sqlite_again)]) == 0
    assert from_sqlite_again.read_bytes() == from_sqlite.read_bytes()
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'balancer_matches'").fetchone() == (2,)
    conn.close()


@needs_postgres
def test_values_postgres_cannot_hold_are_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    asyncio.run(filled_database(source))  # with bytes in kv_store's TEXT column
    export = tmp_path / "a.json"
    assert main(["db", "export", "--db", str(source), "--json", str(export)]) == 0
    with pg_schema_url() as url:
        assert main(["db", "import", "--db", url, "--json", str(export)]) == 1
        err = capsys.readouterr().err
        assert "table kv_store" in err and "nothing was written" in err and "Traceback" not in err

        async def rows_in_postgres() -> int:
            from bot.db.postgres.engine import PgDatabase
            from bot.db.transfer import export_data

            async with PgDatabase(url) as pg:
                data = await export_data(pg)
            return sum(len(t["rows"]) for t in data["tables"].values())

        assert asyncio.run(rows_in_postgres()) == 0

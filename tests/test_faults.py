"""The fault suite: bad input and broken surroundings, each met with one clear line, the
documented exit code (0 ok, 1 failure, 2 usage/configuration), the database byte for byte as
it was, nothing new beside it, and no password or token in the output. Every case runs the
installed `deadlock-bot` command in a subprocess (see tests/fault_support.py)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.db.export_format import FORMAT, FORMAT_VERSION, schema_model
from bot.db.sqlite.migrations import latest_version
from tests.fault_support import (
    DB,
    PASSWORD,
    TOKEN,
    Case,
    Cleanup,
    Setup,
    Templates,
    Workdir,
    make_templates,
    run_case,
    start_bot,
    write_lock,
)
from tests.pg_support import REACHABLE

PG_DOWN = "postgresql://bot:{pw}@127.0.0.1:1/deadlock"  # nothing listens on port 1
PG_SHOWN = r"postgresql://bot:\*\*\*@127\.0\.0\.1:1/deadlock"
RUN = ("DISCORD_TOKEN", TOKEN)
FAST_BUSY = ("DEADLOCK_DB_BUSY_TIMEOUT_MS", "300")
OLD_BOT = "home/Documents/Deadlock/service/deadlock.sqlite3"


# -- setups -----------------------------------------------------------------------------


def current(w: Workdir) -> None:
    w.copy(w.templates.current)


def old(w: Workdir) -> None:
    w.copy(w.templates.old)


def filled(w: Workdir) -> None:
    w.copy(w.templates.filled)


def corrupt(w: Workdir) -> None:
    w.copy(w.templates.corrupt)


def not_a_db(w: Workdir) -> None:
    w.db.write_text("these are my notes, not a database\n" * 100)


def newer(w: Workdir) -> None:
    conn = sqlite3.connect(w.db)
    conn.executescript("CREATE TABLE t (x INTEGER); PRAGMA user_version = 99;")
    conn.close()


def folder(w: Workdir) -> None:
    w.db.mkdir()


def without_steam_links(w: Workdir) -> None:
    w.copy(w.templates.current)
    conn = sqlite3.connect(w.db)
    conn.execute("DROP TABLE steam_links")
    conn.close()


def text_in_id(w: Workdir) -> None:
    w.copy(w.templates.current)
    conn = sqlite3.connect(w.db)
    conn.execute("INSERT INTO steam_links (user_id, steam_id) VALUES ('not-a-number', '76561198000000001')")
    conn.commit()
    conn.close()


def old_bot_file(w: Workdir) -> None:
    target = w.root / OLD_BOT
    target.parent.mkdir(parents=True)
    w.copy(w.templates.current, target)


def locked(w: Workdir) -> Cleanup:
    return write_lock(w.copy(w.templates.current))


def locked_old(w: Workdir) -> Cleanup:
    return write_lock(w.copy(w.templates.old))


def export(**change: object) -> Setup:
    """A setup writing e.json: an empty export of the current schema with one steam link,
    then `change` applied (table=None removes a table)."""

    def setup(w: Workdir) -> None:
        tables: dict[str, Any] = {
            name: {"columns": list(t.columns), "rows": []} for name, t in sorted(schema_model().items())
        }
        cols: list[str] = tables["steam_links"]["columns"]
        row: list[object] = [{"user_id": 5, "steam_id": "76561198000000001"}.get(c) for c in cols]
        tables["steam_links"]["rows"] = [row]
        data: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": latest_version()}
        data |= {"sequences": {}, "tables": tables}
        for key, value in change.items():
            if key == "schema_version":
                data["schema_version"] = value
            elif key == "user_id":
                row[cols.index("user_id")] = value
            elif key == "duplicate":
                tables["steam_links"]["rows"].append(list(row))
            elif value is None:
                del tables[key]
        (w.root / "e.json").write_text(json.dumps(data))

    return setup


def both(*setups: Setup) -> Setup:
    def setup(w: Workdir) -> Cleanup | None:
        cleanups = [s(w) for s in setups]

        def undo() -> None:
            for c in reversed(cleanups):
                if c:
                    c()

        return undo

    return setup


def _fill(where: Path, leave: int) -> None:
    stat = os.statvfs(where)
    free = stat.f_bavail * stat.f_frsize
    with (where / "filler").open("wb") as f:
        f.truncate(0)
        f.write(b"\0" * max(0, free - leave))
        f.flush()
        os.fsync(f.fileno())


def full_disk(template: str, *, db_inside: bool, leave: int) -> Setup:
    """A 2 MiB tmpfs `full/` filled up to `leave` bytes; the database inside it or beside it."""

    def setup(w: Workdir) -> None:
        where = w.tmpfs("full", "2m")
        w.copy(getattr(w.templates, template), where / DB if db_inside else None)
        _fill(where, leave)

    return setup


def read_only(template: str) -> Setup:
    def setup(w: Workdir) -> None:
        where = w.tmpfs("ro", "4m")
        w.copy(getattr(w.templates, template), where / DB)
        w.read_only(where)

    return setup


def running_bot(link: str) -> Setup:
    """A bot runs on deadlock.sqlite3; link.sqlite3 is a symlink or a hard link to it."""

    def setup(w: Workdir) -> Cleanup:
        w.copy(w.templates.current)
        (w.root / "link.sqlite3").symlink_to(w.db) if link == "symlink" else os.link(w.db, w.root / "link.sqlite3")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEADLOCK_DB", "DATABASE_URL"))}
        return start_bot(w.db, {**env, "HOME": str(w.home)})

    return setup


def C(
    id: str, args: str, code: int, pattern: str, setup: Setup | None = None, *env: tuple[str, str], **kw: Any
) -> Case:
    return Case(id, tuple(args.split()), code, pattern, setup, tuple(env), **kw)


NO_DB = {"unchanged": None}
RUNLOG = {"one_line": False}  # `run` logs INFO lines before its error

# The table: one case per line (C(id, args, exit code, pattern of the line, setup, *env, **checks)).
# fmt: off
CASES = [
    # -- the command line and settings: exit 2, before anything is opened or contacted ---------
    C("no-command", "", 2, r"required: COMMAND", **NO_DB),
    C("unknown-command", "frobnicate", 2, r"invalid choice: 'frobnicate'", **NO_DB),
    C("db-without-subcommand", "db", 2, r"DB_COMMAND", **NO_DB),
    C("export-without-json", "db export", 2, r"--json", **NO_DB),
    C("unknown-option", "db stats --dbb x", 2, r"unrecognized arguments", **NO_DB),
    C("empty-db", "db upgrade --db=", 2, r"--db is empty", **NO_DB),
    C("pg-url-empty", "db upgrade --db postgresql://", 2, r"names no server", **NO_DB),
    C("pg-url-no-database", "db upgrade --db postgresql://bot:{pw}@dbhost", 2, r"names no database", **NO_DB),
    C("pg-port-not-a-number", "db upgrade --db postgresql://u:{pw}@h:abc/db", 2, r"port in postgresql://u:\*\*\*@h:abc/db", **NO_DB),
    C("mysql-url", "db upgrade --db mysql://u:{pw}@h/db", 2, r"mysql:// is not a database this bot can use", **NO_DB),
    C("sqlite-url-two-slashes", "db upgrade --db sqlite://x.db", 2, r"not an SQLite URL", **NO_DB),
    C("database-url-unknown", "db stats", 2, r"DATABASE_URL: mongodb://", None, ("DATABASE_URL", "mongodb://u:{pw}@h/x"), **NO_DB),
    C("database-url-sqlite-two-slashes", "db upgrade", 2, r"DATABASE_URL: 'sqlite://x.db'", None, ("DATABASE_URL", "sqlite://x.db"), **NO_DB),
    C("db-path-is-a-url", "db upgrade", 2, r"DEADLOCK_DB_PATH is a file path, not a URL", None, ("DEADLOCK_DB_PATH", "postgresql://u:{pw}@h/db"), **NO_DB),
    C("busy-timeout-word", "db stats --db {db}", 2, r"DEADLOCK_DB_BUSY_TIMEOUT_MS must be a number", current, ("DEADLOCK_DB_BUSY_TIMEOUT_MS", "later")),
    C("busy-timeout-negative", "db upgrade --db {db}", 2, r"must not be negative", current, ("DEADLOCK_DB_BUSY_TIMEOUT_MS", "-5")),
    C("auto-upgrade-maybe", "run --db {db}", 2, r"DEADLOCK_DB_AUTO_UPGRADE must be 1 or 0", old, RUN, ("DEADLOCK_DB_AUTO_UPGRADE", "maybe")),
    C("run-without-token", "run --db {db}", 2, r"DISCORD_TOKEN is not set", current),
    C("run-bad-staging-ids", "run --db {db}", 2, r"TEMPVOICE_STAGING_CHANNEL_IDS must be a comma-separated list", old, RUN, ("TEMPVOICE_STAGING_CHANNEL_IDS", "12,abc")),
    C("run-bad-cap", "run --db {db}", 2, r"TEMPVOICE_DEFAULT_CAP must be a whole number from 0 to 99", old, RUN, ("TEMPVOICE_STAGING_CHANNEL_IDS", "1"), ("TEMPVOICE_DEFAULT_CAP", "500")),
    C("run-bad-rank-roles", "run --db {db}", 2, r"RANK_ROLE_IDS entries look like", old, RUN, ("RANK_ROLE_IDS", "bogus")),
    C("run-bad-rankvoice-ids", "run --db {db}", 2, r"RANKVOICE_RANKED_CATEGORY_IDS must be", old, RUN, ("RANKVOICE_RANKED_CATEGORY_IDS", "x")),
    C("run-bad-status-interval", "run --db {db}", 2, r"VOICE_STATUS_INTERVAL_SECONDS must be a whole number from 15", old, RUN, ("VOICE_STATUS_CATEGORY_IDS", "1"), ("VOICE_STATUS_INTERVAL_SECONDS", "1")),
    C("run-bad-claim-port", "run --db {db}", 2, r"COACHING_CLAIM_PORT must be a whole number", old, RUN, ("COACHING_ENABLED", "1"), ("COACHING_CLAIM_PORT", "99999")),
    C("run-bad-stale-hours", "run --db {db}", 2, r"BALANCER_STALE_HOURS must be a whole number", old, RUN, ("BALANCER_MATCH_CATEGORY_IDS", "1"), ("BALANCER_STALE_HOURS", "x")),
    C("run-bad-settings-no-files", "run", 2, r"TEMPVOICE_STAGING_CHANNEL_IDS", None, RUN, ("TEMPVOICE_STAGING_CHANNEL_IDS", "abc"), **NO_DB),
    C("forget-user-word", "db forget-user five --db {db}", 2, r"not a Discord user id: 'five'", current),
    C("forget-user-zero", "db forget-user 0 --db {db}", 2, r"not a Discord user id", current),
    C("check-on-postgres", "db check --db " + PG_DOWN, 2, r"works on the SQLite file", **NO_DB),
    C("stats-on-postgres", "db stats", 2, r"works on the SQLite file", None, ("DATABASE_URL", PG_DOWN), **NO_DB),
    C("backup-on-postgres", "db backup --db " + PG_DOWN, 2, r"works on the SQLite file", **NO_DB),
    C("old-bot-file-run", "run", 2, r"old bot's database .*Documents/Deadlock/service/deadlock\.sqlite3 exists .*data/deadlock\.sqlite3 .*--db", old_bot_file, RUN, unchanged=OLD_BOT),
    C("old-bot-file-upgrade", "db upgrade", 2, r"old bot's database .* --db", old_bot_file, unchanged=OLD_BOT),
    # -- files that are missing, wrong or damaged: exit 1, the file as it was ------------------
    C("check-missing-file", "db check --db {db}", 1, r"no database at", **NO_DB),
    C("stats-folder", "db stats --db {db}", 1, r"is a folder, not a database file", folder, **NO_DB),
    C("upgrade-not-a-db", "db upgrade --db {db}", 1, r"is not an SQLite database", not_a_db),
    C("stats-not-a-db", "db stats --db {db}", 1, r"is not an SQLite database", not_a_db),
    C("export-not-a-db", "db export --db {db} --json e.json", 1, r"is not an SQLite database", not_a_db),
    C("run-not-a-db", "run --db {db}", 1, r"is not an SQLite database", not_a_db, RUN, **RUNLOG),
    C("upgrade-newer", "db upgrade --db {db}", 1, r"schema version 99.*newer", newer),
    C("run-newer", "run --db {db}", 1, r"schema version 99.*newer", newer, RUN, **RUNLOG),
    C("check-text-in-id", "db check --db {db}", 1, r"steam_links: column user_id holds values that are not whole numbers \(1 text\)", text_in_id, stdout=True),
    C("check-corrupt", "db check --db {db}", 1, r"PROBLEMS FOUND", corrupt, stdout=True),
    C("stats-corrupt", "db stats --db {db}", 1, r"is corrupt .*restore it from a backup", corrupt),
    C("export-corrupt", "db export --db {db} --json e.json", 1, r"is corrupt", corrupt),
    C("backup-corrupt", "db backup --db {db} --to b.sqlite3", 1, r"is corrupt", corrupt),
    C("forget-user-corrupt", "db forget-user 5 --db {db}", 1, r"is corrupt", corrupt),
    C("upgrade-corrupt", "db upgrade --db {db}", 1, r"is corrupt", corrupt),
    C("run-corrupt", "run --db {db}", 1, r"is corrupt", corrupt, RUN, **RUNLOG),
    C("forget-user-no-steam-links", "db forget-user 5 --db {db}", 1, r"lacks the table\(s\) steam_links.*db upgrade", without_steam_links),
    C("run-table-missing", "run --db {db}", 1, r"lacks the table\(s\) steam_links.*db upgrade", without_steam_links, RUN, **RUNLOG),
    C("upgrade-repairs-missing-table", "db upgrade --db {db}", 0, r"re-created steam_links", without_steam_links, stdout=True, unchanged=None, new_files=(r"deadlock\.backup-.*\.sqlite3",)),
    # -- export and backup targets ---------------------------------------------------------
    C("export-onto-the-database", "db export --db {db} --json {db}", 1, r"is the database being exported", current),
    C("export-onto-the-database-forced", "db export --db {db} --json {db} --force", 1, r"is the database being exported", current),
    C("export-existing-target", "db export --db {db} --json e.json", 1, r"e\.json exists: .*--force", both(current, export()), unchanged="e.json"),
    C("export-existing-forced", "db export --db {db} --json e.json --force", 0, r"voice_status_members", both(current, export()), stdout=True),
    C("export-into-folder", "db export --db {db} --json {dir}", 1, r"is a folder: give the export a file name", current),
    C("export-unwritable", "db export --db {db} --json /proc/deadlock-x/e.json", 1, r"cannot write the export /proc/deadlock-x/e\.json", current),
    C("backup-existing-target", "db backup --db {db} --to e.json", 1, r"backup target e\.json exists", both(current, export()), unchanged="e.json"),
    C("backup-into-folder", "db backup --db {db} --to {dir}", 1, r"is a folder", current),
    # -- imports: the whole export checked before anything is created ---------------------
    C("import-no-file", "db import --db {db} --json none.json", 1, r"no export file at none\.json", **NO_DB),
    C("import-not-json", "db import --db {db} --json {db}", 1, r"is not a JSON export", current),
    C("import-missing-table", "db import --db {db} --json e.json", 1, r"lacks the table\(s\) steam_links", export(steam_links=None), **NO_DB),
    C("import-text-in-id", "db import --db {db} --json e.json", 1, r"table steam_links, row 1, column user_id: \"not-a-number\" is not a whole number", export(user_id="not-a-number"), **NO_DB),
    C("import-id-too-big", "db import --db {db} --json e.json", 1, r"column user_id: 1e\+20|outside the 64-bit range", export(user_id=10**20), **NO_DB),
    C("import-wrong-version", "db import --db {db} --json e.json", 1, r"schema version 1, this bot's schema is", export(schema_version=1), **NO_DB),
    C("import-into-nonempty", "db import --db {db} --json e.json", 1, r"already holds data .*--replace", both(filled, export())),
    C("import-duplicate-key-new-folders", "db import --db {dir}/new/sub/" + DB + " --json e.json", 1, r"table steam_links: UNIQUE constraint failed.*nothing was written", export(duplicate=True), **NO_DB),
    C("import-good", "db import --db {db} --json e.json", 0, r"voice_status_members", export(), stdout=True, unchanged=None, new_files=(DB,)),
    # -- locks held by other programs -----------------------------------------------------
    C("forget-user-locked", "db forget-user 5 --db {db}", 1, r"is locked by another program", locked, FAST_BUSY),
    C("import-locked", "db import --db {db} --json e.json --replace", 1, r"is locked by another program", both(locked, export()), FAST_BUSY),
    C("upgrade-locked", "db upgrade --db {db}", 1, r"is locked by another program.*nothing was changed", locked_old, FAST_BUSY),
    C("run-upgrade-locked", "run --db {db}", 1, r"is locked by another program", locked_old, RUN, FAST_BUSY, **RUNLOG),
    C("run-symlink-to-running", "run --db {dir}/link.sqlite3", 1, r"another deadlock-bot process .* is running", running_bot("symlink"), RUN, unchanged=None, **RUNLOG),
    C("run-hardlink-to-running", "run --db {dir}/link.sqlite3", 1, r"another deadlock-bot process .* is running", running_bot("hardlink"), RUN, unchanged=None, **RUNLOG),
    # -- full disks (a small tmpfs) ---------------------------------------------------------
    C("export-disk-full", "db export --db {db} --json full/e.json", 1, r"cannot write the export full/e\.json: No space left", both(full_disk("filled", db_inside=False, leave=0))),
    C("backup-disk-full", "db backup --db {db} --to full/b.sqlite3", 1, r"full|space", full_disk("filled", db_inside=False, leave=0)),
    C("upgrade-disk-full", "db upgrade --db full/" + DB, 1, r"full|space", full_disk("old", db_inside=True, leave=64 * 1024), unchanged="full/" + DB),
    C("run-upgrade-disk-full", "run --db full/" + DB, 1, r"full|space", full_disk("old", db_inside=True, leave=64 * 1024), RUN, unchanged="full/" + DB, **RUNLOG),
    C("run-disk-100-full", "run --db full/" + DB, 1, r"No space left", full_disk("current", db_inside=True, leave=0), RUN, unchanged="full/" + DB, **RUNLOG),
    # -- read-only files (a read-only mount: root may write any file it can reach) ---------
    C("run-read-only", "run --db ro/" + DB, 1, r"(?i)read-only", read_only("current"), RUN, unchanged="ro/" + DB, **RUNLOG),
    C("forget-user-read-only", "db forget-user 5 --db ro/" + DB, 1, r"(?i)read-only", read_only("current"), unchanged="ro/" + DB),
    C("upgrade-read-only", "db upgrade --db ro/" + DB, 1, r"(?i)read-only", read_only("old"), unchanged="ro/" + DB),
    C("import-read-only", "db import --replace --db ro/" + DB + " --json e.json", 1, r"read-only", both(read_only("current"), export()), unchanged="ro/" + DB),
    # -- URLs: every form people write is read, none falls back to ./data ------------------
    C("pg-down-password-hidden", "db upgrade --db " + PG_DOWN, 1, r"cannot connect to PostgreSQL at " + PG_SHOWN, **NO_DB),
    C("pg-asyncpg-form", "db upgrade --db postgresql+asyncpg://bot:{pw}@127.0.0.1:1/deadlock", 1, r"cannot connect to PostgreSQL at " + PG_SHOWN, **NO_DB),
    C("pg-postgres-form-query-password", "db export --json e.json --db postgres://127.0.0.1:1/deadlock?password={pw}", 1, r"cannot connect to PostgreSQL at postgresql://127\.0\.0\.1:1/deadlock\?password=\*\*\*", **NO_DB),
    C("pg-database-url-run", "run", 1, r"cannot connect to PostgreSQL at " + PG_SHOWN, None, RUN, ("DATABASE_URL", "postgresql+asyncpg://bot:{pw}@127.0.0.1:1/deadlock"), unchanged=None, **RUNLOG),
    C("pg-forget-user", "db forget-user 5", 1, r"cannot connect to PostgreSQL at " + PG_SHOWN, None, ("DATABASE_URL", PG_DOWN), **NO_DB),
    C("sqlite-url-relative", "db upgrade", 0, r"rel\.sqlite3: schema version 0 -> ", None, ("DATABASE_URL", "sqlite:///rel.sqlite3"), stdout=True, unchanged=None, new_files=(r"rel\.sqlite3",)),
    C("sqlite-url-absolute", "db upgrade --db sqlite:///{dir}/abs.sqlite3", 0, r"abs\.sqlite3: schema version 0 -> ", stdout=True, unchanged=None, new_files=(r"abs\.sqlite3",)),
    C("old-bot-file-explicit", "db stats --db " + OLD_BOT, 0, r"kv_store", old_bot_file, stdout=True, unchanged=OLD_BOT),
    C("run-no-network", "run --db {db}", 1, r"cannot reach Discord|Discord rejected the token", current, RUN, unchanged=None, **RUNLOG),
]

if REACHABLE:
    CASES += [
        C("pg-no-such-database", "db upgrade --db postgresql://postgres:{pw}@127.0.0.1:5432/no_such_db_4711", 1, r"cannot connect to PostgreSQL at postgresql://postgres:\*\*\*@.*does not exist", **NO_DB),
        C("sql-check-pg-no-such-database", "sql check", 1, r"PostgreSQL refused at postgresql://postgres:\*\*\*@127\.0\.0\.1:5432/no_such_db_4711", None, ("DEADLOCK_PG_URL", "postgresql://postgres:{pw}@127.0.0.1:5432/no_such_db_4711"), **NO_DB),
    ]
# fmt: on


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return make_templates(tmp_path_factory.mktemp("fault-templates"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, templates: Templates, tmp_path: Path) -> None:
    run_case(case, Workdir(tmp_path, templates))


def test_the_suite_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert PASSWORD not in TOKEN and DB == "deadlock.sqlite3"

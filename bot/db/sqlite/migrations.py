"""Versioned migrations: sql/migrations/NNNN_reason.sql, version in PRAGMA user_version.

Each migration runs in one transaction together with the new user_version, so a failed
migration leaves the file exactly as it was. A file that is behind gets an online backup
first. A file from a newer bot is refused before anything is written (see SqliteDatabase).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import sqlite3
import textwrap
from functools import cache
from pathlib import Path

from bot.db.connections import WriteConn
from bot.db.errors import MigrationError, SchemaTooNewError
from bot.db.legacy import AdoptionReport, adopt
from bot.db.sqlite.connection import as_sqlite
from bot.db.sqlite.engine import SqliteDatabase
from bot.db.sqlite.maintenance import backup_to, default_backup_path, list_tables
from bot.resources import MIGRATIONS_DIR

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(?P<version>\d{4})_(?P<reason>[a-z0-9_]+)\.sql$")


@dataclasses.dataclass(frozen=True)
class Migration:
    version: int
    reason: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class UpgradeReport:
    path: Path
    from_version: int
    to_version: int
    applied: tuple[Migration, ...]
    backup: Path | None
    adoption: AdoptionReport | None = None

    def describe(self) -> str:
        if not self.applied:
            return f"{self.path}: already at schema version {self.to_version}, nothing to do"
        lines = [f"{self.path}: schema version {self.from_version} -> {self.to_version}"]
        if self.backup is not None:
            lines.append(f"  backup written first: {self.backup}")
        if self.adoption is not None:
            lines.append(textwrap.indent(self.adoption.describe(), "  "))
        lines += [f"  applied {m.path.name}" for m in self.applied if not (self.adoption and m.version == 1)]
        return "\n".join(lines)


def load_migrations(folder: Path = MIGRATIONS_DIR) -> tuple[Migration, ...]:
    """The migrations in order; versions must run 1, 2, 3, ... without gaps."""
    found = []
    for f in sorted(folder.glob("*.sql")):
        m = _FILE.match(f.name)
        if not m:
            raise MigrationError(f"{f}: migration files are named NNNN_reason.sql (e.g. 0002_add_timers.sql)")
        found.append(Migration(int(m["version"]), m["reason"], f))
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise MigrationError(f"{mig.path}: expected migration version {expected}, found {mig.version}")
    return tuple(found)


@cache
def latest_version() -> int:
    migrations = load_migrations()
    return migrations[-1].version if migrations else 0


async def upgrade(
    db: SqliteDatabase, *, backup: bool = True, migrations: tuple[Migration, ...] | None = None
) -> UpgradeReport:
    """Bring the open database to the newest schema version."""
    migrations = load_migrations() if migrations is None else migrations
    target = migrations[-1].version if migrations else 0
    current = await db.user_version()
    if current > target:
        raise SchemaTooNewError(
            f"{db.path} has schema version {current}, newer than this bot's {target}; the file was not changed"
        )
    pending = tuple(m for m in migrations if m.version > current)
    if not pending:
        return UpgradeReport(db.path, current, current, (), None)
    legacy = current == 0 and bool(await list_tables(db))
    backup_path = None
    if backup and (current > 0 or legacy):
        backup_path = default_backup_path(db.path, dt.datetime.now(dt.UTC))
        await backup_to(db, backup_path)
        log.info("backup of %s written to %s before upgrading", db.path, backup_path)
    applied = []
    adoption = None
    if legacy:
        # The old bot's file: tables but no version. Adopt it as version 1, then migrate on.
        adoption = await adopt(db, pending[0].sql, pending[0].version)
        applied.append(pending[0])
        pending = pending[1:]
    for mig in pending:
        await _apply(db, mig)
        applied.append(mig)
        log.info("applied migration %s", mig.path.name)
    return UpgradeReport(db.path, current, applied[-1].version, tuple(applied), backup_path, adoption)


async def _apply(db: SqliteDatabase, mig: Migration) -> None:
    # executescript() would COMMIT an open transaction first; the writer is in autocommit
    # mode, so the script's own BEGIN .. COMMIT is the only transaction, and the version
    # bump commits with the schema change or not at all.
    script = f"BEGIN IMMEDIATE;\n{mig.sql}\n;PRAGMA user_version = {int(mig.version)};\nCOMMIT;\n"
    async with db.write() as conn:
        try:
            await as_sqlite(conn).executescript(script)
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise await _failed(conn, mig, e) from e
            if conn.in_transaction:
                await as_sqlite(conn).run_statement("ROLLBACK")
            raise MigrationError(
                f"migration {mig.path.name} could not start, the file is unchanged: {e} "
                "(another program is writing to the database; try again when it is done)"
            ) from e
        except Exception as e:
            raise await _failed(conn, mig, e) from e


async def _failed(conn: WriteConn, mig: Migration, e: Exception) -> MigrationError:
    if conn.in_transaction:
        await as_sqlite(conn).run_statement("ROLLBACK")
    return MigrationError(f"migration {mig.path.name} failed and was rolled back, the file is unchanged: {e}")

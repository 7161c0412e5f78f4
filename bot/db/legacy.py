"""Adopt a database of the old bot: bring it to schema version 1 with nothing lost.

The old bot never versioned its file (user_version 0) and its cogs created their tables
at run time, so a file can be in many shapes (original_spec.md §3.C): tables missing,
columns added later missing (live_player_state.deadlock_*, voice_stats.total_points,
voice_channel_anchors.anchor_subrank ...), the older tempvoice_interface keyed by guild,
coaching_sessions keyed by user. Adoption compares the file with migration 0001 table by
table, inside ONE transaction:

* a missing table is created;
* missing columns are added with ALTER TABLE ADD COLUMN (the existing rows and column
  order stay, so programs that share the file keep working);
* a table of this bot whose keys or column types differ is rebuilt: new table, rows
  copied (with conversions for the known legacy shapes), old table dropped, new renamed;
  row counts are compared before the transaction may commit;
* missing indexes are created;
* tables of other programs are not touched at all.

Any failure rolls everything back; the caller has taken a backup before.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
from typing import Any

from bot.db.connections import WriteConn
from bot.db.errors import MigrationError
from bot.db.sqlite.connection import SqliteConnection
from bot.db.sqlite.engine import SqliteDatabase
from bot.db.sqlite.maintenance import TableShape, fetcher, quote_ident, snapshot

log = logging.getLogger(__name__)

#: Tables this bot owns: they may be rebuilt. Every other table of schema 1 is shared with
#: other programs (the Node presence service, the rank bot, dashboards) and only gets
#: missing columns and indexes added.
OWN_TABLES = frozenset({
    "tempvoice_lanes", "tempvoice_lane_members", "tempvoice_bans", "tempvoice_owner_prefs", "tempvoice_interface",
    "voice_channel_settings", "voice_channel_anchors", "balancer_matches", "balancer_match_players",
    "coaching_sessions", "coaching_panels", "timers", "voice_status_channels", "voice_status_members",
})  # fmt: skip

# How a rebuilt table's columns are filled from a legacy table: SQL templates over the
# legacy columns ({col} becomes the quoted column, or NULL where the legacy table lacks it).
# Columns not listed are copied by name when the legacy table has them, else get their default.
_TS = "CAST(strftime('%s', {c}) AS INTEGER)"  # legacy UTC text timestamp -> unix seconds
_COPY_RULES: dict[str, dict[str, str]] = {
    # 31743c2: one row per user (user_id PK), text timestamps, no guild, no close reason. The old
    # bot closed a session by clearing is_active alone: step keeps the stage it reached.
    "coaching_sessions": {
        "user_id": "{user_id}",
        "guild_id": "0",
        "step": "CASE WHEN {step} IN ('rank', 'subrank', 'hero', 'comment', 'finish') THEN {step} ELSE 'rank' END",
        "is_active": "CASE WHEN COALESCE({is_active}, 1) = 0 THEN 0 ELSE 1 END",
        "created_at": f"COALESCE({_TS.format(c='{created_at}')}, {_TS.format(c='{updated_at}')}, 0)",
        "updated_at": f"COALESCE({_TS.format(c='{updated_at}')}, {_TS.format(c='{created_at}')}, 0)",
        "closed_at": f"CASE WHEN COALESCE({{is_active}}, 1) = 0 THEN COALESCE({_TS.format(c='{updated_at}')}, 0) END",
    },
    # Before 2025-09: one global panel per guild (guild_id PK), no lane panels.
    "tempvoice_interface": {
        "created_at": "COALESCE({created_at}, {updated_at}, CURRENT_TIMESTAMP)",
        "updated_at": "COALESCE({updated_at}, CURRENT_TIMESTAMP)",
    },
}

# Legacy lanes have no lane_number: take it from "Lane N" where that is unambiguous.
_NUMBER_LEGACY_LANES = """
UPDATE tempvoice_lanes
SET lane_number = CAST(substr(base_name, 6) AS INTEGER)
WHERE lane_number IS NULL
  AND base_name GLOB 'Lane [1-9]*' AND substr(base_name, 6) NOT GLOB '*[^0-9]*' AND length(base_name) < 15
  AND NOT EXISTS (
      SELECT 1 FROM tempvoice_lanes AS o
      WHERE o.guild_id = tempvoice_lanes.guild_id AND o.category_id = tempvoice_lanes.category_id
        AND o.lane_number = CAST(substr(tempvoice_lanes.base_name, 6) AS INTEGER)
  )
  AND NOT EXISTS (
      SELECT 1 FROM tempvoice_lanes AS o
      WHERE o.guild_id = tempvoice_lanes.guild_id AND o.category_id = tempvoice_lanes.category_id
        AND o.base_name = tempvoice_lanes.base_name AND o.channel_id < tempvoice_lanes.channel_id
  )
"""


@dataclasses.dataclass
class Step:
    what: str
    sql: str


@dataclasses.dataclass
class AdoptionReport:
    actions: list[str]
    untouched: list[str]

    def describe(self) -> str:
        lines = ["adopted a database of the old bot:"]
        lines += [f"  {a}" for a in self.actions] or ["  (nothing to change)"]
        if self.untouched:
            lines.append(f"  tables of other programs left as they were: {', '.join(self.untouched)}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class _Target:
    shapes: dict[str, TableShape]
    table_sql: dict[str, str]  # table -> CREATE TABLE statement
    index_sql: dict[str, list[tuple[str, str]]]  # table -> [(index name, CREATE INDEX statement)]
    order: list[str]  # creation order (parents before children)


async def _target(script: str) -> _Target:
    conn = await SqliteConnection.open(":memory:")
    try:
        await conn.executescript(script)
        fetch = fetcher(conn)
        shapes = await snapshot(fetch)
        rows = await fetch(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid", ()
        )
    finally:
        await conn.close()
    table_sql: dict[str, str] = {}
    index_sql: dict[str, list[tuple[str, str]]] = {}
    order: list[str] = []
    for kind, name, table, sql in rows:
        if kind == "table" and not str(name).startswith("sqlite_"):
            table_sql[name] = sql
            order.append(name)
        elif kind == "index":
            index_sql.setdefault(table, []).append((name, sql))
    return _Target(shapes, table_sql, index_sql, order)


def _column_definition(table_sql: str, column: str) -> str | None:
    """The column's definition line in schema.sql style DDL (one column per line), CHECKs included."""
    m = re.search(rf"^\s*{re.escape(column)}\s+(?P<rest>[^\n]*?),?\s*$", table_sql, re.MULTILINE)
    return f"{quote_ident(column)} {m['rest']}" if m else None


def _addable(col: tuple[Any, ...]) -> bool:
    """ALTER TABLE ADD COLUMN can add it: not a key, constant default, NOT NULL only with a default."""
    _name, _type, notnull, default, pk, _hidden = col
    if pk:
        return False
    if default is not None and ("(" in str(default) or str(default).upper().startswith("CURRENT_")):
        return False
    return not (notnull and default is None)


def _same_column(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Same declared type, NOT NULL and key position (defaults may differ harmlessly)."""
    return (a[1], a[2], a[4]) == (b[1], b[2], b[4])


def _unique_keys(shape: TableShape) -> set[tuple[Any, ...]]:
    return {i[4] for i in shape.indexes if i[2] in ("u", "pk")}


def _rebuild_steps(table: str, target: _Target, have: TableShape) -> list[Step]:
    want = target.shapes[table]
    have_cols = {c[0] for c in have.columns}
    rules = _COPY_RULES.get(table, {})
    columns: list[str] = []
    exprs: list[str] = []
    for col in want.columns:
        name = col[0]
        if name in rules:
            expr = rules[name]
            for ref in set(re.findall(r"\{(\w+)\}", expr)):
                expr = expr.replace("{" + ref + "}", quote_ident(ref) if ref in have_cols else "NULL")
        elif name in have_cols:
            expr = quote_ident(name)
        else:
            continue  # the new column's default applies
        columns.append(quote_ident(name))
        exprs.append(expr)
    new = f"{table}__adopt"
    create = re.sub(
        rf'^CREATE TABLE\s+"?{re.escape(table)}"?', f"CREATE TABLE {quote_ident(new)}", target.table_sql[table]
    )
    steps = [
        Step(f"rebuild {table}: create the new shape", create),
        Step(
            f"rebuild {table}: copy the rows",
            f"INSERT INTO {quote_ident(new)} ({', '.join(columns)}) "
            f"SELECT {', '.join(exprs)} FROM {quote_ident(table)}",
        ),
        Step(f"rebuild {table}: drop the old table", f"DROP TABLE {quote_ident(table)}"),
        Step(f"rebuild {table}: rename", f"ALTER TABLE {quote_ident(new)} RENAME TO {quote_ident(table)}"),
    ]
    steps += [Step(f"create index {name}", sql) for name, sql in target.index_sql.get(table, [])]
    return steps


def plan(target: _Target, actual: dict[str, TableShape]) -> tuple[list[Step], list[str]]:
    """The statements that bring `actual` to the target schema, and the tables rebuilt."""
    steps: list[Step] = []
    rebuilt: list[str] = []
    for table in target.order:
        want = target.shapes[table]
        have = actual.get(table)
        if have is None:
            steps.append(Step(f"create table {table}", target.table_sql[table]))
            steps += [Step(f"create index {n}", sql) for n, sql in target.index_sql.get(table, [])]
            continue
        have_cols = {c[0]: c for c in have.columns}
        missing = [c for c in want.columns if c[0] not in have_cols]
        changed = [c[0] for c in want.columns if c[0] in have_cols and not _same_column(c, have_cols[c[0]])]
        keys_differ = _unique_keys(want) - _unique_keys(have) or want.foreign_keys != have.foreign_keys
        needs_rebuild = bool(changed or keys_differ or want.strict != have.strict or not all(map(_addable, missing)))
        if needs_rebuild:
            if table not in OWN_TABLES:
                if changed:
                    detail = "columns " + ", ".join(changed)
                elif keys_differ:
                    detail = "its keys"
                else:
                    detail = "a missing column that cannot be added"
                raise MigrationError(
                    f"table {table} is shared with other programs and has an unexpected shape ({detail}); "
                    "it was not changed. Compare it with schema.sql and fix it by hand."
                )
            steps += _rebuild_steps(table, target, have)
            rebuilt.append(table)
            continue
        for col in missing:
            definition = _column_definition(target.table_sql[table], col[0])
            if definition is None:  # pragma: no cover - schema.sql keeps one column per line
                raise MigrationError(f"cannot find the definition of {table}.{col[0]} in the schema")
            steps.append(
                Step(f"add column {table}.{col[0]}", f"ALTER TABLE {quote_ident(table)} ADD COLUMN {definition}")
            )
        have_index_names = {i[0] for i in have.indexes}
        for name, sql in target.index_sql.get(table, []):
            if name not in have_index_names:
                steps.append(Step(f"create index {name}", sql))
    if "tempvoice_lanes" in target.shapes:
        steps.append(Step("number legacy lanes from their 'Lane N' names", _NUMBER_LEGACY_LANES))
    return steps, rebuilt


async def _count(conn: WriteConn, table: str) -> int:
    async with conn.execute(f"SELECT COUNT(*) FROM {quote_ident(table)}") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def adopt(db: SqliteDatabase, target_script: str, version: int) -> AdoptionReport:
    """Bring an unversioned legacy database to `version` (the schema of `target_script`)."""
    target = await _target(target_script)
    actions: list[str] = []
    try:
        async with db.transaction() as conn:
            actual = await snapshot(fetcher(conn))
            steps, rebuilt = plan(target, actual)
            before = {t: await _count(conn, t) for t in rebuilt}
            for step in steps:
                try:
                    async with conn.execute(step.sql) as cur:
                        changed = cur.rowcount
                except sqlite3.Error as e:
                    raise MigrationError(f"adopting the old bot's database failed at '{step.what}': {e}") from e
                if step.what.startswith("number legacy lanes"):
                    if changed > 0:
                        actions.append(f"numbered {changed} legacy lane(s) from their names")
                elif not step.what.startswith("rebuild"):
                    actions.append(step.what)
            for table in rebuilt:
                after = await _count(conn, table)
                if after != before[table]:
                    raise MigrationError(f"rebuilding {table} would change its row count {before[table]} -> {after}")
                actions.append(f"rebuilt {table} in the current shape ({after} rows carried over)")
            violations = []
            for table in (t for t, shape in target.shapes.items() if shape.foreign_keys):
                # only our tables: another program's broken references are not ours to judge
                async with conn.execute(f"PRAGMA foreign_key_check({quote_ident(table)})") as cur:
                    violations += list(await cur.fetchall())
            if violations:
                raise MigrationError(f"the adopted data violates foreign keys: {[tuple(v) for v in violations[:5]]}")
            await conn.execute(f"PRAGMA user_version = {int(version)}")
    except sqlite3.OperationalError as e:
        raise MigrationError(f"{db.path}: {e} (is another program writing to it?); the file was not changed") from e
    untouched = sorted(set(actual) - set(target.shapes))
    log.info("adopted legacy database %s: %s", db.path, actions)
    return AdoptionReport(actions, untouched)

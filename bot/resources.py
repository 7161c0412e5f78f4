"""Where the files the bot reads at run time are: the named queries, the migrations, schema.sql.

They are edited at the top level of the repository (`sql/`, `schema.sql`). A wheel ships them
inside the package (`bot/sql/`, `bot/schema/schema.sql`, mapped in pyproject.toml) and they
are found through importlib.resources; a source checkout (also an editable install) reads
them where developers edit them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The repository root in a source checkout (developer tools write here; unused when installed).
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _locate(packaged: str, source: str) -> Path:
    inside = Path(str(resources.files("bot").joinpath(packaged)))
    return inside if inside.exists() else SOURCE_ROOT / source


SQL_DIR = _locate("sql", "sql")
MIGRATIONS_DIR = SQL_DIR / "migrations"
SCHEMA_PATH = _locate("schema/schema.sql", "schema.sql")

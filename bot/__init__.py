"""deadlock-bot: the Discord bot of a Deadlock community, built around one central data layer."""

from pathlib import Path

__version__ = "0.1.0"

#: The project root: where schema.sql and sql/ live (the package is installed editable).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
SCHEMA_PATH = PROJECT_ROOT / "schema.sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"

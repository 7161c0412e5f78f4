"""The PostgreSQL engine: the same Database API on a server shared by several bot processes."""

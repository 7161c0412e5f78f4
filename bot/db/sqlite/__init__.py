"""The SQLite engine: the central database on one file, its migrations and maintenance."""

"""SQLite with a queue for writers (see :mod:`machi.tenancy.sqlite3.base`)."""

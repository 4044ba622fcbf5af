"""Database settings built from URLs (used by settings.py and by tenant registration).

Pure configuration: no models are imported here, so settings.py can use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

SQLITE_INIT = (
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA busy_timeout=10000;"
    # A backstop only: connections checkpoint after leaving the writers' queue
    # (machi.tenancy.sqlite3), well before the WAL reaches this many pages.
    "PRAGMA wal_autocheckpoint=10000;"
)

SQLITE_ENGINE = "machi.tenancy.sqlite3"


def database_config(url: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Return a Django DATABASES entry for ``url`` (sqlite:/// or postgres://).

    A relative SQLite path (``sqlite:///tenants/x.sqlite3``) is taken from ``base_dir``
    (else from the working directory)."""
    config = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(config["NAME"])
        if not name.is_absolute() and base_dir is not None:
            config["NAME"] = str(base_dir / name)
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Writers queue for the write lock instead of polling it (machi.tenancy.sqlite3).
        config["ENGINE"] = SQLITE_ENGINE
        # Connections are kept between requests (opening one costs ~0.4 ms of CPU).
        config["CONN_MAX_AGE"] = 600
        # IMMEDIATE transactions take the write lock up front: two writers can never
        # deadlock on a read->write upgrade (the audit chain reads its head, then writes).
        config["OPTIONS"] = {
            "init_command": SQLITE_INIT,
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = 60
        config.setdefault("OPTIONS", {})
    return config


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def redact_url(url: str) -> str:
    """The URL without its password, safe to show on screens and in logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))

"""Where each municipality's database lives, and registering its connection."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from django.conf import settings
from django.db import connections

from machi.tenancy.context import tenant_alias
from machi.tenancy.dbconfig import database_config, sqlite_url

_lock = threading.Lock()


class UnknownTenantError(LookupError):
    pass


def default_database_url(lg_code: str) -> str:
    """The URL a new municipality's database gets: the template, else a SQLite file.

    A SQLite file inside ``MACHI_DATA_DIR`` is stored relative to it
    (``sqlite:///tenants/131016.sqlite3``), so a copied or restored data directory opens
    its own files, never the original's."""
    template = settings.TENANT_DATABASE_URL_TEMPLATE
    if template:
        return template.format(lg_code=lg_code)
    path = (settings.TENANT_DATA_DIR / f"{lg_code}.sqlite3").resolve()
    try:
        return f"sqlite:///{path.relative_to(Path(settings.DATA_DIR).resolve()).as_posix()}"
    except ValueError:
        return sqlite_url(path)


def tenant_database_config(database_url: str) -> dict:
    """The DATABASES entry of a municipality's stored URL, a relative SQLite path
    resolved against ``MACHI_DATA_DIR``."""
    return database_config(database_url, base_dir=Path(settings.DATA_DIR))


def register_tenant_connection(lg_code: str, database_url: str) -> str:
    """Make the alias ``tenant_<lg_code>`` point at ``database_url``; returns the alias."""
    alias = tenant_alias(lg_code)
    with _lock:
        existing = connections.settings.get(alias)
        config = tenant_database_config(database_url)
        if existing is not None and existing.get("NAME") == config["NAME"]:
            return alias
        if existing is not None:
            connections[alias].close()
        filled = connections.configure_settings(
            {"default": dict(connections.settings["default"]), alias: config}
        )[alias]
        if "TEST" in filled and existing is None:
            # A tenant database is created by machi itself, never by Django's test runner.
            filled["TEST"]["NAME"] = filled["NAME"]
        connections.settings[alias] = filled
        settings.DATABASES[alias] = filled
    return alias


def unregister_tenant_connection(lg_code: str) -> None:
    alias = tenant_alias(lg_code)
    with _lock:
        if alias in connections.settings:
            connections[alias].close()
            del connections.settings[alias]
            settings.DATABASES.pop(alias, None)
            with contextlib.suppress(AttributeError):
                delattr(connections._connections, alias)


def ensure_tenant_connection(lg_code: str) -> str:
    """Register the connection of an existing municipality (looked up in the control DB)."""
    alias = tenant_alias(lg_code)
    if alias in connections.settings:
        return alias
    from machi.tenancy.models import Municipality

    url = (
        Municipality.objects.using("default")
        .filter(lg_code=lg_code)
        .values_list("database_url", flat=True)
        .first()
    )
    if url is None:
        raise UnknownTenantError(f"自治体コード {lg_code} の自治体は登録されていません。")
    return register_tenant_connection(lg_code, url)

"""Writes on municipalities (tenants): creating one creates and migrates its database."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connections, transaction

from machi.tenancy.context import tenant_context
from machi.tenancy.databases import default_database_url, register_tenant_connection
from machi.tenancy.models import Municipality
from machi.tenancy.prefectures import prefecture_for
from machi.tenancy.validators import clean_lg_code


class TenantError(Exception):
    """A tenant operation was refused; the message says why."""


def _create_database(database_url: str) -> None:
    """Create an empty PostgreSQL database when it does not exist (SQLite creates itself)."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from psycopg import sql

    from machi.tenancy.dbconfig import database_config

    config = database_config(database_url)
    conninfo = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def municipality_create(
    *,
    lg_code: str,
    name: str,
    prefecture: str | None = None,
    database_url: str | None = None,
) -> Municipality:
    """Register a municipality, create its database and migrate it.

    The database is created and migrated before the control row is written, so a
    failure leaves no municipality pointing at a half-made database; running the
    command again reuses the database.
    """
    lg_code = clean_lg_code(lg_code)
    name = name.strip()
    if not name:
        raise ValidationError("名称を入力してください。")
    if Municipality.objects.filter(lg_code=lg_code).exists():
        raise TenantError(f"自治体コード {lg_code} の自治体は既に登録されています。")
    prefecture = prefecture or prefecture_for(lg_code)
    if not prefecture:
        raise ValidationError(f"自治体コード {lg_code} の都道府県が分かりません。")
    database_url = database_url or default_database_url(lg_code)

    _create_database(database_url)
    alias = register_tenant_connection(lg_code, database_url)
    municipality_migrate(lg_code=lg_code)
    with transaction.atomic(using="default"):
        municipality = Municipality.objects.create(
            lg_code=lg_code, name=name, prefecture=prefecture, database_url=database_url
        )
        from machi.accounts.services import departments_create_defaults

        departments_create_defaults(municipality=municipality)
    from machi.audit.services import audit_append, platform_audit_append

    with tenant_context(lg_code):
        audit_append(action="municipality.created", object_type="municipality", object_id=lg_code)
    platform_audit_append(
        action="municipality.created", object_type="municipality", object_id=lg_code
    )
    connections[alias].close()
    return municipality


def municipality_migrate(*, lg_code: str, verbosity: int = 0) -> None:
    """Apply every migration to one municipality's database."""
    from machi.tenancy.context import tenant_alias

    call_command(
        "migrate",
        database=tenant_alias(lg_code),
        interactive=False,
        verbosity=verbosity,
        skip_checks=True,
    )

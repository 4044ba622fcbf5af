"""Reads on municipalities."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from machi.tenancy.context import tenant_alias
from machi.tenancy.databases import ensure_tenant_connection
from machi.tenancy.models import Municipality


def municipality_list() -> QuerySet[Municipality]:
    return Municipality.objects.order_by("lg_code")


def municipality_get(*, lg_code: str) -> Municipality | None:
    return Municipality.objects.filter(lg_code=lg_code, is_active=True).first()


@dataclass(frozen=True)
class DatabaseHealth:
    name: str
    ok: bool
    error: str = ""


def _ping(alias: str) -> DatabaseHealth:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return DatabaseHealth(alias, False, type(error).__name__)
    return DatabaseHealth(alias, True)


def database_health() -> list[DatabaseHealth]:
    """Reachability of the control database and of every municipality's database."""
    results = [_ping("default")]
    if not results[0].ok:
        return results
    for lg_code in Municipality.objects.values_list("lg_code", flat=True):
        try:
            ensure_tenant_connection(lg_code)
        except Exception as error:
            results.append(DatabaseHealth(tenant_alias(lg_code), False, type(error).__name__))
            continue
        results.append(_ping(tenant_alias(lg_code)))
    return results

"""Reads: the municipality's catalogue versions and its effective catalogue."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet

from machi.procedures.engine import (
    Catalogue,
    build_catalogue,
    default_catalogue,
    default_document,
    load_document,
    navigate,
)
from machi.procedures.models import CatalogueVersion
from machi.tenancy.context import current_lg_code, current_lg_code_or_none

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, int, str], EffectiveCatalogue] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class EffectiveCatalogue:
    catalogue: Catalogue
    version: CatalogueVersion | None  # None: the default catalogue, no override


def catalogue_versions() -> QuerySet[CatalogueVersion]:
    """Every uploaded version of the municipality in force, newest first."""
    return CatalogueVersion.objects.order_by("-version")


def catalogue_active_version() -> CatalogueVersion | None:
    return CatalogueVersion.objects.filter(active=True).first()


def catalogue_build(text: str) -> Catalogue:
    """The default catalogue with ``text`` (an override file) applied; raises
    :class:`~machi.procedures.engine.CatalogueError`."""
    override = load_document(text, name="override")
    return build_catalogue(default_document(), override) if override else default_catalogue()


def _active_version_key() -> tuple[int, str] | None:
    """(version, sha256) of the active version, without its text: one plain statement,
    as every intake and navigator call asks for the catalogue in force."""
    connection = connections[router.db_for_read(CatalogueVersion)]
    table = connection.ops.quote_name(CatalogueVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version, sha256 FROM {table} WHERE active = %s", [True])  # noqa: S608 - model metadata
        return cursor.fetchone()


def catalogue_effective() -> EffectiveCatalogue:
    """The catalogue in force for the municipality in force: the default merged with its
    active override. Built once per (municipality, version) in each process."""
    active = _active_version_key()
    if active is None:
        return EffectiveCatalogue(default_catalogue(), None)
    key = (current_lg_code(), *active)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    version = CatalogueVersion.objects.get(version=active[0])  # versions are never deleted
    effective = EffectiveCatalogue(catalogue_build(version.text), version)  # validated on upload
    with _cache_lock:
        _cache[key] = effective
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return effective


def navigator_run(*, data: Any) -> dict[str, list[dict[str, Any]]]:
    """The navigator on ``data`` with the catalogue of the municipality in force (the
    default catalogue when none is in force). Raises ``NavigatorInputError``."""
    if current_lg_code_or_none() is None:
        return navigate(data, default_catalogue())
    return navigate(data, catalogue_effective().catalogue)

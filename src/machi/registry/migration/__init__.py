"""Legacy data migration: the import CSV (DOMAIN.md §5) in and out of the registry.

* :func:`registry_import` — validate a whole file, write it in one transaction;
* :func:`registry_export` — the same layout out (optionally degraded to JIS X 0208).
"""

from machi.registry.migration.export import ExportSummary, registry_export
from machi.registry.migration.importer import (
    EVENT_TYPE,
    ImportOptions,
    ImportRejected,
    ImportResult,
    RejectsWriter,
    registry_import,
)
from machi.registry.migration.layout import COLUMNS, HEADER, REJECT_COLUMN
from machi.registry.migration.validate import Problem

__all__ = [
    "COLUMNS",
    "EVENT_TYPE",
    "HEADER",
    "REJECT_COLUMN",
    "ExportSummary",
    "ImportOptions",
    "ImportRejected",
    "ImportResult",
    "Problem",
    "RejectsWriter",
    "registry_export",
    "registry_import",
]

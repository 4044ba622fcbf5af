"""`machi registry export`: the registry in the import layout (DOMAIN.md §5).

UTF-8 without a BOM, CRLF line ends (RFC 4180), the columns in the order of
``layout.COLUMNS``, dates as originally written (``JapaneseDate.text``), the My
Number in clear (the export is a privileged operation and is audited with
``my_number_shown``). With ``jis0208`` every text column is degraded for a partner
that only takes JIS X 0208 (縮退, 〓 for no equivalent) and every lossy character is
reported; the degraded text is never written back to the registry.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import connections

from machi.audit.services import Terminal, audit_append
from machi.japanese import export_jisx0208
from machi.registry.migration.layout import COLUMNS, HEADER
from machi.registry.mynumber import my_number_open
from machi.tenancy.context import current_tenant_alias

#: Columns never degraded (codes, numbers, dates: ASCII or JIS X 0208 already).
_CODE_KINDS = frozenset({"number", "code", "postal", "my_number", "date"})


@dataclass(frozen=True, slots=True)
class Lossy:
    line: int
    column: str
    original: str
    replacement: str

    def __str__(self) -> str:
        codes = " ".join(f"U+{ord(c):04X}" for c in self.original)
        where = f"line {self.line}, column {self.column}"
        return f"{where}: {self.original}（{codes}）→ {self.replacement}"


@dataclass
class ExportSummary:
    rows: int = 0
    my_numbers: int = 0
    lossy: list[Lossy] = field(default_factory=list)


def _select() -> str:
    columns = []
    for column in COLUMNS:
        if column.field == "household":
            columns.append('h."household_number"')
        else:
            columns.append(f'r."{column.field}"')
    return (
        f"SELECT {', '.join(columns)} FROM registry_resident r "  # noqa: S608
        "JOIN registry_household h ON h.id = r.household_id ORDER BY r.id"
    )


def registry_export(
    *,
    stream: TextIO,
    file_name: str,
    jis0208: bool = False,
    on_lossy: Callable[[Lossy], None] | None = None,
    actor: Any = None,
    terminal: Terminal | None = None,
    function: str = "machi registry export",
) -> ExportSummary:
    """Write every resident of the municipality in force to ``stream`` (audited)."""
    alias = current_tenant_alias()
    summary = ExportSummary()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADER)
    kinds = [c.kind for c in COLUMNS]
    dates: dict[str, str] = {}
    with connections[alias].cursor() as cursor:
        cursor.execute(_select())
        line = 1
        while chunk := cursor.fetchmany(5000):
            for db_row in chunk:
                line += 1
                out = []
                for column, kind, value in zip(COLUMNS, kinds, db_row, strict=True):
                    if value is None:
                        out.append("")
                        continue
                    if kind == "date":
                        if isinstance(value, str):
                            text = dates.get(value)
                            if text is None:
                                text = dates[value] = json.loads(value)["text"]
                            value = text
                        else:
                            value = value["text"]
                    elif kind == "my_number":
                        if value:
                            value = my_number_open(value)
                            summary.my_numbers += 1
                    elif jis0208 and kind not in _CODE_KINDS and value:
                        degraded = export_jisx0208(value)
                        if degraded.lossy:
                            for lossy in degraded.lossy:
                                item = Lossy(line, column.name, lossy.original, lossy.replacement)
                                summary.lossy.append(item)
                                if on_lossy is not None:
                                    on_lossy(item)
                            value = degraded.text
                    out.append(value)
                writer.writerow(out)
            summary.rows += len(chunk)
    audit_append(
        action="registry.exported",
        actor=actor,
        object_type="registry_export",
        function=function,
        terminal=terminal,
        my_number_shown=summary.my_numbers > 0,
        detail={
            "rows": summary.rows,
            "file": file_name,
            "jis0208": jis0208,
            "lossy": len(summary.lossy),
            "my_numbers": summary.my_numbers,
        },
    )
    return summary

"""The result of the automated accessibility test shown on ウェブアクセシビリティ方針.

``tests/browser/test_site.py`` runs axe-core on every public template in each
language; with ``MACHI_A11Y_REPORT=1`` it writes what it tested and found to
``data/accessibility.json``, which is committed with the templates it describes.
"""

from __future__ import annotations

import json
from pathlib import Path

REPORT = Path(__file__).parent / "data" / "accessibility.json"


def report_load() -> dict | None:
    try:
        return json.loads(REPORT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def report_write(report: dict) -> None:
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

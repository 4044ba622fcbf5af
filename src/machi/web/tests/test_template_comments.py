"""Django's `{# … #}` comment ends at the end of its line: one spread over lines is printed
into the page (in <head>, it pushed the page's meta and scripts into the body)."""

from __future__ import annotations

from pathlib import Path

import machi

SOURCE = Path(machi.__file__).parent


def test_no_single_line_comment_spans_lines():
    unclosed = []
    for template in sorted(SOURCE.rglob("templates/**/*")):
        if not template.is_file():
            continue
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if line.rfind("{#") > line.rfind("#}"):
                unclosed.append(f"{template.relative_to(SOURCE)}:{number}")
    assert not unclosed, "use {% comment %} for comments over several lines: " + ", ".join(unclosed)

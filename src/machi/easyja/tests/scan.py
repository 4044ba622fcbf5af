"""Japanese text a page shows outside the parts marked ``lang="ja"``: what an English
screen still leaves untranslated (residents' names and addresses are Japanese data and
are marked ``lang="ja"`` by the templates)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

JAPANESE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff々]")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                   "meta", "source", "track", "wbr"})  # fmt: skip


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _japanese_allowed(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        lang = values.get("lang")
        allowed = self._japanese_allowed() or tag in ("script", "style", "template")
        if lang is not None:
            allowed = lang.lower().startswith("ja") or tag in ("script", "style")
        for name in ("aria-label", "title", "alt", "placeholder"):
            if values.get(name) and JAPANESE.search(values[name]) and not allowed:
                self.found.append(f"{tag}[{name}]={values[name]}")
        if tag not in _VOID:
            self.stack.append((tag, allowed))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):
        if JAPANESE.search(data) and not self._japanese_allowed():
            self.found.append(data.strip())


def japanese_outside_lang_ja(html: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found

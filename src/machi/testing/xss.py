"""Cases from the OWASP XSS Filter Evasion Cheat Sheet, for the tests of every page that
shows text a resident or a staff member typed (site pages, board posts, announcements).

Each case, if it ran, would call ``window.__xss(n)``; a browser test stores the case in
the field, opens the page that shows it in Chromium and asserts the hook was never
called (``XSS_HOOK`` installs it before any script of the page runs). The server-side
tests assert the sanitiser leaves no ``<script``, ``on…=`` attribute or ``javascript:``
URL in the output (``assert_inert``).
"""

from __future__ import annotations

import re

XSS_HOOK = "window.__xssHits = []; window.__xss = (n) => window.__xssHits.push(n);"

_CASES = [
    "<script>window.__xss({n})</script>",
    "<SCRIPT SRC=data:text/javascript,window.__xss({n})></SCRIPT>",
    '<IMG SRC="javascript:window.__xss({n});">',
    "<IMG SRC=javascript:window.__xss({n})>",
    "<IMG SRC=JaVaScRiPt:window.__xss({n})>",
    "<IMG SRC=`javascript:window.__xss({n})`>",
    '<IMG """><SCRIPT>window.__xss({n})</SCRIPT>">',
    '<IMG SRC=# onmouseover="window.__xss({n})">',
    '<IMG SRC=/ onerror="window.__xss({n})"></img>',
    "<img src=x onerror=window.__xss({n})>",
    '<IMG SRC="jav&#x09;ascript:window.__xss({n});">',
    '<IMG SRC="jav&#x0A;ascript:window.__xss({n});">',
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__xss({n})>",
    "<svg/onload=window.__xss({n})>",
    "<svg><script>window.__xss({n})</script></svg>",
    "<BODY ONLOAD=window.__xss({n})>",
    '<iframe src="javascript:window.parent.__xss({n})"></iframe>',
    '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>',
    '<a href="javascript:window.__xss({n})">link</a>',
    '<a href="  JaVaScRiPt:window.__xss({n})">link</a>',
    "<details open ontoggle=window.__xss({n})>",
    "<input autofocus onfocus=window.__xss({n})>",
    '<object data="javascript:window.__xss({n})"></object>',
    '<embed src="data:text/html,<script>parent.__xss({n})</script>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss({n})>",
    '<div style="background-image: url(javascript:window.__xss({n}))">',
    "<style>@import 'javascript:window.__xss({n})';</style>",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:window.__xss({n});">',
    '"><script>window.__xss({n})</script>',
    "'><img src=x onerror=window.__xss({n})>",
    "</textarea><script>window.__xss({n})</script>",
    "[click](javascript:window.__xss({n}))",
    "![x](javascript:window.__xss({n}))",
    "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3MoMSk8L3NjcmlwdD4=)",
    "<<SCRIPT>window.__xss({n});//<</SCRIPT>",
    "<scr<script>ipt>window.__xss({n})</scr</script>ipt>",
]

XSS_CASES: list[str] = [case.format(n=n) for n, case in enumerate(_CASES)]

_DANGEROUS = re.compile(
    r"<\s*(script|iframe|object|embed|meta|style|base|form)\b"
    r"|\son[a-z]+\s*="
    r"|(href|src|action|formaction|data)\s*=\s*[\"'`]?\s*(javascript|vbscript|data):",
    re.IGNORECASE,
)


def assert_inert(html: str) -> None:
    """Fail if sanitised HTML still carries a tag, attribute or URL that can run script."""
    match = _DANGEROUS.search(html)
    assert match is None, f"active content left in the output: {match.group(0)!r} in {html!r}"

"""Posts as HTML: stored as plain text or Markdown (never HTML), rendered through
markdown-it-py without raw HTML and then nh3, so whatever a resident types is shown as
text or as the few safe tags below. Links carry ``rel="nofollow ugc"`` (user content:
search engines must not count them as the municipality's endorsement)."""

from __future__ import annotations

import re

import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3",
    "h4", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
_TAG = re.compile(r"(<[^>]*>)")


def _text_equals(html: str) -> str:
    """``=`` in text (never in the tags nh3 has just written) as a character reference:
    the same text on screen, and typed markup such as ``onerror=`` or ``href="javascript:``
    cannot look like an attribute to any later filter or scanner of the page."""
    return "".join(
        part if part.startswith("<") else part.replace("=", "&#61;") for part in _TAG.split(html)
    )


def post_html(body: str, body_format: str = "plain") -> SafeString:
    if body_format == "markdown":
        html = _markdown.render(body or "")
        for level in (2, 1):  # the page has its own h1 and h2
            html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    else:
        html = linebreaks(escape(body or ""))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
    )
    return mark_safe(_text_equals(cleaned))  # noqa: S308 - sanitised by nh3 just above

"""Bodies of ticket articles and FAQ answers as HTML: they are stored as plain text or
Markdown, never HTML, and every rendering goes through the sanitiser (nh3), so a
``<script>`` typed into a body is shown as text, not run."""

from __future__ import annotations

import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# CommonMark without raw HTML: a tag in the text stays text.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _clean(html: str) -> SafeString:
    return mark_safe(  # noqa: S308 - nh3 has just removed every tag and attribute not allowed
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )


def body_html(body: str, body_format: str = "plain") -> SafeString:
    """Plain text keeps its line breaks; Markdown becomes HTML (headings start at h3:
    the page has its own h1 and h2). Both come out sanitised."""
    if body_format == "markdown":
        html = _markdown.render(body or "")
        for level in (2, 1):  # shift # and ## below the page's own headings
            html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
        return _clean(html)
    return _clean(linebreaks(escape(body or "")))

"""Page and news bodies: Markdown (markdown-it-py, raw HTML off) rendered to HTML and
sanitised with nh3, like the FAQ's answers (:mod:`machi.contact.markup`).

Staff place the municipality's own images and PDFs with ``![説明](image:12)`` and
``[資料名](file:5)``; those references become the image's URL with its stored
alternative text (the typed one when given) and the file's URL with its size. Any
other image source is dropped: a page never loads an image from elsewhere.
"""

from __future__ import annotations

import re

import nh3
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"scope"},
    "img": {"src", "alt", "width", "height"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
IMAGE_REF = re.compile(r"!\[([^\]\n]*)\]\(image:(\d+)\)")
FILE_REF = re.compile(r"(?<!!)\[([^\]\n]*)\]\(file:(\d+)\)")
_MD_ESCAPE = re.compile(r"([\\\[\]()*_`<>!#|~])")


def _escape_md(text: str) -> str:
    return _MD_ESCAPE.sub(r"\\\1", " ".join(text.split()))


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def image_ids(body: str) -> set[int]:
    return {int(m[2]) for m in IMAGE_REF.finditer(body or "")}


def file_ids(body: str) -> set[int]:
    return {int(m[2]) for m in FILE_REF.finditer(body or "")}


def render(
    body: str, *, lg_code: str, language: str = "ja", assets: dict | None = None
) -> SafeString:
    """*assets* is ``{"images": {id: Image}, "files": {id: Attachment}}`` (the caller
    loads them in one query each); a reference to one that does not exist is dropped."""
    assets = assets or {}
    images, files = assets.get("images", {}), assets.get("files", {})
    image_prefix = reverse("site:image", args=[lg_code, 0]).rsplit("0/", 1)[0]

    def image(match: re.Match) -> str:
        found = images.get(int(match[2]))
        if found is None:
            return ""
        alt = match[1].strip() or found.alt.get(language) or found.alt.get("ja", "")
        url = reverse("site:image", args=[lg_code, found.pk])
        return f"![{_escape_md(alt)}]({url})"

    def attachment(match: re.Match) -> str:
        found = files.get(int(match[2]))
        if found is None:
            return _escape_md(match[1])
        label = match[1].strip() or found.title
        url = reverse("site:file", args=[lg_code, found.pk])
        return f"[{_escape_md(label)}（PDF {human_size(found.size)}）]({url})"

    text = FILE_REF.sub(attachment, IMAGE_REF.sub(image, body or ""))
    html = _markdown.render(text)
    # The page's own h1 is the title: a body's "#" becomes h2.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")

    def only_own_images(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not value.startswith(image_prefix):
            return None
        return value

    return mark_safe(  # noqa: S308 - nh3 has just removed every tag and attribute not allowed
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            attribute_filter=only_own_images,
        )
    )


def plain(body: str) -> str:
    """The text of a body without Markdown marks (for the search index and snippets)."""
    import html as html_lib

    text = re.sub(r"<[^>]+>", " ", _markdown.render(IMAGE_REF.sub(" ", body or "")))
    return " ".join(html_lib.unescape(text).split())

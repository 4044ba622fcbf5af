"""HTML → PDF with WeasyPrint, offline: the fonts are the system's Noto CJK (CSS
``font-family: "Noto Sans CJK JP"``, found by fontconfig), the styles are
``forms.css`` (with ``ua.css`` in place of WeasyPrint's user-agent stylesheet), parsed
once per thread, and the QR code is inline SVG.

Nothing is fetched from the network: :class:`LocalOnlyURLFetcher` refuses every URL
that is not a ``data:`` URL or a file inside this package (WeasyPrint then leaves the
resource out and logs a warning). Rendering a document reads residents' data and is
audited (``document.printed``: the document and the atena numbers printed, no names).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import segno
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from machi.audit.services import Terminal, audit_append
from machi.counter.documents.forms import VISIT_SUMMARY, document_data
from machi.counter.models import Visit

logger = logging.getLogger(__name__)
# WeasyPrint logs every rendering step at INFO: keep its warnings (refused URLs, fonts).
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

PACKAGE_DIR = Path(__file__).resolve().parent
LOCAL_SCHEMES = frozenset({"data", "file"})


class RefusedURL(ValueError):
    """A document tried to load something from outside the package."""


class LocalOnlyURLFetcher(URLFetcher):
    """Fetches ``data:`` URLs and files under ``root``; refuses everything else."""

    def __init__(self, root: Path = PACKAGE_DIR, **kwargs: Any) -> None:
        kwargs.setdefault("allowed_protocols", LOCAL_SCHEMES)
        kwargs.setdefault("timeout", 1)
        super().__init__(**kwargs)
        self.root = root.resolve()

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parts.path)).resolve()
        return path.is_relative_to(self.root) and path.is_file()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not self.allows(url):
            logger.warning("PDF rendering refused a non-local URL: %.200s", url)
            raise RefusedURL(f"refused (not local): {url[:200]}")
        return super().fetch(url, headers)


# One set per thread (Pango's font map is not thread-safe; runserver serves in threads):
# building a FontConfiguration took a third of a form's render time, parsing the
# stylesheet another 10 ms. The documents declare no @font-face, so what the font
# configuration caches is the system's fonts, the same for every municipality.
_local = threading.local()


class _Styles:
    def __init__(self) -> None:
        self.fonts = FontConfiguration()
        self.ua = CSS(filename=str(PACKAGE_DIR / "ua.css"), font_config=self.fonts)
        self.forms = CSS(filename=str(PACKAGE_DIR / "forms.css"), font_config=self.fonts)


def _styles() -> _Styles:
    styles = getattr(_local, "styles", None)
    if styles is None:
        styles = _local.styles = _Styles()
    return styles


class _FormHTML(HTML):
    """A document styled by ``ua.css`` instead of WeasyPrint's full user-agent sheet."""

    def __init__(self, *, ua: CSS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ua = ua

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [self._ua]


def _layout(html: str) -> Any:
    """``html`` laid out in pages (a WeasyPrint ``Document``), offline, with the
    documents' stylesheet (styles inside ``html`` apply after it)."""
    styles = _styles()
    document = _FormHTML(
        string=html,
        base_url=PACKAGE_DIR.as_uri() + "/",
        url_fetcher=LocalOnlyURLFetcher(),
        ua=styles.ua,
    )
    return document.render(stylesheets=[styles.forms], font_config=styles.fonts)


def html_to_pdf(html: str) -> bytes:
    """Render ``html`` (a document template's output) to PDF bytes."""
    return _layout(html).write_pdf()


def qr_svg(url: str, *, title: str) -> str:
    """An inline SVG QR code for ``url`` (sized by the stylesheet)."""
    return segno.make(url, error="m").svg_inline(omitsize=True, border=2, title=title)


def document_html(
    *, visit: Visit, name: str, status_url: str = "", municipality: Any = None
) -> tuple[str, list[str]]:
    """The HTML of document ``name`` and the atena numbers it prints (not audited: use
    :func:`document_render`)."""
    from machi.tenancy.context import current_lg_code
    from machi.tenancy.selectors import municipality_get

    if municipality is None:
        municipality = municipality_get(lg_code=current_lg_code())
    code_svg = ""
    if name == VISIT_SUMMARY and status_url:
        code_svg = qr_svg(status_url, title=f"受付番号 {visit.public_code} の手続き状況のページ")
    data = document_data(
        visit=visit, name=name, municipality=municipality, status_url=status_url, qr_svg=code_svg
    )
    with translation.override("ja"):
        html = render_to_string(data.template, data.context)
    return html, data.atena_numbers


def _audited_html(
    *,
    visit: Visit,
    name: str,
    actor: Any,
    terminal: Terminal | None,
    status_url: str,
    municipality: Any,
    combined: bool = False,
) -> str:
    html, atena_numbers = document_html(
        visit=visit, name=name, status_url=status_url, municipality=municipality
    )
    detail: dict[str, Any] = {"document": name, "atena_numbers": sorted(set(atena_numbers))}
    if combined:
        detail["combined"] = True
    audit_append(
        action="document.printed",
        actor=actor,
        object_type="visit",
        object_id=visit.public_code,
        function="counter:documents",
        terminal=terminal,
        detail=detail,
    )
    return html


def document_render(
    *,
    visit: Visit,
    name: str,
    actor: Any,
    terminal: Terminal | None = None,
    status_url: str = "",
    municipality: Any = None,
) -> bytes:
    """The PDF of document ``name`` for ``visit`` (``DocumentNotFound`` when the visit does
    not get it). ``status_url`` is the absolute URL of the public status page (the visit
    summary prints it and its QR code). Audited as ``document.printed``."""
    html = _audited_html(
        visit=visit, name=name, actor=actor, terminal=terminal, status_url=status_url,
        municipality=municipality,
    )  # fmt: skip
    return html_to_pdf(html)


def documents_render_all(
    *,
    visit: Visit,
    actor: Any,
    terminal: Terminal | None = None,
    status_url: str = "",
    municipality: Any = None,
) -> bytes:
    """Every document of ``visit`` in print order as one PDF (「まとめて印刷」): one font
    subset and one compression pass for the set instead of one per document, which is
    most of what a set costs beyond the layouts. Each document is audited as
    ``document.printed`` (``combined``), as if printed alone."""
    from machi.counter.documents.forms import visit_documents

    laid_out = [
        _layout(
            _audited_html(
                visit=visit, name=document.name, actor=actor, terminal=terminal,
                status_url=status_url, municipality=municipality, combined=True,
            )
        )
        for document in visit_documents(visit=visit)
    ]  # fmt: skip
    pages = [page for document in laid_out for page in document.pages]
    return laid_out[0].copy(pages).write_pdf()

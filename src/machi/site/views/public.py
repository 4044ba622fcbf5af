"""The public website: top page, pages, news, search, sitemap, accessibility policy,
images and files. No login; cacheable (machi.site.caching) except the search."""

from __future__ import annotations

import datetime
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from machi.site import accessibility as a11y
from machi.site import markup, selectors
from machi.site.caching import cached_public, is_anonymous
from machi.site.models import Attachment, Image, NewsCategory
from machi.web.decorators import public_view
from machi.web.language import html_lang, language_switch

# Said in the visitor's language when the page has no text in it (ISSUE 14 interfaces).
FALLBACK_NOTICE = {
    "en": "This page is not available in English yet; it is shown in Japanese.",
    "ja-easy": "この ページは まだ やさしい にほんごに なって いません。にほんごで みせます。",
}


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _staff_home(request: HttpRequest) -> str | None:
    """The signed-in staff member's own home (never looked up for anonymous visitors:
    that would read the session)."""
    if is_anonymous(request) or not request.user.is_authenticated:
        return None
    municipality = getattr(request.user, "municipality", None)
    if municipality is None:
        return reverse("web:platform")
    return reverse("web:home", args=[municipality.lg_code])


def _context(request: HttpRequest, **extra) -> dict:
    language = _language()
    return {
        "language": language,
        "html_lang": html_lang(language),
        "staff_home": _staff_home(request),
        "sections": selectors.sections(),
        "fallback_notice": FALLBACK_NOTICE.get(language, ""),
        **extra,
    }


def _localised(item, language: str, lg_code: str) -> dict:
    """Title and body in the visitor's language, or the Japanese with a notice."""
    title, title_lang = item.text("title", language)
    body, body_lang = item.text("body", language)
    bodies = [body]
    assets = selectors.assets_for(bodies)
    return {
        "title": title,
        "title_lang": html_lang(title_lang),
        "body_html": markup.render(body, lg_code=lg_code, language=body_lang, assets=assets),
        "body_lang": html_lang(body_lang),
        "fallback": body_lang != language,
        "title_fallback": title_lang != language,
    }


def _row(item, language: str) -> dict:
    title, found = item.text("title", language)
    return {"item": item, "title": title, "fallback": found != language and language != "ja"}


@cached_public
def top(request: HttpRequest, lg_code: str) -> HttpResponse:
    language = _language()
    news = [
        {
            "item": n,
            "title": n.text("title", language)[0],
            "lang": html_lang(n.text("title", language)[1]),
        }
        for n in selectors.news_latest(limit=5)
    ]
    return render(request, "site/top.html", _context(request, news=news))


@cached_public
def page(request: HttpRequest, lg_code: str, path: str) -> HttpResponse:
    found = selectors.page_public(path=path)
    if found is None:
        raise Http404("no such page")
    language = _language()
    crumbs = [
        {"page": p, "title": p.text("title", language)[0]}
        for p in selectors.breadcrumbs(page=found)
    ]
    children = [
        {"page": c, "title": c.text("title", language)[0]}
        for c in selectors.page_children(page=found)
    ]
    return render(
        request,
        "site/page.html",
        _context(request, page=found, text=_localised(found, language, lg_code), crumbs=crumbs,
                 children=children),
    )  # fmt: skip


@cached_public
def news_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    language = _language()
    category = request.GET.get("category") or None
    if category not in NewsCategory.values:
        category = None
    page_obj = selectors.news_page(number=request.GET.get("page"), category=category)
    rows = [_row(n, language) for n in page_obj.object_list]
    return render(
        request, "site/news_list.html",
        _context(request, page_obj=page_obj, rows=rows, category=category,
                 categories=NewsCategory.choices),
    )  # fmt: skip


@cached_public
def news_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    item = selectors.news_public(pk=pk)
    if item is None:
        raise Http404("no such news item")
    return render(
        request, "site/news_detail.html",
        _context(request, item=item, text=_localised(item, _language(), lg_code)),
    )  # fmt: skip


@public_view
@require_GET
def site_search(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Not cached: the FAQ answers it also searches change apart from the site."""
    switched = language_switch(request)
    if switched is not None:
        return switched
    query = (request.GET.get("q") or "").strip()[: selectors.QUERY_MAX]
    hits = selectors.site_search(query=query, language=_language()) if query else []
    response = render(request, "site/search.html", _context(request, query=query, hits=hits))
    response["Cache-Control"] = "no-cache"
    return response


@cached_public
def sitemap(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The public pages and news (sitemaps.org 0.9) with absolute URLs."""
    base = request.build_absolute_uri("/")[:-1]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    fixed = [reverse("site:top", args=[lg_code]), reverse("site:news_list", args=[lg_code]),
             reverse("site:accessibility", args=[lg_code])]  # fmt: skip
    for url in fixed:
        lines.append(f"<url><loc>{xml_escape(base + url)}</loc></url>")
    for kind, key, changed in selectors.sitemap_entries():
        url = (
            reverse("site:page", args=[lg_code, key])
            if kind == "page"
            else reverse("site:news_detail", args=[lg_code, int(key)])
        )
        lastmod = changed.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"<url><loc>{xml_escape(base + url)}</loc><lastmod>{lastmod}</lastmod></url>")
    lines.append("</urlset>")
    return HttpResponse("\n".join(lines) + "\n", content_type="application/xml; charset=utf-8")


@cached_public
def accessibility(request: HttpRequest, lg_code: str) -> HttpResponse:
    return render(request, "site/accessibility.html", _context(request, report=a11y.report_load()))


def _binary(content: bytes, kind: str, *, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"  # an id's bytes never change
    if filename:
        from urllib.parse import quote

        response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename, safe='')}"
    return response


@public_view
@require_GET
def image(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    found = Image.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("no such image")
    response = _binary(found.content, found.content_type)
    request.session.accessed = False if is_anonymous(request) else request.session.accessed
    return response


@public_view
@require_GET
def attachment(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    found = Attachment.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("no such file")
    response = _binary(found.content, "application/pdf", filename=found.filename)
    request.session.accessed = False if is_anonymous(request) else request.session.accessed
    return response

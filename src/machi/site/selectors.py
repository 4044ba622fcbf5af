"""Reads of the website: the public tree and news, the cache validator, the search."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Case, Q, Value, When

from machi.contact import search
from machi.contact.selectors import faq_search
from machi.site import markup
from machi.site.models import Attachment, Image, NewsItem, Page, SiteState, Status, Version
from machi.tenancy.context import current_tenant_alias

NEWS_PER_PAGE = 20
QUERY_MAX = 200
CANDIDATES = 300
TITLE, BODY = 3.0, 1.0
LIST_FIELDS = ("id", "title", "category", "published_at", "status")


def site_state() -> tuple[int, datetime.datetime | None]:
    """(revision, changed_at) of the public site: one indexed read."""
    row = SiteState.objects.filter(pk=1).values_list("revision", "changed_at").first()
    return row if row else (0, None)


def public_pages():
    return Page.objects.filter(status=Status.PUBLISHED)


def public_news():
    return NewsItem.objects.filter(status=Status.PUBLISHED)


def sections() -> list[Page]:
    return list(
        public_pages().filter(parent__isnull=True).only("id", "title", "path", "position", "slug")
    )


def page_public(*, path: str) -> Page | None:
    return public_pages().filter(path=path.strip("/")).first()


def page_children(*, page: Page) -> list[Page]:
    return list(public_pages().filter(parent=page).only("id", "title", "path", "position", "slug"))


def breadcrumbs(*, page: Page) -> list[Page]:
    """The page's ancestors, top first (one query: the paths are prefixes)."""
    parts = page.path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    if not prefixes:
        return []
    found = {
        p.path: p for p in public_pages().filter(path__in=prefixes).only("id", "title", "path")
    }
    return [found[p] for p in prefixes if p in found]


def news_latest(*, limit: int = 5) -> list[NewsItem]:
    return list(public_news().only(*LIST_FIELDS).order_by("-published_at", "-id")[:limit])


def news_page(*, number: int | str | None, category: str | None = None):
    items = public_news().only(*LIST_FIELDS).order_by("-published_at", "-id")
    if category:
        items = items.filter(category=category)
    return Paginator(items, NEWS_PER_PAGE).get_page(number)


def news_public(*, pk: int) -> NewsItem | None:
    return public_news().filter(pk=pk).first()


def assets_for(bodies: list[str]) -> dict:
    """The images and files the bodies refer to, one query each."""
    image_ids: set[int] = set()
    file_ids: set[int] = set()
    for body in bodies:
        image_ids |= markup.image_ids(body)
        file_ids |= markup.file_ids(body)
    return {
        "images": Image.objects.defer("content").in_bulk(image_ids) if image_ids else {},
        "files": Attachment.objects.defer("content").in_bulk(file_ids) if file_ids else {},
    }


def sitemap_entries() -> list[tuple[str, str, datetime.datetime]]:
    """(kind, key, last change) of every public page and news item."""
    pages = [("page", p, u) for p, u in public_pages().values_list("path", "updated_at")]
    news = [("news", str(pk), u) for pk, u in public_news().values_list("id", "updated_at")]
    return pages + news


# --- staff -------------------------------------------------------------------------------


def page_tree() -> list[tuple[Page, int]]:
    """Every page (any state) in tree order with its depth."""
    pages = list(
        Page.objects.only("id", "title", "path", "parent_id", "position", "status", "slug")
    )
    children: dict[int | None, list[Page]] = {}
    for page in pages:
        children.setdefault(page.parent_id, []).append(page)
    ordered: list[tuple[Page, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for page in sorted(children.get(parent, []), key=lambda p: (p.position, p.pk)):
            ordered.append((page, depth))
            walk(page.pk, depth + 1)

    walk(None, 0)
    return ordered


def versions_of(owner: Page | NewsItem) -> list[Version]:
    field = "page" if isinstance(owner, Page) else "news"
    return list(Version.objects.filter(**{field: owner}).order_by("-number"))


def pending_versions() -> list[Version]:
    return list(
        Version.objects.filter(state="pending")
        .select_related("page", "news")
        .order_by("created_at")
    )


# --- search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteHit:
    kind: str  # "page", "news", "faq"
    title: str
    url_key: str  # page path, news id or FAQ answer id
    snippet: str
    score: float


def _vocabulary() -> tuple[search.Synonyms, dict[str, str], int]:
    from machi.contact.faq_index import term_index

    faq = term_index()  # the FAQ's synonyms and the readings of its published answers
    readings = dict(faq.readings)
    for model in (Page, NewsItem):
        for text in model.objects.filter(status=Status.PUBLISHED).values_list(
            "search_readings", flat=True
        ):
            for pair in text.split():
                reading, _sep, term = pair.partition("=")
                readings.setdefault(reading, term)
    return faq.synonyms, readings, max((len(r) for r in readings), default=0)


def _candidates(terms: list[str]) -> list[tuple[str, int, str, str]]:
    """(kind, id, title terms, body terms) of public pages and news sharing a term."""
    connection = connections[current_tenant_alias()]
    rows: list[tuple[str, int, str, str]] = []
    if connection.vendor == "sqlite":
        expression = " OR ".join('"' + f" {t} ".replace('"', '""') + '"' for t in terms)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM site_search_fts WHERE site_search_fts MATCH %s "
                "ORDER BY bm25(site_search_fts, 3.0, 1.0) LIMIT %s",
                [expression, CANDIDATES],
            )
            rowids = [r[0] for r in cursor.fetchall()]
        page_ids = [r // 2 for r in rowids if r % 2 == 0]
        news_ids = [r // 2 for r in rowids if r % 2 == 1]
        for kind, model, ids in (("page", Page, page_ids), ("news", NewsItem, news_ids)):
            if ids:
                rows += [
                    (kind, *row)
                    for row in model.objects.filter(
                        pk__in=ids, status=Status.PUBLISHED
                    ).values_list("id", "search_title", "search_body")
                ]
        return rows
    for kind, model in (("page", Page), ("news", NewsItem)):
        title_q, body_q = Q(), Q()
        for t in terms:
            title_q |= Q(search_title__contains=f" {t} ")
            body_q |= Q(search_body__contains=f" {t} ")
        place = Case(When(title_q, then=Value(TITLE)), default=Value(BODY))
        rows += [
            (kind, *row)
            for row in model.objects.filter(title_q | body_q, status=Status.PUBLISHED)
            .annotate(place=place)
            .order_by("-place", "id")
            .values_list("id", "search_title", "search_body")[:CANDIDATES]
        ]
    return rows


def site_search(*, query: str, language: str = "ja", limit: int = 20) -> list[SiteHit]:
    """Public pages, news and FAQ answers for a query, best first. Pages and news are
    scored as the FAQ scores its answers (machi.contact.selectors.faq_search): each
    query word by where it appears (title 3, body 1) times its rarity."""
    query = (query or "").strip()[:QUERY_MAX]
    if not query:
        return []
    synonyms, readings, longest = _vocabulary()
    analysed = search.analyse_query(query, synonyms=synonyms, readings=readings, longest=longest)
    hits: list[SiteHit] = []
    if analysed.groups:
        rows = _candidates(sorted(analysed.terms))
        patterns = [tuple(f" {t} " for t in group) for group in analysed.groups]
        seen = [0] * len(patterns)
        matrix = []
        for kind, pk, title, body in rows:
            places = []
            for i, group in enumerate(patterns):
                best = TITLE if any(p in title for p in group) else (
                    BODY if any(p in body for p in group) else 0.0)  # fmt: skip
                places.append(best)
                seen[i] += best > 0
            matrix.append((kind, pk, places))
        weights = [1.0 + math.log(len(rows) / n) if n else 0.0 for n in seen]
        scored = []
        for kind, pk, places in matrix:
            score = sum(p * w for p, w in zip(places, weights, strict=True))
            if score:
                scored.append((round(score, 6), kind, pk))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        top = scored[:limit]
        pages = Page.objects.only("id", "title", "body", "path").in_bulk(
            [pk for _s, k, pk in top if k == "page"]
        )
        news = NewsItem.objects.only("id", "title", "body").in_bulk(
            [pk for _s, k, pk in top if k == "news"]
        )
        for score, kind, pk in top:
            item = (pages if kind == "page" else news).get(pk)
            if item is None:
                continue
            title, _lang = item.text("title", language)
            body_ja = markup.plain((item.body or {}).get("ja", ""))
            hits.append(SiteHit(kind, title, item.path if kind == "page" else str(pk),
                                search.snippet(body_ja, analysed), score))  # fmt: skip
    for hit in faq_search(query=query, limit=5):
        hits.append(SiteHit("faq", hit.answer.question, str(hit.answer.pk), hit.snippet, hit.score))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]

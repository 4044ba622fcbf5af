"""The public side of the catalogue: the list with search, each dataset's page (with
schema.org ``Dataset`` JSON-LD for dataset search engines), the resource files (the
stable URL answers with the latest version; each version keeps its own URL) and the
DCAT-AP catalogue. No login. The pages use the website's cache headers and language
switch (machi.site.caching); files are validated by their SHA-256.
"""

from __future__ import annotations

import datetime
import json
import mimetypes
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.safestring import mark_safe
from django.utils.timezone import make_aware
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from machi.opendata import dcat, selectors
from machi.opendata.models import LICENCE_URLS, Frequency, Licence
from machi.opendata.views.ckan import origin
from machi.site import selectors as site_selectors
from machi.site.caching import cached_public, is_anonymous
from machi.web.decorators import public_view
from machi.web.language import html_lang

PER_PAGE = 20
EXTENSIONS = {"CSV": "csv", "JSON": "json", "GeoJSON": "geojson", "XLSX": "xlsx"}


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _context(request: HttpRequest, **extra) -> dict:
    language = _language()
    staff_home = None
    if not is_anonymous(request) and request.user.is_authenticated:
        municipality = getattr(request.user, "municipality", None)
        staff_home = reverse("web:home", args=[municipality.lg_code]) if municipality else None
    return {
        "language": language,
        "html_lang": html_lang(language),
        "staff_home": staff_home,
        "sections": site_selectors.sections(),
        **extra,
    }


@cached_public
def catalogue(request: HttpRequest, lg_code: str) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    tag = request.GET.get("tag", "").strip()[:100]
    datasets = selectors.published_datasets()
    if query:
        for word in query.split():
            datasets = datasets.filter(Q(title__icontains=word) | Q(notes__icontains=word))
    if tag:
        datasets = datasets.filter(tags__name=tag)
    paginator = Paginator(
        selectors.with_related(datasets.distinct().order_by("-modified_at", "name")), PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    context = _context(
        request,
        page=page,
        query=query,
        tag=tag,
        tags=selectors.tag_names(),
        api_url=reverse("opendata:ckan_action", args=[lg_code, "package_list"]),
        dcat_jsonld=reverse("opendata:dcat_jsonld", args=[lg_code]),
        dcat_ttl=reverse("opendata:dcat_ttl", args=[lg_code]),
    )
    return render(request, "opendata/catalogue.html", context)


def _json_ld(value: dict) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1)
    # Inside <script>: nothing may close the element or open a comment.
    escaped = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(escaped)  # noqa: S308 - JSON with every markup character escaped


def schema_org(dataset, *, here: str) -> dict:
    """schema.org Dataset (Google Dataset Search's required and recommended fields)."""
    page = selectors.dataset_page_url(here, dataset)
    data = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": page,
        "url": page,
        "name": dataset.title,
        "description": dataset.notes or dataset.title,
        "identifier": str(dataset.uuid),
        "inLanguage": "ja",
        "keywords": [t.name for t in dataset.tags.all()],
        "license": LICENCE_URLS.get(Licence(dataset.licence)) or Licence(dataset.licence).label,
        "isAccessibleForFree": True,
        "dateCreated": dataset.created_at.date().isoformat(),
        "dateModified": dataset.modified_at.isoformat(timespec="seconds"),
        "creator": {"@type": "GovernmentOrganization", "name": dataset.organization.title},
        "publisher": {"@type": "GovernmentOrganization", "name": dataset.organization.title},
        "distribution": [
            {
                "@type": "DataDownload",
                "name": r.name,
                "encodingFormat": (r.latest_media_type or "").split(";")[0] or r.format,
                "contentUrl": selectors.resource_download_url(here, dataset, r),
                **({"contentSize": f"{r.latest_size} B"} if r.latest_size is not None else {}),
            }
            for r in dataset.resources.all()
        ],
    }
    if dataset.published_at:
        data["datePublished"] = dataset.published_at.date().isoformat()
    if dataset.contact_name or dataset.contact_email:
        data["creator"]["contactPoint"] = {
            "@type": "ContactPoint",
            "contactType": dataset.department or dataset.contact_name,
            "name": dataset.contact_name,
            **({"email": dataset.contact_email} if dataset.contact_email else {}),
        }
    return data


def _published(name: str):
    dataset = selectors.dataset_by_id(id_or_name=name)
    if dataset is None or dataset.name != name:
        raise Http404(_("データセットが見つかりません。"))
    return dataset


@cached_public
def dataset_page(request: HttpRequest, lg_code: str, dataset: str) -> HttpResponse:
    name = dataset  # the URL names the dataset; below, the row
    dataset = _published(name)
    here = origin(request)
    resources = [
        {
            "resource": r,
            "url": selectors.resource_download_url(here, dataset, r),
            "versions": selectors.resource_versions(resource=r) if not r.external_url else [],
        }
        for r in dataset.resources.all()
    ]
    context = _context(
        request,
        dataset=dataset,
        resources=resources,
        json_ld=_json_ld(schema_org(dataset, here=here)),
        frequency=Frequency(dataset.frequency).label,
        licence=Licence(dataset.licence).label,
        licence_url=LICENCE_URLS.get(Licence(dataset.licence), ""),
        api_url=reverse("opendata:ckan_action", args=[lg_code, "package_show"])
        + "?"
        + urlencode({"id": dataset.name}),
    )
    return render(request, "opendata/dataset.html", context)


def _file(request: HttpRequest, version, *, filename: str, immutable: bool) -> HttpResponse:
    etag = f'"{version.sha256}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(bytes(version.content), content_type=version.media_type)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        response["Content-Length"] = str(version.size)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Access-Control-Allow-Origin"] = "*"
    # A version's bytes never change; the stable URL moves on with each new version.
    response["Cache-Control"] = (
        "public, max-age=86400, immutable" if immutable else "public, max-age=60"
    )
    if hasattr(request, "session") and is_anonymous(request):
        request.session.accessed = False
    return response


def _filename(version, *, numbered: bool) -> str:
    resource = version.resource
    ext = EXTENSIONS.get(resource.format) or (
        mimetypes.guess_extension(version.media_type) or ""
    ).lstrip(".")
    base = resource.name.replace("/", "_").replace("\\", "_")
    return f"{base}_v{version.number}.{ext}" if numbered else f"{base}.{ext}"


@public_view
@require_GET
def resource_latest(
    request: HttpRequest, lg_code: str, dataset: str, resource_id: str
) -> HttpResponse:
    name = dataset  # the URL names the dataset; below, the row
    dataset = _published(name)
    version = selectors.resource_version(dataset=dataset, resource_id=str(resource_id), number=None)
    if version is None:
        raise Http404(_("ファイルが見つかりません。"))
    return _file(request, version, filename=_filename(version, numbered=False), immutable=False)


@public_view
@require_GET
def resource_numbered(
    request: HttpRequest, lg_code: str, dataset: str, resource_id: str, number: int
) -> HttpResponse:
    name = dataset  # the URL names the dataset; below, the row
    dataset = _published(name)
    version = selectors.resource_version(
        dataset=dataset, resource_id=str(resource_id), number=number
    )
    if version is None:
        raise Http404(_("ファイルが見つかりません。"))
    return _file(request, version, filename=_filename(version, numbered=True), immutable=True)


def _since(raw: str) -> datetime.datetime | None:
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError(raw)
        moment = datetime.datetime.combine(day, datetime.time())
    if moment.tzinfo is None:
        moment = make_aware(moment)
    return moment


def _dcat(
    request: HttpRequest, lg_code: str, *, fmt: str, route: str, content_type: str
) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
        if page < 1:
            raise ValueError(page)
    except ValueError:
        return HttpResponseBadRequest(
            "page must be a positive integer", content_type="text/plain; charset=utf-8"
        )
    raw_since = request.GET.get("modified_since", "")
    try:
        since = _since(raw_since)
    except ValueError:
        return HttpResponseBadRequest(
            "modified_since must be an ISO 8601 date or date-time",
            content_type="text/plain; charset=utf-8",
        )
    here = origin(request)
    base = here + reverse(route, args=[lg_code])

    def self_url(number: int) -> str:
        query = {"page": number, **({"modified_since": raw_since} if raw_since else {})}
        return base + "?" + urlencode(query)

    graph = dcat.catalogue_graph(
        origin=here,
        catalogue_url=here + reverse("opendata:catalogue", args=[lg_code]),
        municipality_name=request.municipality.name,
        page=page,
        modified_since=since,
        self_url=self_url,
    )
    response = HttpResponse(dcat.serialise(graph, fmt=fmt), content_type=content_type)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=60"
    if hasattr(request, "session") and is_anonymous(request):
        request.session.accessed = False
    return response


@public_view
@require_GET
def dcat_jsonld(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _dcat(
        request,
        lg_code,
        fmt="json-ld",
        route="opendata:dcat_jsonld",
        content_type="application/ld+json",
    )


@public_view
@require_GET
def dcat_ttl(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _dcat(
        request,
        lg_code,
        fmt="turtle",
        route="opendata:dcat_ttl",
        content_type="text/turtle; charset=utf-8",
    )

"""Reads of the open data catalogue: what the public sees (published datasets only),
the CKAN-shaped dictionaries the Action API answers with, and the search behind
``package_search``.

URLs in the dictionaries are absolute, from ``origin`` (the scheme and host the
client came to): a CKAN client or harvester follows them as they are.
"""

from __future__ import annotations

import datetime
import re
import shlex
import uuid as uuid_module
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse

from machi.opendata.models import (
    LICENCE_URLS,
    Dataset,
    Licence,
    Organization,
    Resource,
    ResourceVersion,
    State,
    Tag,
)
from machi.tenancy.context import current_lg_code

ROWS_DEFAULT = 10
ROWS_MAX = 1000
# fq / q fields and the lookups they filter on.
FILTER_FIELDS = {
    "tags": "tags__name",
    "organization": "organization__name",
    "res_format": "resources__format",
    "license_id": "licence",
    "name": "name",
    "id": "uuid",
    "frequency": "frequency",
}
FACET_FIELDS = {
    "tags": "tags__name",
    "organization": "organization__name",
    "res_format": "resources__format",
    "license_id": "licence",
}
SORT_FIELDS = {
    "name": "name",
    "title": "title",
    "title_string": "title",
    "metadata_modified": "modified_at",
    "metadata_created": "created_at",
}
TERM = re.compile(r"^(?P<neg>-)?(?P<field>[a-z_]+):(?P<value>.+)$")


class SearchQueryError(ValueError):
    """A q, fq or sort the catalogue cannot answer."""


def _iso(moment: datetime.datetime | None) -> str | None:
    # CKAN writes naive UTC timestamps with microseconds.
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def published_datasets() -> QuerySet[Dataset]:
    return Dataset.objects.filter(state=State.PUBLISHED)


def _latest(field: str) -> Subquery:
    return Subquery(
        ResourceVersion.objects.filter(resource=OuterRef("pk"))
        .order_by("-number")
        .values(field)[:1]
    )


def resources_with_latest() -> QuerySet[Resource]:
    """Resources with their latest version's facts, without loading any file."""
    return Resource.objects.annotate(
        latest_number=_latest("number"),
        latest_size=_latest("size"),
        latest_sha256=_latest("sha256"),
        latest_media_type=_latest("media_type"),
        latest_at=_latest("created_at"),
    )


def with_related(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    return datasets.select_related("organization").prefetch_related(
        "tags", Prefetch("resources", queryset=resources_with_latest())
    )


def dataset_by_id(*, id_or_name: str, public: bool = True) -> Dataset | None:
    base = published_datasets() if public else Dataset.objects.all()
    query = Q(name=id_or_name)
    if _is_uuid(id_or_name):
        query |= Q(uuid=id_or_name)
    return with_related(base.filter(query)).first()


def _is_uuid(value: str) -> bool:
    try:
        uuid_module.UUID(value)
    except ValueError:
        return False
    return True


def resource_by_id(*, id: str) -> Resource | None:
    if not _is_uuid(id):
        return None
    return (
        resources_with_latest()
        .select_related("dataset")
        .filter(uuid=id, dataset__state=State.PUBLISHED)
        .first()
    )


def resource_version(
    *, dataset: Dataset, resource_id: str, number: int | None
) -> ResourceVersion | None:
    """A published resource's version (``number``), or its latest: the stable URL."""
    if not _is_uuid(resource_id):
        return None
    versions = ResourceVersion.objects.filter(
        resource__uuid=resource_id, resource__dataset=dataset
    ).select_related("resource")
    if number is not None:
        return versions.filter(number=number).first()
    return versions.order_by("-number").first()


def resource_versions(*, resource: Resource) -> list[ResourceVersion]:
    return list(resource.versions.defer("content").order_by("-number"))


# --- CKAN dictionaries ------------------------------------------------------------------


def organization_dict(org: Organization, *, package_count: int | None = None) -> dict[str, Any]:
    data = {
        "id": str(org.uuid),
        "name": org.name,
        "title": org.title,
        "display_name": org.title,
        "description": org.description,
        "image_url": "",
        "image_display_url": "",
        "created": _iso(org.created_at),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "type": "organization",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def resource_download_url(origin: str, dataset: Dataset, resource: Resource) -> str:
    if resource.external_url:
        return resource.external_url
    return origin + reverse(
        "opendata:resource_latest", args=[current_lg_code(), dataset.name, resource.uuid]
    )


def resource_dict(resource: Resource, dataset: Dataset, *, origin: str) -> dict[str, Any]:
    media_type = getattr(resource, "latest_media_type", None) or ""
    return {
        "id": str(resource.uuid),
        "package_id": str(dataset.uuid),
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": resource_download_url(origin, dataset, resource),
        "url_type": "" if resource.external_url else "upload",
        "mimetype": media_type.split(";")[0] or None,
        "size": getattr(resource, "latest_size", None),
        "hash": f"sha256:{resource.latest_sha256}"
        if getattr(resource, "latest_sha256", None)
        else "",
        "created": _iso(resource.created_at),
        "last_modified": _iso(getattr(resource, "latest_at", None) or resource.modified_at),
        "metadata_modified": _iso(resource.modified_at),
        "position": resource.position,
        "state": "active",
        "version": getattr(resource, "latest_number", None),
    }


def dataset_page_url(origin: str, dataset: Dataset) -> str:
    return origin + reverse("opendata:dataset", args=[current_lg_code(), dataset.name])


def package_dict(dataset: Dataset, *, origin: str) -> dict[str, Any]:
    tags = sorted(t.name for t in dataset.tags.all())
    resources = [resource_dict(r, dataset, origin=origin) for r in dataset.resources.all()]
    licence = Licence(dataset.licence)
    return {
        "id": str(dataset.uuid),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": "active",
        "private": False,
        "license_id": dataset.licence,
        "license_title": licence.label,
        "license_url": LICENCE_URLS.get(licence, ""),
        "author": dataset.department or dataset.organization.title,
        "author_email": "",
        "maintainer": dataset.contact_name,
        "maintainer_email": dataset.contact_email,
        "url": dataset.harvest_url or dataset_page_url(origin, dataset),
        "version": None,
        "owner_org": str(dataset.organization.uuid),
        "organization": organization_dict(dataset.organization),
        "metadata_created": _iso(dataset.created_at),
        "metadata_modified": _iso(dataset.modified_at),
        "tags": [
            {"id": t, "name": t, "display_name": t, "state": "active", "vocabulary_id": None}
            for t in tags
        ],
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "groups": [],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "extras": [
            {"key": "frequency", "value": dataset.frequency},
            *(
                [{"key": "harvest_source_id", "value": dataset.harvest_id}]
                if dataset.is_mirror
                else []
            ),
        ],
    }


# --- search -----------------------------------------------------------------------------


def _terms(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise SearchQueryError(f"cannot parse {text!r}: {error}") from error


def _field_filter(field: str, value: str) -> Q:
    lookup = FILTER_FIELDS.get(field)
    if lookup is None:
        raise SearchQueryError(f"unknown field {field!r}")
    if lookup == "uuid" and not _is_uuid(value):
        return Q(pk__in=[])
    return Q(**{lookup: value})


def _apply(datasets: QuerySet[Dataset], text: str, *, free_text: bool) -> QuerySet[Dataset]:
    text = text.strip()
    if not text or text == "*:*":
        return datasets
    for part in _terms(text.replace(" AND ", " ")):
        match = TERM.match(part)
        if match:
            condition = _field_filter(match["field"], match["value"])
            if match["neg"]:
                datasets = datasets.exclude(
                    pk__in=published_datasets().filter(condition).values("pk")
                )
            else:
                datasets = datasets.filter(
                    pk__in=published_datasets().filter(condition).values("pk")
                )
        elif free_text:
            word = part
            datasets = datasets.filter(
                Q(title__icontains=word)
                | Q(notes__icontains=word)
                | Q(name__icontains=word)
                | Q(
                    pk__in=Dataset.tags.through.objects.filter(tag__name__icontains=word).values(
                        "dataset_id"
                    )
                )
            )
        else:
            raise SearchQueryError(f"fq needs field:value, not {part!r}")
    return datasets


def _order(sort: str) -> list[str]:
    order: list[str] = []
    for clause in (sort or "score desc, metadata_modified desc").split(","):
        words = clause.split()
        if not words:
            continue
        field = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if direction not in ("asc", "desc") or len(words) > 2:
            raise SearchQueryError(f"bad sort clause {clause.strip()!r}")
        if field == "score":
            # No relevance ranking: every match scores alike, the next clause decides.
            continue
        column = SORT_FIELDS.get(field)
        if column is None:
            raise SearchQueryError(f"cannot sort by {field!r}")
        order.append(("-" if direction == "desc" else "") + column)
    return [*order, "name"]


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    fq: str = ""
    rows: int = ROWS_DEFAULT
    start: int = 0
    sort: str = ""
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50


def package_search(*, params: SearchParams, origin: str) -> dict[str, Any]:
    matched = _apply(
        _apply(published_datasets(), params.q, free_text=True), params.fq, free_text=False
    )
    order = _order(params.sort)
    count = matched.count()
    page = (
        list(with_related(matched.order_by(*order))[params.start : params.start + params.rows])
        if params.rows
        else []
    )
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in params.facet_fields:
        lookup = FACET_FIELDS.get(field)
        if lookup is None:
            raise SearchQueryError(f"cannot facet by {field!r}")
        counts = (
            published_datasets()
            .filter(pk__in=matched.values("pk"))
            .exclude(**{f"{lookup}__isnull": True})
            .values(lookup)
            .annotate(n=Count("pk", distinct=True))
            .order_by("-n", lookup)[: params.facet_limit]
        )
        items = {row[lookup]: row["n"] for row in counts}
        facets[field] = items
        search_facets[field] = {
            "title": field,
            "items": [{"name": k, "display_name": k, "count": v} for k, v in items.items()],
        }
    return {
        "count": count,
        "sort": params.sort or "score desc, metadata_modified desc",
        "facets": facets,
        "search_facets": search_facets,
        "results": [package_dict(d, origin=origin) for d in page],
    }


def package_names(*, limit: int | None, offset: int) -> list[str]:
    names = published_datasets().order_by("name").values_list("name", flat=True)
    return list(names[offset : offset + limit] if limit is not None else names[offset:])


def organizations() -> list[tuple[Organization, int]]:
    counts = dict(
        published_datasets()
        .values("organization")
        .annotate(n=Count("pk"))
        .values_list("organization", "n")
    )
    return [
        (org, counts.get(org.pk, 0))
        for org in Organization.objects.order_by("name")
        if counts.get(org.pk, 0) or not org.harvest_source
    ]


def organization_by_id(*, id_or_name: str) -> Organization | None:
    query = Q(name=id_or_name)
    if _is_uuid(id_or_name):
        query |= Q(uuid=id_or_name)
    return Organization.objects.filter(query).first()


def tag_names(*, query: str = "") -> list[str]:
    tags = Tag.objects.filter(datasets__state=State.PUBLISHED).distinct().order_by("name")
    if query:
        tags = tags.filter(name__icontains=query)
    return list(tags.values_list("name", flat=True))


def modified_datasets(*, since: datetime.datetime | None) -> QuerySet[Dataset]:
    datasets = published_datasets()
    if since is not None:
        datasets = datasets.filter(modified_at__gte=since)
    return with_related(datasets.order_by("-modified_at", "name"))

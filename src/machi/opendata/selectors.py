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

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
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
    if moment.tzinfo is not datetime.UTC:
        moment = moment.astimezone(datetime.UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


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
#
# The dictionaries are built from plain rows (dictionaries of ``_DATASET_FIELDS`` and
# ``_RESOURCE_FIELDS``), so a page of ``package_search`` is read with ``values()`` and no
# model instances, while ``package_show`` (one dataset, already loaded with its
# relations) turns its instance into the same rows: one mapping for both, one answer.


def organization_dict(org: Organization, *, package_count: int | None = None) -> dict[str, Any]:
    return _organization(
        uuid=org.uuid,
        name=org.name,
        title=org.title,
        description=org.description,
        created_at=org.created_at,
        package_count=package_count,
    )


def _organization(
    *,
    uuid: uuid_module.UUID,
    name: str,
    title: str,
    description: str,
    created_at: datetime.datetime,
    package_count: int | None = None,
) -> dict[str, Any]:
    data = {
        "id": str(uuid),
        "name": name,
        "title": title,
        "display_name": title,
        "description": description,
        "image_url": "",
        "image_display_url": "",
        "created": _iso(created_at),
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


def dataset_page_url(origin: str, dataset: Dataset) -> str:
    return origin + reverse("opendata:dataset", args=[current_lg_code(), dataset.name])


SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_NAME_MARK = "machi-dataset-name"
_RESOURCE_MARK = "machi-resource-id"


class _Urls:
    """The dataset page and resource URLs of one answer: reversed once, then filled in
    (``reverse`` for a hundred packages was a fifth of a ``package_search``). A name the
    slug converter would not take goes through ``reverse`` itself, which refuses it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.lg_code = current_lg_code()
        page = reverse("opendata:dataset", args=[self.lg_code, _NAME_MARK])
        self._page = (origin, *page.split(_NAME_MARK))
        resource = reverse(
            "opendata:resource_latest", args=[self.lg_code, _NAME_MARK, _RESOURCE_MARK]
        )
        head, rest = resource.split(_NAME_MARK)
        self._resource = (origin + head, *rest.split(_RESOURCE_MARK))
        if len(self._page) != 3 or len(self._resource) != 3:  # pragma: no cover - url change
            raise RuntimeError("opendata URL patterns changed: update _Urls")

    def page(self, name: str) -> str:
        if not SLUG.fullmatch(name):
            return self.origin + reverse("opendata:dataset", args=[self.lg_code, name])
        origin, head, tail = self._page
        return f"{origin}{head}{name}{tail}"

    def resource(self, name: str, resource_id: str) -> str:
        if not SLUG.fullmatch(name):
            return self.origin + reverse(
                "opendata:resource_latest", args=[self.lg_code, name, resource_id]
            )
        head, middle, tail = self._resource
        return f"{head}{name}{middle}{resource_id}{tail}"


# The columns the dictionaries are made of, as ``values()`` names them.
_RESOURCE_FIELDS = (
    "dataset_id",
    "uuid",
    "name",
    "description",
    "format",
    "position",
    "external_url",
    "created_at",
    "modified_at",
    "latest_number",
    "latest_size",
    "latest_sha256",
    "latest_media_type",
    "latest_at",
)
_DATASET_FIELDS = (
    "pk",
    "uuid",
    "name",
    "title",
    "notes",
    "licence",
    "department",
    "contact_name",
    "contact_email",
    "harvest_id",
    "harvest_url",
    "frequency",
    "created_at",
    "modified_at",
    "organization__uuid",
    "organization__name",
    "organization__title",
    "organization__description",
    "organization__created_at",
)


def _resource(
    row: dict[str, Any], *, dataset_uuid: str, dataset_name: str, urls: _Urls
) -> dict[str, Any]:
    resource_id = str(row["uuid"])
    external_url = row["external_url"]
    media_type = row["latest_media_type"] or ""
    sha256 = row["latest_sha256"]
    return {
        "id": resource_id,
        "package_id": dataset_uuid,
        "name": row["name"],
        "description": row["description"],
        "format": row["format"],
        "url": external_url or urls.resource(dataset_name, resource_id),
        "url_type": "" if external_url else "upload",
        "mimetype": media_type.split(";")[0] or None,
        "size": row["latest_size"],
        "hash": f"sha256:{sha256}" if sha256 else "",
        "created": _iso(row["created_at"]),
        "last_modified": _iso(row["latest_at"] or row["modified_at"]),
        "metadata_modified": _iso(row["modified_at"]),
        "position": row["position"],
        "state": "active",
        "version": row["latest_number"],
    }


def _resource_row(resource: Resource) -> dict[str, Any]:
    row = {field: getattr(resource, field, None) for field in _RESOURCE_FIELDS}
    row["dataset_id"] = resource.dataset_id
    return row


def resource_dict(resource: Resource, dataset: Dataset, *, origin: str) -> dict[str, Any]:
    return _resource(
        _resource_row(resource),
        dataset_uuid=str(dataset.uuid),
        dataset_name=dataset.name,
        urls=_Urls(origin),
    )


def _package(
    row: dict[str, Any], *, tags: list[str], resources: list[dict[str, Any]], urls: _Urls
) -> dict[str, Any]:
    dataset_uuid = str(row["uuid"])
    name = row["name"]
    licence = Licence(row["licence"])
    tags = sorted(tags)
    org_uuid = row["organization__uuid"]
    harvest_id = row["harvest_id"]
    resource_dicts = [
        _resource(r, dataset_uuid=dataset_uuid, dataset_name=name, urls=urls) for r in resources
    ]
    return {
        "id": dataset_uuid,
        "name": name,
        "title": row["title"],
        "notes": row["notes"],
        "type": "dataset",
        "state": "active",
        "private": False,
        "license_id": row["licence"],
        "license_title": licence.label,
        "license_url": LICENCE_URLS.get(licence, ""),
        "author": row["department"] or row["organization__title"],
        "author_email": "",
        "maintainer": row["contact_name"],
        "maintainer_email": row["contact_email"],
        "url": row["harvest_url"] or urls.page(name),
        "version": None,
        "owner_org": str(org_uuid),
        "organization": _organization(
            uuid=org_uuid,
            name=row["organization__name"],
            title=row["organization__title"],
            description=row["organization__description"],
            created_at=row["organization__created_at"],
        ),
        "metadata_created": _iso(row["created_at"]),
        "metadata_modified": _iso(row["modified_at"]),
        "tags": [
            {"id": t, "name": t, "display_name": t, "state": "active", "vocabulary_id": None}
            for t in tags
        ],
        "num_tags": len(tags),
        "resources": resource_dicts,
        "num_resources": len(resource_dicts),
        "groups": [],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "extras": [
            {"key": "frequency", "value": row["frequency"]},
            *([{"key": "harvest_source_id", "value": harvest_id}] if harvest_id else []),
        ],
    }


def package_dict(dataset: Dataset, *, origin: str) -> dict[str, Any]:
    """One dataset (loaded by ``with_related``) as CKAN's package."""
    org = dataset.organization
    row = {field: getattr(dataset, field) for field in _DATASET_FIELDS if "__" not in field}
    row.update(
        organization__uuid=org.uuid,
        organization__name=org.name,
        organization__title=org.title,
        organization__description=org.description,
        organization__created_at=org.created_at,
    )
    return _package(
        row,
        tags=[t.name for t in dataset.tags.all()],
        resources=[_resource_row(r) for r in dataset.resources.all()],
        urls=_Urls(origin),
    )


def _packages(rows: list[dict[str, Any]], *, urls: _Urls) -> list[dict[str, Any]]:
    """Packages of dataset rows, in their order: their tags and resources in two queries."""
    if not rows:
        return []
    ids = [row["pk"] for row in rows]
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    for dataset_id, tag in Dataset.tags.through.objects.filter(dataset_id__in=ids).values_list(
        "dataset_id", "tag__name"
    ):
        tags[dataset_id].append(tag)
    resources: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for resource in (
        resources_with_latest()
        .filter(dataset_id__in=ids)
        .order_by("position", "pk")
        .values(*_RESOURCE_FIELDS)
    ):
        resources[resource["dataset_id"]].append(resource)
    return [
        _package(row, tags=tags[row["pk"]], resources=resources[row["pk"]], urls=urls)
        for row in rows
    ]


def package_dicts(datasets: QuerySet[Dataset], *, origin: str) -> list[dict[str, Any]]:
    """The datasets (filtered, ordered, sliced) as CKAN's packages, in three queries."""
    return _packages(list(datasets.values(*_DATASET_FIELDS)), urls=_Urls(origin))


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
    # Many-valued fields by a subquery of the link table alone (the search is already
    # over the published datasets): a semi-join, no duplicate rows to count.
    if lookup == "tags__name":
        return Q(pk__in=Dataset.tags.through.objects.filter(tag__name=value).values("dataset_id"))
    if lookup == "resources__format":
        return Q(pk__in=Resource.objects.filter(format=value).values("dataset_id"))
    return Q(**{lookup: value})


def _apply(datasets: QuerySet[Dataset], text: str, *, free_text: bool) -> QuerySet[Dataset]:
    text = text.strip()
    if not text or text == "*:*":
        return datasets
    for part in _terms(text.replace(" AND ", " ")):
        match = TERM.match(part)
        if match:
            condition = _field_filter(match["field"], match["value"])
            narrow = datasets.exclude if match["neg"] else datasets.filter
            datasets = narrow(condition)
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


def _has_words(text: str) -> bool:
    """Whether q has free words (matched by scanning titles, notes and names)."""
    text = text.strip()
    if not text or text == "*:*":
        return False
    return any(not TERM.match(part) for part in _terms(text.replace(" AND ", " ")))


def package_search(*, params: SearchParams, origin: str) -> dict[str, Any]:
    """CKAN's search over the published datasets in four queries: the count and the
    page's ids, the page's rows with their publisher, their tags, their resources with
    the latest versions' facts. The ids come from a narrow query (the sort never carries
    whole rows). Free words are matched by a scan of every published dataset, so with
    words the count rides on the ids query (``COUNT(*) OVER ()``, one scan instead of
    two); without them the count is an index count of its own and the page's ids a
    subquery of the rows query (a window would make SQLite sort the whole match)."""
    matched = _apply(
        _apply(published_datasets(), params.q, free_text=True), params.fq, free_text=False
    )
    order = _order(params.sort)
    for field in params.facet_fields:
        if field not in FACET_FIELDS:
            raise SearchQueryError(f"cannot facet by {field!r}")
    window = slice(params.start, params.start + params.rows)
    rows: list[dict[str, Any]] = []
    count = None
    if params.rows and _has_words(params.q):
        ids = list(
            matched.annotate(_total=Window(Count("pk")))
            .order_by(*order)
            .values_list("pk", "_total")[window]
        )
        if ids:
            count = ids[0][1]
            position = {pk: i for i, (pk, _total) in enumerate(ids)}
            rows = sorted(
                Dataset.objects.filter(pk__in=position).values(*_DATASET_FIELDS),
                key=lambda row: position[row["pk"]],
            )
    if count is None:
        count = matched.count()
        if params.rows and not rows and params.start < count:
            page = matched.order_by(*order).values("pk")[window]
            rows = list(
                Dataset.objects.filter(pk__in=page).order_by(*order).values(*_DATASET_FIELDS)
            )
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in params.facet_fields:
        lookup = FACET_FIELDS[field]
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
        "results": _packages(rows, urls=_Urls(origin)),
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

"""A read-only subset of CKAN's Action API (API version 3) over the published catalogue,
at ``/<lg_code>/api/3/action/<action>``, so CKAN clients (ckanapi, the prefecture's
harvesters, data portals) read a municipality's catalogue as they read any CKAN site.

Parameters come as the query string (GET) or a JSON object (POST, as ckanapi sends).
Every answer has CKAN's envelope: ``help``, ``success`` and ``result`` or ``error``
(``__type`` and ``message``, or per-field messages for a Validation Error). Unknown
actions are 400 "Bad request", unknown ids 404 "Not Found Error", bad parameters
400 "Validation Error" and unparsable searches 400 "Search Query Error".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from machi.opendata import selectors
from machi.tenancy.context import current_lg_code
from machi.web.decorators import public_view

# The Action API level these answers follow (status_show): CKAN 2.10's field names.
CKAN_VERSION = "2.10.0"


class ApiError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.error = error


def _not_found(what: str) -> ApiError:
    return ApiError(404, {"__type": "Not Found Error", "message": f"Not found: {what}"})


def _invalid(**fields: str) -> ApiError:
    return ApiError(400, {"__type": "Validation Error", **{k: [v] for k, v in fields.items()}})


def origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _int(
    params: dict[str, Any], name: str, default: int | None, *, low: int = 0, high: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _invalid(**{name: "Invalid integer"}) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid(**{name: f"Must be {bound}"})
    return value


def _bool(params: dict[str, Any], name: str) -> bool:
    raw = params.get(name, False)
    if isinstance(raw, bool):
        return raw
    return str(raw).lower() in ("true", "1", "yes", "on")


def _text(params: dict[str, Any], name: str, *, required: bool = False) -> str:
    raw = params.get(name, "")
    if not isinstance(raw, str):
        raise _invalid(**{name: "Must be a string"})
    if required and not raw:
        raise _invalid(**{name: "Missing value"})
    return raw


# --- actions ----------------------------------------------------------------------------


def package_list(request: HttpRequest, params: dict[str, Any]) -> Any:
    """The names of the published datasets (limit, offset)."""
    limit = _int(params, "limit", None, high=selectors.ROWS_MAX)
    return selectors.package_names(limit=limit, offset=_int(params, "offset", 0))


def package_show(request: HttpRequest, params: dict[str, Any]) -> Any:
    """One dataset by id or name, with its organization, tags and resources."""
    dataset = selectors.dataset_by_id(id_or_name=_text(params, "id", required=True))
    if dataset is None:
        raise _not_found("package")
    return selectors.package_dict(dataset, origin=origin(request))


def package_search(request: HttpRequest, params: dict[str, Any]) -> Any:
    """Search: q (words, or field:value), fq (field:value … for tags, organization,
    res_format, license_id, name, id, frequency), rows (≤ 1000), start, sort
    (name, title, metadata_modified, metadata_created with asc/desc), facet.field."""
    facets = params.get("facet.field", [])
    if isinstance(facets, str):
        try:
            facets = json.loads(facets) if facets else []
        except json.JSONDecodeError:
            raise _invalid(**{"facet.field": "Must be a JSON list"}) from None
    if not isinstance(facets, list) or not all(isinstance(f, str) for f in facets):
        raise _invalid(**{"facet.field": "Must be a JSON list"})
    search = selectors.SearchParams(
        q=_text(params, "q"),
        fq=_text(params, "fq"),
        rows=_int(params, "rows", selectors.ROWS_DEFAULT, high=selectors.ROWS_MAX),
        start=_int(params, "start", 0),
        sort=_text(params, "sort"),
        facet_fields=tuple(facets),
        facet_limit=_int(params, "facet.limit", 50, low=1, high=1000),
    )
    try:
        return selectors.package_search(params=search, origin=origin(request))
    except selectors.SearchQueryError as error:
        raise ApiError(
            400, {"__type": "Search Query Error", "message": f"Search Query is invalid: {error}"}
        ) from None


def organization_list(request: HttpRequest, params: dict[str, Any]) -> Any:
    """Publishers' names (or dictionaries with all_fields), sorted by name."""
    found = selectors.organizations()
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", None, high=selectors.ROWS_MAX)
    found = found[offset : offset + limit] if limit is not None else found[offset:]
    if _bool(params, "all_fields"):
        return [selectors.organization_dict(org, package_count=n) for org, n in found]
    return [org.name for org, _n in found]


def organization_show(request: HttpRequest, params: dict[str, Any]) -> Any:
    """One publisher by id or name; include_datasets adds its published datasets."""
    org = selectors.organization_by_id(id_or_name=_text(params, "id", required=True))
    if org is None:
        raise _not_found("organization")
    datasets = selectors.published_datasets().filter(organization=org)
    data = selectors.organization_dict(org, package_count=datasets.count())
    if _bool(params, "include_datasets"):
        here = origin(request)
        data["packages"] = [
            selectors.package_dict(d, origin=here)
            for d in selectors.with_related(datasets.order_by("name"))[: selectors.ROWS_MAX]
        ]
    return data


def resource_show(request: HttpRequest, params: dict[str, Any]) -> Any:
    """One resource of a published dataset by id."""
    resource = selectors.resource_by_id(id=_text(params, "id", required=True))
    if resource is None:
        raise _not_found("resource")
    return selectors.resource_dict(resource, resource.dataset, origin=origin(request))


def tag_list(request: HttpRequest, params: dict[str, Any]) -> Any:
    """Tags of published datasets (query: a part of the name)."""
    names = selectors.tag_names(query=_text(params, "query"))
    if _bool(params, "all_fields"):
        return [{"id": n, "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


def status_show(request: HttpRequest, params: dict[str, Any]) -> Any:
    """The site: CKAN API level, title, URL, default locale."""
    municipality = request.municipality
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": f"{municipality.name} オープンデータカタログ",
        "site_description": f"{municipality.name}が公開するオープンデータ",
        "site_url": origin(request) + reverse("opendata:catalogue", args=[current_lg_code()]),
        "error_emails_to": None,
        "locale_default": settings.LANGUAGE_CODE,
        "extensions": [],
    }


def help_show(request: HttpRequest, params: dict[str, Any]) -> Any:
    """The documentation of an action (name)."""
    name = _text(params, "name", required=True)
    action = ACTIONS.get(name)
    if action is None:
        raise _not_found("action")
    return action.__doc__


ACTIONS: dict[str, Callable[[HttpRequest, dict[str, Any]], Any]] = {
    fn.__name__: fn
    for fn in (
        package_list,
        package_show,
        package_search,
        organization_list,
        organization_show,
        resource_show,
        tag_list,
        status_show,
        help_show,
    )
}


def _params(request: HttpRequest) -> dict[str, Any]:
    if request.method == "POST" and request.body:
        if request.content_type == "application/json" or request.body[:1] in (b"{", b"["):
            try:
                body = json.loads(request.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ApiError(
                    400,
                    {
                        "__type": "Bad request",
                        "message": "Bad request - JSON Error: could not decode the body",
                    },
                ) from None
            if not isinstance(body, dict):
                raise ApiError(
                    400,
                    {
                        "__type": "Bad request",
                        "message": "Bad request - JSON Error: the body must be an object",
                    },
                )
            return body
        return request.POST.dict()
    return request.GET.dict()


@public_view
@csrf_exempt
def action(request: HttpRequest, lg_code: str, name: str) -> JsonResponse:
    help_url = (
        origin(request)
        + reverse("opendata:ckan_action", args=[lg_code, "help_show"])
        + f"?name={name}"
    )
    try:
        if request.method not in ("GET", "POST"):
            raise ApiError(
                405, {"__type": "Bad request", "message": "Bad request - use GET or POST"}
            )
        fn = ACTIONS.get(name)
        if fn is None:
            raise ApiError(
                400,
                {
                    "__type": "Bad request",
                    "message": f"Bad request - Action name not known: {name}",
                },
            )
        result = fn(request, _params(request))
    except ApiError as error:
        response = JsonResponse(
            {"help": help_url, "success": False, "error": error.error},
            status=error.status,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = JsonResponse(
            {"help": help_url, "success": True, "result": result},
            safe=False,
            json_dumps_params={"ensure_ascii": False},
        )
    # Any site may read the catalogue from a browser (CKAN sends the same).
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=60"
    return response

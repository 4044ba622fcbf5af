"""Mirror another CKAN catalogue (typically the prefecture's) into the municipality's:
each package of a ``package_search`` answer becomes a dataset marked as harvested, with
its publisher as an organisation and its resources pointing at the publisher's files
(nothing is downloaded). A second import of the same source updates the mirrors; when
the answer lists the whole source (``count`` equals the packages given), mirrors that
are no longer in it are unpublished.

The whole import is one transaction: a malformed package refuses the import, naming
the package, and nothing is changed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from machi.audit.services import audit_append
from machi.opendata.models import (
    Dataset,
    Format,
    Frequency,
    Licence,
    Organization,
    Resource,
    State,
    Tag,
)
from machi.opendata.services import NAME_RE, RESERVED_NAMES, OpendataError
from machi.tenancy.context import current_tenant_alias

PAGE_ROWS = 1000
MAX_PAGES = 50
TIMEOUT = 30
LICENCES = {
    "cc-by": Licence.CC_BY_4, "cc-by-4.0": Licence.CC_BY_4, "cc-by-4": Licence.CC_BY_4,
    "cc-zero": Licence.CC0, "cc0": Licence.CC0, "cc0-1.0": Licence.CC0,
    "odc-by": Licence.ODC_BY, "gov-jp-2.0": Licence.GOJ,
}  # fmt: skip
FREQUENCIES = {
    "daily": Frequency.DAILY, "毎日": Frequency.DAILY, "weekly": Frequency.WEEKLY,
    "毎週": Frequency.WEEKLY, "monthly": Frequency.MONTHLY, "毎月": Frequency.MONTHLY,
    "quarterly": Frequency.QUARTERLY, "四半期": Frequency.QUARTERLY,
    "annual": Frequency.ANNUAL, "annually": Frequency.ANNUAL, "yearly": Frequency.ANNUAL,
    "毎年": Frequency.ANNUAL, "年1回": Frequency.ANNUAL, "irreg": Frequency.IRREGULAR,
    "irregular": Frequency.IRREGULAR, "不定期": Frequency.IRREGULAR,
}  # fmt: skip
FORMATS = {f.lower(): f for f in Format.values}


@dataclass
class HarvestResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def fetch(url: str) -> dict[str, Any]:
    """A package_search answer from a CKAN site, every page of it."""
    packages: list[dict] = []
    count = None
    for page in range(MAX_PAGES):
        params = {"rows": PAGE_ROWS, "start": page * PAGE_ROWS}
        try:
            response = requests.get(url, params=params, timeout=TIMEOUT)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as error:
            raise OpendataError(_("取得元を読めません: %(error)s") % {"error": error}) from error
        result = _result(body)
        count = result["count"]
        packages.extend(result["results"])
        if not result["results"] or len(packages) >= count:
            break
    return {"count": count, "results": packages}


def _result(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and "result" in body:
        if body.get("success") is False:
            raise OpendataError(
                _("取得元がエラーを返しました: %(error)s") % {"error": body.get("error")}
            )
        body = body["result"]
    if isinstance(body, list):
        body = {"count": len(body), "results": body}
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise OpendataError(_("CKAN の package_search の結果 (result.results) ではありません。"))
    count = body.get("count", len(body["results"]))
    if not isinstance(count, int):
        raise OpendataError(_("result.count が整数ではありません。"))
    return {"count": count, "results": body["results"]}


def _text(
    package: dict, key: str, where: str, *, required: bool = False, limit: int = 20_000
) -> str:
    value = package.get(key) or ""
    if not isinstance(value, str):
        raise OpendataError(
            _("%(where)s: %(key)s が文字列ではありません。") % {"where": where, "key": key}
        )
    if required and not value.strip():
        raise OpendataError(_("%(where)s: %(key)s がありません。") % {"where": where, "key": key})
    return value.strip()[:limit]


def _moment(value: Any, fallback: datetime.datetime) -> datetime.datetime:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return fallback
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)  # CKAN writes naive UTC
    return moment


def _frequency(package: dict) -> str:
    candidates = [package.get("frequency")]
    for extra in package.get("extras") or []:
        if isinstance(extra, dict) and extra.get("key") in (
            "frequency", "accrual_periodicity", "update_frequency", "更新頻度"
        ):  # fmt: skip
            candidates.append(extra.get("value"))
    for value in candidates:
        if isinstance(value, str):
            key = value.strip().rsplit("/", 1)[-1].lower()
            if key in FREQUENCIES:
                return FREQUENCIES[key]
    return Frequency.IRREGULAR


def _organization(package: dict, where: str, source: str, now: datetime.datetime) -> Organization:
    org = package.get("organization") or {}
    if not isinstance(org, dict) or not org.get("name"):
        raise OpendataError(_("%(where)s: organization がありません。") % {"where": where})
    name = f"h-{_text(org, 'name', where, required=True, limit=90)}"
    found = Organization.objects.filter(name=name).first()
    values = {
        "title": _text(org, "title", where, limit=200) or org["name"],
        "description": _text(org, "description", where),
    }
    if found is None:
        return Organization.objects.create(
            name=name, harvest_source=source, created_at=now, **values
        )
    if any(getattr(found, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(found, k, v)
        found.save(update_fields=list(values))
    return found


def _resources(package: dict, where: str) -> list[dict[str, Any]]:
    items = package.get("resources") or []
    if not isinstance(items, list):
        raise OpendataError(_("%(where)s: resources が配列ではありません。") % {"where": where})
    out = []
    for index, item in enumerate(items):
        here = f"{where} resources[{index}]"
        if not isinstance(item, dict):
            raise OpendataError(
                _("%(where)s: リソースがオブジェクトではありません。") % {"where": here}
            )
        url = _text(item, "url", here, required=True, limit=1000)
        if not url.startswith(("https://", "http://")):
            raise OpendataError(
                _("%(where)s: url が http(s) の URL ではありません。") % {"where": here}
            )
        raw_format = _text(item, "format", here, limit=20)
        out.append({
            "name": (_text(item, "name", here, limit=200) or url.rsplit("/", 1)[-1])[:200],
            "description": _text(item, "description", here, limit=2000),
            "format": FORMATS.get(raw_format.lower(), raw_format.upper() or "OTHER"),
            "external_url": url,
        })  # fmt: skip
    return out


def _plan(package: Any, index: int, source: str) -> dict[str, Any]:
    where = _("%(index)d番目のパッケージ") % {"index": index + 1}
    if not isinstance(package, dict):
        raise OpendataError(_("%(where)s: オブジェクトではありません。") % {"where": where})
    name = _text(package, "name", where, required=True, limit=100).lower()
    where = f"{where} ({name})"
    if not NAME_RE.match(name) or name in RESERVED_NAMES:
        raise OpendataError(
            _("%(where)s: name が CKAN の識別名の形ではありません。") % {"where": where}
        )
    tags = []
    for tag in package.get("tags") or []:
        text = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(text, str) and text.strip() and len(text.strip()) <= 100:
            tags.append(text.strip())
    licence = LICENCES.get(str(package.get("license_id") or "").lower(), Licence.OTHER)
    return {
        "where": where, "name": name,
        "harvest_id": _text(package, "id", where, required=True, limit=100),
        "title": _text(package, "title", where, limit=200) or name,
        "notes": _text(package, "notes", where),
        "licence": licence, "frequency": _frequency(package), "tags": sorted(set(tags)),
        "department": _text(package, "author", where, limit=100),
        "contact_name": _text(package, "maintainer", where, limit=200),
        "contact_email": _text(package, "maintainer_email", where, limit=254),
        "harvest_url": _text(package, "url", where, limit=500)
        if str(package.get("url") or "").startswith(("https://", "http://")) else "",
        "created": package.get("metadata_created"), "modified": package.get("metadata_modified"),
        "resources": _resources(package, where), "raw": package,
    }  # fmt: skip


def _fields(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: plan[k] for k in ("title", "notes", "licence", "frequency", "department",
                                 "contact_name", "contact_email", "harvest_url")}  # fmt: skip


def _same(dataset: Dataset, plan: dict[str, Any], modified: datetime.datetime) -> bool:
    if any(getattr(dataset, k) != v for k, v in _fields(plan).items()):
        return False
    if dataset.state != State.PUBLISHED or dataset.modified_at != modified:
        return False
    if sorted(dataset.tags.values_list("name", flat=True)) != plan["tags"]:
        return False
    current = [
        {
            "name": r.name,
            "description": r.description,
            "format": r.format,
            "external_url": r.external_url,
        }
        for r in dataset.resources.order_by("position", "pk")
    ]
    return current == plan["resources"]


def harvest_import(
    *, payload: Any, source: str, now: datetime.datetime | None = None
) -> HarvestResult:
    """Import a package_search answer (the whole envelope, its result, or a list of
    packages) from ``source`` (a URL or file name, kept on the organisations)."""
    now = now or timezone.now()
    result = _result(payload)
    plans = [_plan(p, i, source) for i, p in enumerate(result["results"])]
    names = [p["name"] for p in plans]
    if len(set(names)) != len(names):
        raise OpendataError(_("同じ name のパッケージが2つ以上あります。"))
    outcome = HarvestResult()
    with transaction.atomic(using=current_tenant_alias()):
        seen_orgs: set[int] = set()
        for plan in plans:
            org = _organization(plan["raw"], plan["where"], source, now)
            seen_orgs.add(org.pk)
            dataset = Dataset.objects.select_for_update().filter(name=plan["name"]).first()
            if dataset is not None and not dataset.is_mirror:
                outcome.skipped.append(plan["name"])  # the municipality's own dataset wins
                continue
            modified = _moment(plan["modified"], now)
            if dataset is None:
                dataset = Dataset.objects.create(
                    name=plan["name"], organization=org, harvest_id=plan["harvest_id"],
                    created_at=_moment(plan["created"], now), modified_at=modified,
                    published_at=now, state=State.PUBLISHED, **_fields(plan),
                )  # fmt: skip
                outcome.created.append(plan["name"])
            elif _same(dataset, plan, modified) and dataset.organization_id == org.pk:
                outcome.unchanged.append(plan["name"])
                continue
            else:
                for key, value in _fields(plan).items():
                    setattr(dataset, key, value)
                dataset.organization = org
                dataset.harvest_id = plan["harvest_id"]
                dataset.modified_at = modified
                dataset.state = State.PUBLISHED
                dataset.published_at = dataset.published_at or now
                dataset.save()
                dataset.resources.all().delete()
                outcome.updated.append(plan["name"])
            dataset.tags.set([Tag.objects.get_or_create(name=t)[0] for t in plan["tags"]])
            Resource.objects.bulk_create(
                Resource(
                    dataset=dataset, position=i, created_at=modified, modified_at=modified, **r
                )
                for i, r in enumerate(plan["resources"])
            )
        if result["count"] == len(plans):
            gone = Dataset.objects.filter(
                organization__harvest_source=source, state=State.PUBLISHED
            ).exclude(name__in=names)
            outcome.withdrawn = sorted(gone.values_list("name", flat=True))
            gone.update(state=State.UNPUBLISHED, modified_at=now)
        audit_append(
            action="opendata.harvest.imported", function="opendata", object_type="opendata_harvest",
            object_id=source[:200],
            detail={k: len(v) for k, v in vars(outcome).items()},
        )  # fmt: skip
        if outcome.created or outcome.updated or outcome.withdrawn:
            from machi.site.services import site_state_bump

            site_state_bump(now=now)
    return outcome

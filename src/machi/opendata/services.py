"""Writes to the open data catalogue: datasets (create, update, publish, unpublish),
resource files (each upload a new version under the resource's stable URL), the
publishing entry point for generated datasets (:func:`dataset_publish`) and the
mirror of another catalogue (:func:`harvest_import`).

Who: web authors (ウェブ作成者) prepare datasets and upload files; web approvers
(ウェブ承認者) and municipality administrators also publish and unpublish — the same
split as the website's pages. Every change is audited; a change the public can see
moves the website's cache validator.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.opendata.checks import FileRefused, check_file
from machi.opendata.models import (
    Dataset,
    Format,
    Frequency,
    Licence,
    Organization,
    Resource,
    ResourceVersion,
    State,
    Tag,
)
from machi.opendata.types import ResourceIn
from machi.tenancy.context import current_lg_code, current_tenant_alias

__all__ = [
    "OpendataError",
    "ResourceIn",
    "dataset_create",
    "dataset_publish",
    "dataset_state_set",
    "dataset_update",
    "organization_default",
    "resource_upload",
]

EDIT_ROLES = (Role.WEB_AUTHOR, Role.WEB_APPROVER, Role.MUNICIPALITY_ADMIN)
PUBLISH_ROLES = (Role.WEB_APPROVER, Role.MUNICIPALITY_ADMIN)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
# Path segments of the catalogue's own pages (/<lg>/opendata/staff/…, …/staff/standard/).
RESERVED_NAMES = frozenset({"staff", "standard"})
TAG_MAX = 100
TITLE_MAX = 200
NOTES_MAX = 20_000


class OpendataError(ValidationError):
    """Bad input for the catalogue: nothing was changed."""


def _tenant_atomic(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=current_tenant_alias()):
            return function(*args, **kwargs)

    return wrapper


def _now() -> datetime.datetime:
    return timezone.now()


def _require(actor: Any, roles: tuple[str, ...]) -> None:
    municipality = getattr(actor, "municipality", None)
    if (
        municipality is None
        or municipality.lg_code != current_lg_code()
        or not actor.has_role(*roles)
    ):
        raise PermissionDenied(_("この操作をする役割がありません。"))


def _audit(
    action: str, dataset: Dataset, actor: Any | None, terminal: Terminal | None, **detail: Any
) -> None:
    audit_append(
        action=f"opendata.dataset.{action}",
        actor=actor,
        object_type="opendata_dataset",
        object_id=dataset.name,
        function="opendata",
        terminal=terminal,
        detail={"state": dataset.state, **detail},
    )


def _public_changed(now: datetime.datetime) -> None:
    # Dataset pages share the website's validator (machi.site.caching).
    from machi.site.services import site_state_bump

    site_state_bump(now=now)


def organization_default(*, now: datetime.datetime | None = None) -> Organization:
    """The municipality itself as the catalogue's publisher (CKAN's organisation)."""
    from machi.tenancy.selectors import municipality_get

    lg_code = current_lg_code()
    name = f"lg-{lg_code}"
    found = Organization.objects.filter(name=name).first()
    if found is not None:
        return found
    municipality = municipality_get(lg_code=lg_code)
    title = municipality.name if municipality else lg_code
    return Organization.objects.create(
        name=name,
        title=title,
        description=_("%(name)s が公開するオープンデータです。") % {"name": title},
        created_at=now or _now(),
    )


# --- input ------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name) or name in RESERVED_NAMES:
        raise OpendataError(
            {"name": _("識別名は半角英小文字・数字・ハイフン・下線の2〜100文字です。")}
        )
    return name


def _clean_tags(tags: list[str]) -> list[str]:
    seen: list[str] = []
    for raw in tags:
        tag = raw.strip()
        if not tag:
            continue
        if len(tag) > TAG_MAX or any(c in tag for c in ",\n\r\t"):
            raise OpendataError({"tags": _("タグは100文字以内で、カンマや改行を含められません。")})
        if tag not in seen:
            seen.append(tag)
    return seen


def _fields(
    *,
    title: str,
    notes: str,
    frequency: str,
    licence: str,
    department: str,
    contact_name: str,
    contact_email: str,
) -> dict[str, str]:
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title or len(title) > TITLE_MAX:
        errors["title"] = _("タイトルは1〜200文字で入力してください。")
    if len(notes or "") > NOTES_MAX:
        errors["notes"] = _("説明は20,000文字以内です。")
    if frequency not in Frequency.values:
        errors["frequency"] = _("更新頻度を選んでください。")
    if licence not in Licence.values:
        errors["licence"] = _("ライセンスを選んでください。")
    if contact_email:
        from django.core.validators import validate_email

        try:
            validate_email(contact_email)
        except ValidationError:
            errors["contact_email"] = _("メールアドレスの形が正しくありません。")
    if errors:
        raise OpendataError(errors)
    return {
        "title": title,
        "notes": (notes or "").strip(),
        "frequency": frequency,
        "licence": licence,
        "department": (department or "").strip()[:100],
        "contact_name": (contact_name or "").strip()[:200],
        "contact_email": contact_email or "",
    }


def _set_tags(dataset: Dataset, tags: list[str]) -> None:
    objects = [Tag.objects.get_or_create(name=tag)[0] for tag in tags]
    dataset.tags.set(objects)


# --- datasets ---------------------------------------------------------------------------


@_tenant_atomic
def dataset_create(
    *,
    actor: Any,
    name: str,
    title: str,
    notes: str = "",
    tags: list[str] | None = None,
    frequency: str = Frequency.IRREGULAR,
    licence: str = Licence.CC_BY_4,
    department: str = "",
    contact_name: str = "",
    contact_email: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Dataset:
    """A new dataset, as a draft (the public sees it once it is published)."""
    _require(actor, EDIT_ROLES)
    now = now or _now()
    name = _clean_name(name)
    values = _fields(
        title=title,
        notes=notes,
        frequency=frequency,
        licence=licence,
        department=department,
        contact_name=contact_name,
        contact_email=contact_email,
    )
    clean_tags = _clean_tags(tags or [])
    if Dataset.objects.filter(name=name).exists():
        raise OpendataError({"name": _("この識別名のデータセットはすでにあります。")})
    dataset = Dataset.objects.create(
        name=name,
        organization=organization_default(now=now),
        created_at=now,
        modified_at=now,
        **values,
    )
    _set_tags(dataset, clean_tags)
    _audit("created", dataset, actor, terminal)
    return dataset


def _locked(dataset: Dataset) -> Dataset:
    return Dataset.objects.select_for_update().get(pk=dataset.pk)


@_tenant_atomic
def dataset_update(
    *,
    actor: Any,
    dataset: Dataset,
    title: str,
    notes: str,
    tags: list[str],
    frequency: str,
    licence: str,
    department: str = "",
    contact_name: str = "",
    contact_email: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Dataset:
    _require(actor, EDIT_ROLES)
    now = now or _now()
    values = _fields(
        title=title,
        notes=notes,
        frequency=frequency,
        licence=licence,
        department=department,
        contact_name=contact_name,
        contact_email=contact_email,
    )
    clean_tags = _clean_tags(tags)
    dataset = _locked(dataset)
    if dataset.is_mirror:
        raise OpendataError(_("取り込んだデータセットは取得元で更新してください。"))
    for field, value in values.items():
        setattr(dataset, field, value)
    dataset.modified_at = now
    dataset.save()
    _set_tags(dataset, clean_tags)
    _audit("updated", dataset, actor, terminal)
    if dataset.is_published:
        _public_changed(now)
    return dataset


@_tenant_atomic
def dataset_state_set(
    *,
    actor: Any,
    dataset: Dataset,
    publish: bool,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Dataset:
    """Publish (the public catalogue, the CKAN API and DCAT show it) or unpublish."""
    _require(actor, PUBLISH_ROLES)
    now = now or _now()
    dataset = _locked(dataset)
    if publish:
        if not dataset.resources.exists():
            raise OpendataError(_("リソースが1つもないデータセットは公開できません。"))
        dataset.state = State.PUBLISHED
        dataset.published_at = dataset.published_at or now
    else:
        if not dataset.is_published:
            raise OpendataError(_("公開中ではありません。"))
        dataset.state = State.UNPUBLISHED
    dataset.modified_at = now
    dataset.save(update_fields=["state", "published_at", "modified_at"])
    _audit("published" if publish else "unpublished", dataset, actor, terminal)
    _public_changed(now)
    return dataset


# --- resources --------------------------------------------------------------------------


def _version_add(
    resource: Resource, *, content: bytes, format: str, now: datetime.datetime
) -> ResourceVersion | None:
    """A new version of the file, or None when it is the latest one byte for byte."""
    try:
        checked = check_file(format=format, content=content)
    except FileRefused as error:
        raise OpendataError({"file": error.message}) from error
    digest = hashlib.sha256(content).hexdigest()
    latest = resource.versions.order_by("-number").only("number", "sha256").first()
    if latest is not None and latest.sha256 == digest:
        return None
    version = ResourceVersion.objects.create(
        resource=resource,
        number=(latest.number + 1) if latest else 1,
        content=content,
        media_type=checked.media_type,
        size=len(content),
        sha256=digest,
        encoding=checked.encoding,
        rows=checked.rows,
        created_at=now,
    )
    resource.modified_at = now
    resource.save(update_fields=["modified_at"])
    return version


def _resource_for(dataset: Dataset, *, name: str, format: str, now: datetime.datetime) -> Resource:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise OpendataError({"name": _("リソース名は1〜200文字で入力してください。")})
    if format not in Format.values:
        raise OpendataError({"format": _("形式は CSV、JSON、GeoJSON、XLSX のいずれかです。")})
    resource = dataset.resources.filter(name=name).first()
    if resource is None:
        return Resource.objects.create(
            dataset=dataset,
            name=name,
            format=format,
            created_at=now,
            modified_at=now,
            position=dataset.resources.count(),
        )
    if resource.format != format:
        raise OpendataError({"format": _("同じ名前のリソースが別の形式であります。")})
    return resource


@_tenant_atomic
def resource_upload(
    *,
    actor: Any,
    dataset: Dataset,
    name: str,
    format: str,
    content: bytes,
    description: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> ResourceVersion | None:
    """A file for the dataset's resource ``name``: a new version under its stable URL
    (None when identical to the latest version). A refused file changes nothing."""
    _require(actor, EDIT_ROLES)
    now = now or _now()
    dataset = _locked(dataset)
    if dataset.is_mirror:
        raise OpendataError(_("取り込んだデータセットにはファイルを追加できません。"))
    resource = _resource_for(dataset, name=name, format=format, now=now)
    if description:
        resource.description = description.strip()[:2000]
        resource.save(update_fields=["description"])
    version = _version_add(resource, content=content, format=format, now=now)
    if version is not None:
        dataset.modified_at = now
        dataset.save(update_fields=["modified_at"])
        _audit(
            "resource_uploaded",
            dataset,
            actor,
            terminal,
            resource=str(resource.uuid),
            version=version.number,
            sha256=version.sha256,
        )
        if dataset.is_published:
            _public_changed(now)
    return version


@_tenant_atomic
def dataset_publish(
    *,
    slug: str,
    title: str,
    notes: str,
    tags: list[str],
    frequency: str,
    resources: list[ResourceIn],
    now: datetime.datetime | None = None,
) -> Dataset:
    """Publish a dataset that machi generates (自治体標準オープンデータセット): created on
    the first call, its texts and tags brought up to date, each resource a new version
    under its stable URL. Calling again with the same content changes nothing."""
    now = now or _now()
    name = _clean_name(slug)
    values = _fields(
        title=title,
        notes=notes,
        frequency=frequency,
        licence=Licence.CC_BY_4,
        department="",
        contact_name="",
        contact_email="",
    )
    clean_tags = _clean_tags(tags)
    if not resources:
        raise OpendataError(_("リソースが1つもないデータセットは公開できません。"))
    dataset = Dataset.objects.select_for_update().filter(name=name).first()
    created = dataset is None
    if created:
        dataset = Dataset.objects.create(
            name=name,
            organization=organization_default(now=now),
            created_at=now,
            modified_at=now,
            title=values["title"],
            notes=values["notes"],
            frequency=values["frequency"],
        )
    elif dataset.is_mirror:
        raise OpendataError({"name": _("この識別名は取り込んだデータセットが使っています。")})
    changed = (
        created
        or any(
            getattr(dataset, field) != values[field] for field in ("title", "notes", "frequency")
        )
        or sorted(dataset.tags.values_list("name", flat=True)) != sorted(clean_tags)
    )
    versions = []
    for item in resources:
        resource = _resource_for(dataset, name=item.name, format=item.format, now=now)
        version = _version_add(resource, content=item.content, format=item.format, now=now)
        if version is not None:
            versions.append({"resource": str(resource.uuid), "version": version.number})
    if not dataset.is_published:
        changed = True
        dataset.state = State.PUBLISHED
        dataset.published_at = dataset.published_at or now
    if not (changed or versions):
        return dataset
    for field in ("title", "notes", "frequency"):
        setattr(dataset, field, values[field])
    dataset.modified_at = now
    dataset.save()
    _set_tags(dataset, clean_tags)
    _audit("published", dataset, None, None, generated=True, versions=versions)
    _public_changed(now)
    return dataset

"""Writes: a municipality administrator uploads a new version of the catalogue override."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from machi.audit.services import Terminal, audit_append
from machi.procedures.engine import CatalogueError
from machi.procedures.models import CatalogueVersion
from machi.procedures.selectors import catalogue_build
from machi.tenancy.context import current_tenant_alias

MAX_CATALOGUE_BYTES = 1_000_000


def catalogue_validate(*, text: str) -> None:
    """Raise ``ValidationError`` (one message per problem, each naming its entry) unless
    ``text`` is an acceptable override file."""
    if len(text.encode("utf-8")) > MAX_CATALOGUE_BYTES:
        raise ValidationError("目録ファイルが大きすぎます（上限 1 MB）。", code="too_large")
    try:
        catalogue_build(text)
    except CatalogueError as error:
        raise ValidationError(error.errors, code="invalid_catalogue") from None


def catalogue_upload(
    *,
    text: str,
    actor: Any,
    comment: str = "",
    terminal: Terminal | None = None,
) -> CatalogueVersion:
    """Validate ``text`` fully, then save it as the municipality's new active version and
    audit ``catalogue.uploaded``. Nothing is saved when validation fails."""
    text = text.replace("\r\n", "\n")
    catalogue_validate(text=text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        # Lock the versions so that two uploads at once get consecutive numbers.
        # (the unique version number refuses the loser of a race on an empty table).
        latest = (
            CatalogueVersion.objects.select_for_update()
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        ) or 0
        CatalogueVersion.objects.filter(active=True).update(active=False)
        version = CatalogueVersion.objects.create(
            version=latest + 1,
            text=text,
            sha256=digest,
            comment=comment.strip()[:500],
            uploaded_by_id=getattr(actor, "pk", None),
            uploaded_by_username=getattr(actor, "username", "") or "",
            active=True,
        )
        audit_append(
            action="catalogue.uploaded",
            actor=actor,
            object_type="procedure_catalogue",
            object_id=str(version.version),
            function="procedures.catalogue_upload",
            terminal=terminal,
            detail={"version": version.version, "sha256": digest},
        )
    return version

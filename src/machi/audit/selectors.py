"""Reading and verifying the audit logs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from machi.audit.chain import VerifyResult, verify_entries
from machi.audit.models import (
    AuditChainHead,
    AuditEntry,
    PlatformAuditChainHead,
    PlatformAuditEntry,
)
from machi.tenancy.context import current_tenant_alias


def _verify(entry_model, head_model, using: str) -> VerifyResult:
    head = head_model.objects.using(using).filter(pk=1).first()
    entries = entry_model.objects.using(using).order_by("seq").iterator(chunk_size=2000)
    return verify_entries(entries, head_seq=head.last_seq if head else None)


def audit_verify() -> VerifyResult:
    """Recompute the chain of the municipality in force."""
    return _verify(AuditEntry, AuditChainHead, current_tenant_alias())


def platform_audit_verify() -> VerifyResult:
    return _verify(PlatformAuditEntry, PlatformAuditChainHead, "default")


def audit_search(
    *,
    actor: str = "",
    object_id: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries of the municipality in force, newest first, filtered as given."""
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor_username=actor)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if action:
        entries = entries.filter(action__startswith=action)
    tz = timezone.get_current_timezone()
    if date_from:
        entries = entries.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        entries = entries.filter(
            created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        )
    return entries.order_by("-seq")

"""Appending to the outbox. Delivery (pull feed, webhooks) reads what is appended here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from machi.linkage.models import OutboxEvent, OutboxSequence
from machi.tenancy.context import current_lg_code, current_tenant_alias

EVENT_TYPE_PREFIX = "jp.machi."


def outbox_append(
    *,
    type: str,
    subject: str,
    data: dict[str, Any] | None = None,
    time: datetime | None = None,
) -> OutboxEvent:
    """Append one event for the municipality in force, inside the caller's transaction.

    Call it inside the same ``transaction.atomic`` as the change the event describes:
    if the change rolls back, so does the event. ``data`` must be thin (ids, kinds of
    change, dates), never names, addresses or My Numbers.
    """
    if not type.startswith(EVENT_TYPE_PREFIX):
        raise ValueError(f"event types start with {EVENT_TYPE_PREFIX!r}: {type!r}")
    using = current_tenant_alias()
    with transaction.atomic(using=using, savepoint=False):
        counter = OutboxSequence.objects.using(using).select_for_update().filter(pk=1).first()
        if counter is None:
            counter = OutboxSequence.objects.using(using).create(pk=1, last_seq=0)
        seq = counter.last_seq + 1
        OutboxSequence.objects.using(using).filter(pk=1).update(last_seq=seq)
        return OutboxEvent.objects.using(using).create(
            seq=seq,
            type=type,
            source=f"/municipalities/{current_lg_code()}",
            subject=subject,
            time=time or timezone.now(),
            data=data or {},
        )

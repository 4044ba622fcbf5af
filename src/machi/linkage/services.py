"""Appending to the outbox. Delivery (pull feed, webhooks) reads what is appended here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from machi.linkage.events import EVENT_TYPE_PREFIX
from machi.linkage.models import OutboxEvent, OutboxSequence
from machi.tenancy.context import current_lg_code, current_tenant_alias


@dataclass(frozen=True)
class NewEvent:
    """One event to append: see ``outbox_append`` for the meaning of the fields."""

    type: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime | None = None


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
    (event,) = outbox_append_many(
        events=[NewEvent(type=type, subject=subject, data=data or {}, time=time)]
    )
    return event


def outbox_append_many(*, events: list[NewEvent]) -> list[OutboxEvent]:
    """Append several events with consecutive sequence numbers (one lock, one insert)."""
    for event in events:
        if not event.type.startswith(EVENT_TYPE_PREFIX):
            raise ValueError(f"event types start with {EVENT_TYPE_PREFIX!r}: {event.type!r}")
    if not events:
        return []
    using = current_tenant_alias()
    source = f"/municipalities/{current_lg_code()}"
    now = timezone.now()
    with transaction.atomic(using=using, savepoint=False):
        counter = OutboxSequence.objects.using(using).select_for_update().filter(pk=1).first()
        if counter is None:
            counter = OutboxSequence.objects.using(using).create(pk=1, last_seq=0)
        first = counter.last_seq + 1
        OutboxSequence.objects.using(using).filter(pk=1).update(
            last_seq=counter.last_seq + len(events)
        )
        return OutboxEvent.objects.using(using).bulk_create(
            OutboxEvent(
                seq=first + offset,
                type=event.type,
                source=source,
                subject=event.subject,
                time=event.time or now,
                data=event.data,
            )
            for offset, event in enumerate(events)
        )

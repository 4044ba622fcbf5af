"""Reads for webhook subscriptions: health (lag, failures, dead letters) and deliveries.

(The pull feed's reads are in ``selectors.py``.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from machi.linkage.models import (
    Delivery,
    DeliveryStatus,
    OutboxEvent,
    OutboxSequence,
    Subscription,
)


@dataclass(frozen=True)
class SubscriptionHealth:
    id: int
    name: str
    url: str
    types: list[str]
    active: bool
    verified_at: datetime | None
    cursor: int
    outbox_seq: int
    pending: int  # scheduled, not yet delivered (retries included)
    failing: int  # pending deliveries whose last attempt failed
    dead: int  # dead letters (given up; resend to try again)
    unscheduled: int  # matching events after the cursor, not yet scheduled
    lag_events: int  # pending + unscheduled
    lag_seconds: float  # age of the oldest undelivered event (0 when none)
    last_error: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verified_at"] = self.verified_at.isoformat() if self.verified_at else None
        data["lag_seconds"] = round(self.lag_seconds, 3)
        return data


def _types_q(patterns: list[str]) -> Q:
    q = Q()
    for pattern in patterns:
        if pattern.endswith(".*"):
            q |= Q(type__startswith=pattern[:-1])
        else:
            q |= Q(type=pattern)
    return q


def subscriptions_health(
    *, subscriptions: list[Subscription] | None = None
) -> list[SubscriptionHealth]:
    """One row per subscription of the municipality in force (a fixed number of queries,
    plus one per subscription that is behind the outbox or failing)."""
    if subscriptions is None:
        subscriptions = list(Subscription.objects.order_by("pk"))
    if not subscriptions:
        return []
    now = timezone.now()
    outbox_seq = OutboxSequence.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    counts: dict[tuple[int, str], dict[str, Any]] = {
        (row["subscription_id"], row["status"]): row
        for row in Delivery.objects.filter(
            subscription__in=[s.pk for s in subscriptions],
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.DEAD],
        )
        .values("subscription_id", "status")
        .annotate(
            n=Count("id"), failing=Count("id", filter=Q(attempts__gt=0)), oldest=Min("event__time")
        )
        .order_by()
    }
    rows = []
    for sub in subscriptions:
        pending = counts.get((sub.pk, DeliveryStatus.PENDING), {})
        dead = counts.get((sub.pk, DeliveryStatus.DEAD), {})
        oldest = pending.get("oldest")
        unscheduled = 0
        if sub.active and sub.cursor < outbox_seq:
            later = OutboxEvent.objects.filter(seq__gt=sub.cursor).filter(_types_q(sub.types))
            agg = later.aggregate(n=Count("id"), oldest=Min("time"))
            unscheduled = agg["n"]
            if agg["oldest"] and (oldest is None or agg["oldest"] < oldest):
                oldest = agg["oldest"]
        last_error = ""
        if pending.get("failing"):
            last_error = (
                Delivery.objects.filter(
                    subscription=sub, status=DeliveryStatus.PENDING, attempts__gt=0
                )
                .order_by("-last_attempt_at")
                .values_list("last_error", flat=True)
                .first()
                or ""
            )
        lag_events = pending.get("n", 0) + unscheduled
        rows.append(
            SubscriptionHealth(
                id=sub.pk,
                name=sub.name,
                url=sub.url,
                types=list(sub.types),
                active=sub.active,
                verified_at=sub.verified_at,
                cursor=sub.cursor,
                outbox_seq=outbox_seq,
                pending=pending.get("n", 0),
                failing=pending.get("failing", 0),
                dead=dead.get("n", 0),
                unscheduled=unscheduled,
                lag_events=lag_events,
                lag_seconds=max((now - oldest).total_seconds(), 0.0)
                if oldest and lag_events
                else 0.0,
                last_error=last_error,
            )
        )
    return rows


def subscription_get(*, pk: int) -> Subscription | None:
    return Subscription.objects.filter(pk=pk).first()


def subscription_deliveries(
    *, subscription: Subscription, status: str | None = None
) -> QuerySet[Delivery]:
    """A subscription's deliveries, newest first, with their events."""
    rows = Delivery.objects.filter(subscription=subscription).select_related("event")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-seq")


def deliveries_prune_last() -> tuple[datetime, dict[str, Any]] | None:
    """When the municipality's delivery history was last pruned, with the counts."""
    from machi.audit.models import AuditEntry

    row = (
        AuditEntry.objects.filter(action="delivery.pruned")
        .order_by("-seq")
        .values_list("created_at", "detail")
        .first()
    )
    return (row[0], row[1]) if row else None

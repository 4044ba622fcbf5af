"""Reads of announcements: the public lists and feeds, the CAP alerts still valid, the
staff's lists and delivery status."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from machi.announce.models import (
    Announcement,
    Category,
    Channel,
    ChannelDelivery,
    DeliveryState,
    Status,
    Subscriber,
)
from machi.announce.services import BOUSAI

FEED_ITEMS = 50


def public_announcements(*, limit: int = FEED_ITEMS) -> list[Announcement]:
    return list(
        Announcement.objects.filter(status=Status.PUBLISHED).order_by("-published_at", "-pk")[
            :limit
        ]
    )


def public_announcement_get(*, pk: int) -> Announcement | None:
    return Announcement.objects.filter(pk=pk, status=Status.PUBLISHED).first()


def feed_changed_at() -> datetime.datetime | None:
    """When the public list last changed (a publication or a withdrawal)."""
    return Announcement.objects.exclude(status=Status.DRAFT).aggregate(at=Max("updated_at"))["at"]


def feed_version() -> str:
    row = Announcement.objects.exclude(status=Status.DRAFT).aggregate(
        at=Max("updated_at"), n=Count("pk")
    )
    return f"{row['n']}-{row['at'].timestamp() if row['at'] else 0}"


def cap_alerts(*, now: datetime.datetime | None = None) -> QuerySet[Announcement]:
    """防災 announcements still valid: published ones, and withdrawn ones until their
    expiry (their Cancel must reach the consumers); not those a published correction
    replaced (the correction's Update stands for them)."""
    now = now or timezone.now()
    return (
        Announcement.objects.filter(
            category=BOUSAI,
            status__in=[Status.PUBLISHED, Status.WITHDRAWN],
            valid_until__gt=now,
        )
        .exclude(superseded_by__status=Status.PUBLISHED)
        .order_by("-updated_at", "-pk")
    )


def cap_alert_get(*, pk: int) -> Announcement | None:
    return (
        Announcement.objects.filter(pk=pk, category=BOUSAI)
        .exclude(status=Status.DRAFT)
        .select_related("supersedes")
        .first()
    )


def subscription_waiting(*, secret: str, now: datetime.datetime | None = None) -> bool:
    """Whether a confirmation link still names a wish to subscribe."""
    from machi.announce.services import secret_hash

    return Subscriber.objects.filter(
        confirm_hash=secret_hash(secret or ""), confirm_expires_at__gt=now or timezone.now()
    ).exists()


def subscriber_known(*, token: str) -> bool:
    return bool(token) and Subscriber.objects.filter(unsubscribe_token=token).exists()


def categories() -> list[Category]:
    return list(Category.objects.all())


def staff_announcements() -> QuerySet[Announcement]:
    return Announcement.objects.annotate(
        failing=Count(
            "deliveries",
            filter=Q(deliveries__state__in=[DeliveryState.FAILED, DeliveryState.RETRYING]),
        )
    ).order_by("-updated_at", "-pk")


@dataclass(frozen=True)
class ChannelStatus:
    delivery: ChannelDelivery
    label: str
    # ActivityPub: per follower inbox; webhooks: per subscribed system; mail: messages
    # the SMTP server accepted.
    counts: dict[str, int]

    @property
    def state(self) -> str:
        """The row's own state; for the channels another worker delivers further (each
        follower inbox, each webhook subscription), the worst of their states."""
        delivery = self.delivery
        if delivery.channel in RECIPIENT_CHANNELS and delivery.state == DeliveryState.SENT:
            for state in (DeliveryState.FAILED, DeliveryState.RETRYING, DeliveryState.PENDING):
                if self.counts.get(state):
                    return state
        return self.delivery.state

    @property
    def state_label(self) -> str:
        return str(DeliveryState(self.state).label)

    @property
    def count_items(self) -> list[tuple[str, int]]:
        """The non-zero counts with the states' names, for the staff page."""
        return [
            (str(DeliveryState(state).label), n)
            for state, n in self.counts.items()
            if n and state in DeliveryState.values
        ]

    @property
    def may_retry(self) -> bool:
        # Webhooks and ActivityPub retry per recipient on their own workers.
        return self.delivery.state in (DeliveryState.FAILED, DeliveryState.RETRYING)


RECIPIENT_CHANNELS = (Channel.ACTIVITYPUB, Channel.WEBHOOK)


def delivery_status(*, announcement: Announcement) -> list[ChannelStatus]:
    from machi.announce.delivery import note_key

    rows = []
    for delivery in announcement.deliveries.order_by("action", "id"):
        counts: dict[str, Any] = {}
        if delivery.channel == Channel.ACTIVITYPUB and delivery.state == DeliveryState.SENT:
            counts = _note_status(note_key(announcement))
        elif delivery.channel == Channel.WEBHOOK:
            counts = webhook_status(announcement_id=announcement.pk, action=delivery.action)
        elif delivery.channel == Channel.MAIL:
            counts = {"sent": delivery.sent_count}
        label = Channel(delivery.channel).label
        if delivery.action == "withdraw":
            label = f"{label}（取り下げ）"
        rows.append(ChannelStatus(delivery, str(label), counts))
    return rows


def webhook_status(*, announcement_id: int, action: str = "publish") -> dict[str, int]:
    """How the announcement's webhook event stands at the subscribed systems, in the
    states of the other channels: delivered = sent, dead = failed, a pending delivery
    already tried once = retrying."""
    from machi.announce.services import PUBLISHED, WITHDRAWN
    from machi.linkage.models import Delivery, DeliveryStatus

    counts = dict.fromkeys(DeliveryState.values, 0)
    rows = Delivery.objects.filter(
        event__type=WITHDRAWN if action == "withdraw" else PUBLISHED,
        event__subject=str(announcement_id),
    ).values_list("status", "attempts")
    for status, attempts in rows:
        if status == DeliveryStatus.DELIVERED:
            counts[DeliveryState.SENT] += 1
        elif status == DeliveryStatus.DEAD:
            counts[DeliveryState.FAILED] += 1
        elif attempts:
            counts[DeliveryState.RETRYING] += 1
        else:
            counts[DeliveryState.PENDING] += 1
    return {str(state): n for state, n in counts.items()}


def _note_status(object_key: str) -> dict[str, int]:
    try:
        from machi.activitypub.services import note_delivery_status
    except ImportError:
        return {}
    return note_delivery_status(object_key=object_key)

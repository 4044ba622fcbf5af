"""The outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """A CloudEvents 1.0 event, thin: ids, the kind of change and the effective date.

    ``seq`` is per municipality, gapless and in commit order (assigned under a lock),
    so a reader that has seen ``seq`` n has seen everything before it.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=100, db_index=True)
    source = models.CharField(max_length=100)
    subject = models.CharField(max_length=100, blank=True, db_index=True)
    time = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type} {self.subject}"

    def as_cloudevent(self) -> dict[str, object]:
        return {
            "specversion": "1.0",
            "id": str(self.event_id),
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "sequence": self.seq,
            "data": self.data,
        }


class OutboxSequence(models.Model):
    """One row: the last sequence number handed out (locked while appending)."""

    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"outbox #{self.last_seq}"


class Subscription(models.Model):
    """A department system's webhook endpoint: which event types it wants, where.

    ``cursor`` is the outbox ``seq`` up to which deliveries have been scheduled: the
    worker turns every later event that matches ``types`` into a ``Delivery``. A new
    subscription starts at the outbox's end (history is read through the pull feed).
    The secret (``whsec_…``) is stored sealed (``linkage.sealing``), never in clear.
    """

    name = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    types = models.JSONField(default=list, blank=True)
    secret_sealed = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Staff live in the control database: keep their id and username, not a foreign key.
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_username = models.CharField(max_length=150, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by_username = models.CharField(max_length=150, blank=True)
    cursor = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"subscription {self.pk} {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    DEAD = "dead", "dead"


class Delivery(models.Model):
    """One event to one subscription: pending until a 2xx, dead after the last retry.

    ``seq`` and ``subject`` are copied from the event so that the worker's
    "earliest pending event of this subject" check needs no join. ``leased_until`` is
    set while a worker is sending it (another worker leaves it alone until then; after
    a crash it is sent again when the lease runs out: at-least-once).
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    subject = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The retry window (24 hours by default) counts from here; a resend starts it anew.
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="linkage_delivery_once_per_subscription"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="linkage_delivery_due"),
            models.Index(
                fields=["subscription", "subject", "status", "seq"],
                name="linkage_delivery_subject",
            ),
            models.Index(fields=["subscription", "status", "seq"], name="linkage_delivery_list"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} #{self.seq} → {self.subscription_id} ({self.status})"

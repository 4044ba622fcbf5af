"""The outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

import uuid

from django.db import models


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

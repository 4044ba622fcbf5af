"""The municipality's ActivityPub actor: its key pair, followers, outbox and deliveries.

Everything lives in the municipality's own database (one actor per database), so the
followers of one municipality are never in reach of another's requests.
"""

from __future__ import annotations

from django.db import models


class Actor(models.Model):
    """The municipality as ``@{lg_code}@{host}``: one row per tenant database.

    The private key is sealed like the webhook secrets (``machi.linkage.sealing``):
    a copy of the database alone cannot sign in the municipality's name.
    """

    public_key_pem = models.TextField()
    private_key_sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"actor {self.pk}"


class Follower(models.Model):
    """A remote actor that follows the municipality (its Follow was accepted)."""

    actor_id = models.URLField(max_length=2000, unique=True)
    inbox = models.URLField(max_length=2000)
    shared_inbox = models.URLField(max_length=2000, blank=True)
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["accepted_at", "pk"]

    def __str__(self) -> str:
        return self.actor_id


class Following(models.Model):
    """A remote actor the municipality follows (e.g. a neighbouring municipality)."""

    actor_id = models.URLField(max_length=2000, unique=True)
    inbox = models.URLField(max_length=2000)
    follow_activity_id = models.URLField(max_length=2000, unique=True)
    requested_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.actor_id


class Note(models.Model):
    """A Note in the outbox, one per announcement (``object_key``)."""

    object_key = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=2000)
    content = models.JSONField()  # sanitised HTML by language code; "ja" always there
    summary = models.CharField(max_length=500, blank=True)
    published = models.DateTimeField()
    updated = models.DateTimeField(null=True, blank=True)  # the last Update sent
    # Withdrawn: the row stays as the tombstone its URL answers (410 Gone) and so that
    # the same object_key is never published again.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published", "-pk"]

    def __str__(self) -> str:
        return self.object_key


class BlockedServer(models.Model):
    """A remote server the municipality will not deal with (spam, abuse): its inbox
    requests are refused before any key is fetched, and its followers are gone. A block
    covers the host's subdomains too, as Mastodon's domain blocks do."""

    host = models.CharField(max_length=253, unique=True)
    reason = models.CharField(max_length=300, blank=True)
    blocked_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.host


class ReceivedNote(models.Model):
    """A Note delivered to the inbox by an actor the municipality follows."""

    object_id = models.URLField(max_length=2000, unique=True)
    actor_id = models.URLField(max_length=2000)
    content = models.TextField()  # sanitised HTML
    url = models.URLField(max_length=2000, blank=True)
    published = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.object_id


class DeliveryState(models.TextChoices):
    PENDING = "pending", "pending"
    RETRYING = "retrying", "retrying"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class DeliveryKind(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    ACCEPT = "accept", "Accept"
    FOLLOW = "follow", "Follow"
    UNDO = "undo", "Undo"


class Delivery(models.Model):
    """One signed POST of one activity to one inbox (a shared inbox once per host).

    A Note has one ``Create`` and at most one ``Delete`` per inbox; an ``Update`` that
    has not gone out yet gives way to a later one (only the latest version is worth
    sending). The activity is kept as it will be sent; it is signed afresh at every attempt
    (the ``Date`` header must be recent when it arrives).
    """

    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    note = models.ForeignKey(
        Note, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    inbox = models.URLField(max_length=2000)
    activity = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)  # HTTP status
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["note", "kind", "inbox"],
                condition=models.Q(note__isnull=False, kind__in=["create", "delete"]),
                name="activitypub_delivery_note_kind_inbox",
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.inbox} ({self.state})"

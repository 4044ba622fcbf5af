"""引越しワンストップ: moves between two municipalities on the platform.

Both sides live in their own municipality's database and never share a table:

* at the origin (A), an ``OutgoingMove`` is recorded with the move out (転出) when the
  destination is on the platform and the resident consented;
* at the destination (B), a ``MoveReservation`` (転入予約) is created by the relay from
  A's move-out event, carrying the movers' data sealed (AES-256-GCM);
* B's move in from the reservation appends ``jp.machi.move.notified``; the relay then
  finalises A's outgoing move and residents (転出確定).

``RelayCursor`` is how far the relay has read the municipality's own outbox.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from machi.registry.fields import JapaneseDateField


class OutgoingStatus(models.TextChoices):
    RECORDED = "recorded", _("転出先へ送信待ち")
    RESERVED = "reserved", _("転出先で転入予約済み")
    NOTIFIED = "notified", _("転入通知を受信（確認が必要）")
    FINALISED = "finalised", _("転出確定")


class OutgoingMove(models.Model):
    """A move out to another municipality on the platform (at the origin)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    destination_lg_code = models.CharField(_("転出先の自治体コード"), max_length=6)
    destination_name = models.CharField(_("転出先の自治体"), max_length=100)
    destination_address = models.CharField(_("転出先（予定）"), max_length=300)
    moving_on = JapaneseDateField(_("異動日（予定日）"))
    status = models.CharField(
        _("状態"),
        max_length=20,
        choices=OutgoingStatus.choices,
        default=OutgoingStatus.RECORDED,
        db_index=True,
    )
    # The move-out event (first mover's) the relay reacted to: B's idempotency key. It
    # is claimed by the relay (the event may be written after this row, at the end of
    # the filing's batch); only events after ``outbox_seq_floor`` may claim it.
    origin_event_id = models.UUIDField(unique=True, null=True, blank=True)
    outbox_seq_floor = models.PositiveBigIntegerField(default=0)
    consent_staff_id = models.BigIntegerField(null=True, blank=True)
    consent_staff_username = models.CharField(_("同意を確認した職員"), max_length=150)
    consent_at = models.DateTimeField(_("同意の確認日時"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    reservation_id = models.CharField(_("転入予約番号"), max_length=40, blank=True)
    reserved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notification_event_id = models.UUIDField(null=True, blank=True, unique=True)
    moved_in_on = JapaneseDateField(_("転入日"), null=True, blank=True)
    # The address the destination registered (from the 転入通知): kept so that staff can
    # finish a move the registry refused (``outgoing_move_finalise_retry``) without B.
    confirmed_address = models.CharField(_("転出先（確定）"), max_length=300, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(_("確認が必要な点"), max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("転出（引越しワンストップ）")

    def __str__(self) -> str:
        return f"{self.public_id} → {self.destination_lg_code} {self.status}"


class OutgoingMovePerson(models.Model):
    move = models.ForeignKey(OutgoingMove, on_delete=models.CASCADE, related_name="persons")
    atena_number = models.CharField(max_length=20, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["move", "atena_number"], name="moves_person_unique")
        ]

    def __str__(self) -> str:
        return self.atena_number


class ReservationStatus(models.TextChoices):
    OPEN = "open", _("未処理")
    COMPLETED = "completed", _("転入済み")


class MoveReservation(models.Model):
    """転入予約 at the destination: who is coming, from where, sealed at rest.

    ``sealed`` holds the movers' personal data (names, kana, birth dates, sex,
    relationship, previous address, My Numbers) as one AES-256-GCM token; it is opened
    only through the audited selectors. Unique on the origin's event: the relay may
    deliver the same move twice, it is recorded once.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    origin_lg_code = models.CharField(_("転出元の自治体コード"), max_length=6)
    origin_name = models.CharField(_("転出元の自治体"), max_length=100)
    origin_event_id = models.UUIDField()
    origin_move_id = models.UUIDField()
    moving_on = JapaneseDateField(_("異動日（予定日）"))
    person_count = models.PositiveSmallIntegerField(_("人数"))
    sealed = models.TextField()
    consent_at = models.DateTimeField(_("同意の確認日時"))
    consent_staff_username = models.CharField(_("同意を確認した職員（転出元）"), max_length=150)
    status = models.CharField(
        _("状態"),
        max_length=20,
        choices=ReservationStatus.choices,
        default=ReservationStatus.OPEN,
        db_index=True,
    )
    received_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_staff_username = models.CharField(max_length=150, blank=True)
    # After the move in: B's new atena numbers, the visit and the notification (sealed:
    # the new address goes back to the origin through the relay).
    atena_numbers = models.JSONField(default=list, blank=True)
    visit_code = models.CharField(max_length=40, blank=True)
    moved_in_on = JapaneseDateField(_("転入日"), null=True, blank=True)
    notification_sealed = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("転入予約")
        constraints = [
            models.UniqueConstraint(
                fields=["origin_lg_code", "origin_event_id"], name="moves_reservation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ← {self.origin_lg_code} {self.status}"


class RelayCursor(models.Model):
    """One row: the last outbox sequence number the relay has handled here."""

    last_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"relay #{self.last_seq}"

"""Queue tickets (整理券): a number per municipality per day, called to a window.

Tickets hold no personal data: a number, a purpose, a window name and timestamps.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketPurpose(models.TextChoices):
    MOVE = "move", _("転入・転出・転居")
    FAMILY = "family", _("出生・死亡・婚姻など")
    CERTIFICATE = "certificate", _("証明書")
    INSURANCE_PENSION = "insurance_pension", _("国保・年金")
    CHILDCARE = "childcare", _("子育て")
    OTHER = "other", _("その他")


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("お待ち")
    CALLED = "called", _("呼出中")
    SERVING = "serving", _("対応中")
    DONE = "done", _("完了")
    CANCELLED = "cancelled", _("取消")
    NO_SHOW = "no_show", _("不在")


# A ticket at a window: shown on the display board and on that window's console.
AT_WINDOW = (TicketStatus.CALLED, TicketStatus.SERVING)


class TicketDay(models.Model):
    """The last number issued on a day; its row is locked while a ticket is issued."""

    day = models.DateField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last_number}"


class Ticket(models.Model):
    issued_on = models.DateField(_("発券日"))
    number = models.PositiveIntegerField(_("番号"))
    purpose = models.CharField(_("用件"), max_length=20, choices=TicketPurpose.choices)
    counter = models.CharField(_("窓口"), max_length=40, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    issued_at = models.DateTimeField(_("発券時刻"))
    called_at = models.DateTimeField(_("呼出時刻"), null=True, blank=True)  # first call
    last_called_at = models.DateTimeField(null=True, blank=True)  # latest call or recall
    call_count = models.PositiveSmallIntegerField(default=0)
    served_at = models.DateTimeField(_("受付開始時刻"), null=True, blank=True)
    finished_at = models.DateTimeField(_("終了時刻"), null=True, blank=True)
    # Staff live in the control database: their id and a copy of the username, no FK.
    called_by_id = models.BigIntegerField(null=True, blank=True)
    called_by_username = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = _("整理券")
        ordering = ["issued_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["issued_on", "number"], name="counter_ticket_number")
        ]
        indexes = [
            # the oldest waiting ticket, the waiting list and its counts
            models.Index(fields=["issued_on", "status", "number"], name="counter_ticket_queue"),
            # the display board: the latest calls of the day
            models.Index(fields=["issued_on", "last_called_at"], name="counter_ticket_calls"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The ticket's id in audit entries and messages: ``2026-04-06#12``."""
        return f"{self.issued_on.isoformat()}#{self.number}"

"""Counter visits and the department tasks they open.

A visit is one resident's (or household's) trip to the counter for one life event.
Intake runs the navigator; every procedure it lists becomes a ``Task`` routed to a
department. The visit closes when none of its tasks is open or taken any more.

Staff live in the control database, departments too: tasks store the department
*code* and a copy of its display name, staff their id and a copy of the username
(no foreign keys across databases).

``public_code`` is what the resident holds (printed and as a QR code): it opens the
public status page, which shows procedures and their status only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from machi.counter.models.tickets import Ticket


class VisitStatus(models.TextChoices):
    OPEN = "open", _("手続き中")
    CLOSED = "closed", _("完了")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("未着手")
    TAKEN = "taken", _("対応中")
    DONE = "done", _("完了")
    NOT_NEEDED = "not_needed", _("不要")


# A task still waiting for a department (the work queue; the visit stays open).
TASK_PENDING = (TaskStatus.OPEN, TaskStatus.TAKEN)
TASK_ENDED = (TaskStatus.DONE, TaskStatus.NOT_NEEDED)


class NotifierKind(models.TextChoices):
    MEMBER = "member", _("世帯の方")
    AGENT = "agent", _("代理人")


class Visit(models.Model):
    public_code = models.CharField(_("受付番号"), max_length=14, unique=True)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("整理券"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
    )
    event_type = models.CharField(_("異動の種類"), max_length=30)
    event_date = models.DateField(_("異動日"))
    atena_numbers = models.JSONField(_("宛名番号"), default=list, blank=True)
    navigator_input = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.OPEN
    )
    opened_at = models.DateTimeField(_("受付日時"))
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    opened_by_id = models.BigIntegerField(null=True, blank=True)
    opened_by_username = models.CharField(max_length=150, blank=True)
    # 届出人: who came to the counter. A household member is named by the navigator id
    # and atena number (the name prints from the registry, exactly as stored); an agent
    # (代理人) by what the clerk typed. Empty when the filing did not say (older visits,
    # API clients that do not send it): the forms then print blank boxes.
    notifier_kind = models.CharField(
        _("届出人"), max_length=10, choices=NotifierKind.choices, blank=True
    )
    notifier_person = models.CharField(max_length=40, blank=True)  # navigator person id
    notifier_atena = models.CharField(_("届出人の宛名番号"), max_length=20, blank=True)
    notifier_name = models.CharField(_("届出人の氏名"), max_length=100, blank=True)
    notifier_kana = models.CharField(_("届出人のフリガナ"), max_length=100, blank=True)
    notifier_relationship = models.CharField(_("届出人との関係"), max_length=40, blank=True)
    notifier_address = models.CharField(_("届出人の住所"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("来庁受付")
        ordering = ["opened_at", "id"]
        indexes = [
            # the metrics page: the visits of a day
            models.Index(fields=["opened_at"], name="counter_visit_opened"),
        ]

    def __str__(self) -> str:
        return self.public_code


class Task(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("来庁受付"), on_delete=models.CASCADE, related_name="tasks"
    )
    procedure_code = models.CharField(_("手続きコード"), max_length=60)
    title = models.CharField(_("手続き"), max_length=200)
    department = models.CharField(_("担当課"), max_length=40)  # Department.code
    # The department's name when the task was created (for pages that do not reach the
    # control database, like the resident's public status page).
    department_name = models.CharField(_("担当課名"), max_length=100, blank=True)
    person_atena = models.CharField(_("宛名番号"), max_length=20, blank=True)
    person_label = models.CharField(_("対象者"), max_length=40, blank=True)  # navigator id
    # Who files the procedure or receives the benefit when not the person (the
    # navigator's ``filer``: 出産育児一時金 → 世帯主, 葬祭費 → the funeral host).
    filer_label = models.CharField(_("請求者"), max_length=40, blank=True)  # navigator id
    filer_atena = models.CharField(_("請求者の宛名番号"), max_length=20, blank=True)
    due = models.DateField(_("期限"), null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    forms = models.JSONField(_("様式"), default=list, blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    taken_by_id = models.BigIntegerField(null=True, blank=True)
    taken_by_username = models.CharField(_("担当者"), max_length=150, blank=True)
    taken_at = models.DateTimeField(_("着手日時"), null=True, blank=True)
    completed_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    not_needed_reason = models.TextField(_("不要の理由"), blank=True)
    created_at = models.DateTimeField(_("作成日時"))

    class Meta:
        verbose_name = _("担当課の手続き")
        ordering = ["created_at", "id"]
        indexes = [
            # a department's work queue, oldest first; open tasks per department
            models.Index(fields=["department", "status", "created_at"], name="counter_task_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.procedure_code}"

    @property
    def pending(self) -> bool:
        return self.status in TASK_PENDING

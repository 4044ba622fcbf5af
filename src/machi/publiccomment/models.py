"""パブリックコメント (意見公募手続): a department's draft, its documents and period, the
comments submitted on it, the staff's groups (意見の概要) with the municipality's view
(市の考え方), and the history of its phases.

The phase is not stored: it follows from the clock and two dates (``published_at``,
``result_published_at``) and the period (``starts_at`` ≤ now < ``ends_at``), so a
consultation closes at the end of its period without a periodic task.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class Phase(models.TextChoices):
    DRAFT = "draft", _("準備中")
    SCHEDULED = "scheduled", _("募集開始前")
    OPEN = "open", _("意見募集中")
    CLOSED = "closed", _("募集終了")
    RESULT = "result", _("結果公示")


class IdentityRule(models.TextChoices):
    """The municipality's rule for this consultation: name and address required or not."""

    REQUIRED = "required", _("氏名・住所は必須")
    OPTIONAL = "optional", _("氏名・住所は任意")


class Consultation(models.Model):
    title = models.CharField(_("案件名"), max_length=200)
    summary = models.TextField(_("案の概要"), max_length=4000)
    department = models.CharField(_("担当課コード"), max_length=40)
    department_name = models.CharField(_("担当課"), max_length=100)
    starts_at = models.DateTimeField(_("募集開始"))
    ends_at = models.DateTimeField(_("募集終了（この時刻から受け付けない）"))
    short_period_reason = models.TextField(_("30日未満とする理由"), blank=True, max_length=1000)
    identity_rule = models.CharField(
        _("氏名・住所"), max_length=10, choices=IdentityRule.choices, default=IdentityRule.OPTIONAL
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    result_published_at = models.DateTimeField(null=True, blank=True)
    result_note = models.TextField(_("結果の補足"), blank=True, max_length=4000)
    draft_changed = models.BooleanField(_("案を修正した"), default=False)
    comment_count = models.PositiveIntegerField(default=0)  # next receipt's sequence - 1

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["department", "-starts_at"])]

    def __str__(self) -> str:
        return self.title

    def phase_at(self, now: datetime.datetime) -> str:
        if self.published_at is None:
            return Phase.DRAFT
        if self.result_published_at is not None:
            return Phase.RESULT
        if now < self.starts_at:
            return Phase.SCHEDULED
        if now < self.ends_at:
            return Phase.OPEN
        return Phase.CLOSED

    @property
    def last_day(self) -> datetime.date:
        """The period's last day (締切日) in local time: ``ends_at`` is the next midnight."""
        from django.utils import timezone

        return timezone.localtime(self.ends_at - datetime.timedelta(microseconds=1)).date()

    @property
    def first_day(self) -> datetime.date:
        from django.utils import timezone

        return timezone.localtime(self.starts_at).date()


class Document(models.Model):
    """A PDF of the draft (案本文, 資料). Stored in the tenant database, like the rest."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(_("資料名"), max_length=200)
    filename = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class CommentGroup(models.Model):
    """意見の概要: one staff-written summary of similar comments and the view on it."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="groups")
    position = models.PositiveIntegerField(default=0)
    summary = models.TextField(_("意見の概要"), max_length=4000)
    view = models.TextField(_("市の考え方"), blank=True, max_length=4000)
    draft_changed = models.BooleanField(_("案の修正"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.summary[:30]}"


class Comment(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="comments"
    )
    sequence = models.PositiveIntegerField()
    receipt_number = models.CharField(max_length=20, unique=True)
    body = models.TextField(max_length=8000)
    # Personal data: shown to staff of the department only, never on a public page.
    name = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=200, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=50, blank=True)
    attachment = models.BinaryField(null=True, blank=True)
    group = models.ForeignKey(
        CommentGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "sequence"], name="publiccomment_comment_sequence"
            )
        ]

    def __str__(self) -> str:
        return self.receipt_number

"""The access-log analyses' parameters, findings and user-day scores (tenant database).

Staff live in the control database: a finding names its user by id and a copy of the
username (no foreign key), like the audit log itself.
"""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Analysis(models.TextChoices):
    OFF_HOURS = "off_hours", _("勤務時間外のアクセス")
    MASS_ACCESS = "mass_access", _("大量アクセス")
    NO_REASON = "no_reason", _("業務上の理由がないアクセス")
    ACCOUNT = "account", _("無効なアカウント・共用端末")
    FAILED_LOGIN = "failed_login", _("ログイン・二要素認証の失敗の繰り返し")
    ANOMALY = "anomaly", _("いつもと違う使い方（スコア）")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("未確認")
    EXPLAINED = "explained", _("説明済み")
    ESCALATED = "escalated", _("報告（エスカレーション）")


def _pos(low: int = 1, high: int = 100_000) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


class AccessLogSettings(models.Model):
    """The municipality's parameters (one row, pk=1; the defaults when it is missing)."""

    work_start = models.TimeField(_("勤務時間の始まり"), default=dt.time(7, 30))
    work_end = models.TimeField(_("勤務時間の終わり"), default=dt.time(20, 0))
    # Dates the office is closed besides weekends, national holidays and 12/29–1/3.
    extra_closed_days = models.JSONField(_("独自の閉庁日"), default=list, blank=True)
    mass_residents = models.PositiveIntegerField(
        _("大量アクセス：住民の数"), default=30, validators=_pos()
    )
    mass_minutes = models.PositiveIntegerField(
        _("大量アクセス：分数"), default=10, validators=_pos(1, 1440)
    )
    mass_daily = models.PositiveIntegerField(
        _("大量アクセス：1日の住民の数"), default=300, validators=_pos()
    )
    reason_window_hours = models.PositiveIntegerField(
        _("業務上の理由：前後の時間"), default=24, validators=_pos(1, 24 * 31)
    )
    no_reason_min = models.PositiveIntegerField(
        _("業務上の理由がない住民の数（1日）"), default=1, validators=_pos()
    )
    shared_minutes = models.PositiveIntegerField(
        _("共用の判定：分数"), default=10, validators=_pos(1, 1440)
    )
    shared_terminal_users = models.PositiveIntegerField(
        _("共用端末：職員の数"), default=3, validators=_pos(2, 1000)
    )
    failed_logins = models.PositiveIntegerField(
        _("ログイン失敗の回数（1日）"), default=5, validators=_pos()
    )
    mfa_failures = models.PositiveIntegerField(
        _("二要素認証の失敗の回数（1日）"), default=3, validators=_pos()
    )
    history_days = models.PositiveIntegerField(
        _("スコアに使う過去の日数"), default=28, validators=_pos(7, 366)
    )
    # A user-day whose score reaches this goes to the queue even when no analysis hit.
    queue_min_score = models.FloatField(_("スコアだけで確認待ちに載せる値"), default=10.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("不正アクセス検知の設定")

    def __str__(self) -> str:
        return "accesslog settings"


class Finding(models.Model):
    """One analysis's hit on one user (or terminal) and one day, for the officer's review."""

    analysis = models.CharField(_("分析"), max_length=20, choices=Analysis.choices)
    day = models.DateField(_("日付"))
    actor_id = models.BigIntegerField(_("職員ID"), null=True, blank=True)
    actor_username = models.CharField(_("職員"), max_length=150, blank=True)
    # What the finding is about when it is no staff member: a terminal's IP address.
    subject = models.CharField(_("対象"), max_length=150, blank=True)
    count = models.PositiveIntegerField(_("件数"), default=0)
    score = models.FloatField(_("スコア"), default=0.0)
    reasons = models.JSONField(_("理由"), default=dict, blank=True)
    # The audit entries behind the finding (their seq numbers, at most EVIDENCE_LIMIT).
    evidence = models.JSONField(_("根拠の記録"), default=list, blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    reviewer_id = models.BigIntegerField(null=True, blank=True)
    reviewer_username = models.CharField(_("確認者"), max_length=150, blank=True)
    note = models.TextField(_("所見"), blank=True)
    reviewed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("検知日時"))

    class Meta:
        verbose_name = _("検知結果")
        ordering = ["-score", "day", "id"]
        indexes = [
            models.Index(fields=["status", "score"], name="accesslog_finding_queue"),
            models.Index(fields=["day", "analysis"], name="accesslog_finding_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.analysis} {self.actor_username or self.subject}"

    @property
    def who(self) -> str:
        return self.actor_username or self.subject


class UserDay(models.Model):
    """A staff member's anomaly score for one day, with the features that raised it."""

    day = models.DateField(_("日付"))
    actor_id = models.BigIntegerField(_("職員ID"))
    actor_username = models.CharField(_("職員"), max_length=150, blank=True)
    score = models.FloatField(_("スコア"))
    features = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("職員・日ごとのスコア")
        constraints = [
            models.UniqueConstraint(fields=["day", "actor_id"], name="accesslog_userday_unique")
        ]
        indexes = [models.Index(fields=["day", "score"], name="accesslog_userday_score")]

    def __str__(self) -> str:
        return f"{self.day} {self.actor_username}: {self.score:.1f}"

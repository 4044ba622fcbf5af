"""Local events (地域イベント): residents' groups and the municipality post events to a
moderated calendar.

A resident's event comes through the public form with the group's mail address; it waits
(審査待ち) until the address is confirmed by the link in the mail and a moderator
approves it. Staff post official events, public at once. Text is kept per language code
(``ja`` required, ``ja-easy`` and ``en`` optional). Dates and times are wall-clock times
in Asia/Tokyo: the calendar, the iCalendar feeds and the イベント一覧 dataset all speak in
local dates and times, so none has to convert.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("ja", "ja-easy", "en")


class Status(models.TextChoices):
    PENDING = "pending", _("審査待ち")
    PUBLISHED = "published", _("公開")
    HIDDEN = "hidden", _("非公開")
    CANCELLED = "cancelled", _("中止")


class Category(models.Model):
    code = models.SlugField(_("分類コード"), max_length=40, unique=True)
    name = models.JSONField(_("分類名"), default=dict)  # language code → name
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("イベントの分類")

    def __str__(self) -> str:
        return self.name.get("ja", self.code)

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name.get("ja", self.code)


class CalendarSettings(models.Model):
    """One row per municipality (its own database): the moderation threshold."""

    report_threshold = models.PositiveSmallIntegerField(_("自動非公開の通報数"), default=3)

    def __str__(self) -> str:
        return f"threshold {self.report_threshold}"

    @classmethod
    def current(cls) -> CalendarSettings:
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings


class Organiser(models.Model):
    """A residents' group that submitted events, known by its mail address (never public)."""

    name = models.CharField(_("団体名"), max_length=100)
    email = models.EmailField(_("メールアドレス"), unique=True)  # lower-cased
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True)  # iCalendar UID
    official = models.BooleanField(_("自治体の行事"), default=False)
    organiser = models.ForeignKey(
        Organiser, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    organiser_name = models.CharField(_("主催者"), max_length=100)
    title = models.JSONField(_("イベント名"), default=dict)  # language code → text
    title_kana = models.CharField(_("イベント名（カナ）"), max_length=200, blank=True)
    description = models.JSONField(_("説明"), default=dict)
    starts_on = models.DateField(_("開始日"))
    ends_on = models.DateField(_("終了日"))
    # Both empty: all day (終日). Wall-clock times in Asia/Tokyo.
    start_time = models.TimeField(_("開始時間"), null=True, blank=True)
    end_time = models.TimeField(_("終了時間"), null=True, blank=True)
    place_name = models.CharField(_("場所名称"), max_length=100)
    address = models.CharField(_("住所"), max_length=200, blank=True)
    lat = models.DecimalField(_("緯度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("経度"), max_digits=9, decimal_places=6, null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="events")
    fee_yen = models.PositiveIntegerField(_("料金（円）"), default=0)  # 0: 無料
    fee_note = models.CharField(_("料金の詳細"), max_length=200, blank=True)
    contact_name = models.CharField(_("連絡先名称"), max_length=100, blank=True)
    contact_phone = models.CharField(_("連絡先電話番号"), max_length=30, blank=True)
    contact_public = models.BooleanField(_("連絡先を公開する"), default=False)
    url = models.URLField(_("URL"), blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    # A resident's event: the SHA-256 of the confirmation link's secret, and when the
    # organiser followed it (only confirmed events reach the moderators' queue).
    confirm_token_hash = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every edit: the organiser's edit link names the version it may change.
    sequence = models.PositiveIntegerField(default=0)  # also iCalendar SEQUENCE
    status_reason = models.CharField(_("理由"), max_length=500, blank=True)
    # Hidden by the report threshold rather than by a moderator.
    auto_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_on", "start_time", "id"]
        indexes = [models.Index(fields=["status", "starts_on"], name="localevents_status_day")]

    def __str__(self) -> str:
        return self.title.get("ja", "")

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        from machi.tenancy.context import current_lg_code

        return reverse("localevents:event", args=[current_lg_code(), self.pk])

    @property
    def all_day(self) -> bool:
        return self.start_time is None

    @property
    def is_listed(self) -> bool:
        return self.status in (Status.PUBLISHED, Status.CANCELLED)

    @property
    def in_queue(self) -> bool:
        return self.status == Status.PENDING and (self.official or self.confirmed_at is not None)

    def text(self, field: str, language: str) -> tuple[str, str]:
        """The text in ``language``, else the Japanese; with the language it is in."""
        values = getattr(self, field)
        if values.get(language):
            return values[language], language
        return values.get("ja", ""), "ja"


class Report(models.Model):
    """A public report; ``reporter_key`` is an HMAC of the reporter's address, so three
    reports from one address count once."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("宣伝・スパム")
        WRONG = "wrong", _("内容が誤っている")
        OFFENSIVE = "offensive", _("不適切な内容")
        OTHER = "other", _("その他")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reports")
    reporter_key = models.CharField(max_length=64)
    reason = models.CharField(_("理由"), max_length=12, choices=Reason.choices)
    text = models.CharField(_("詳しく"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Cleared by a moderator's decision: a restored event needs new reports to hide again.
    resolved = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "reporter_key"], name="localevents_report_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.reason}"


class Action(models.Model):
    """What happened to an event, by whom and why (moderation history shown to staff)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("投稿")
        CONFIRMED = "confirmed", _("メール確認")
        EDITED = "edited", _("編集")
        APPROVED = "approved", _("承認")
        REJECTED = "rejected", _("差し戻し")
        HIDDEN = "hidden", _("非公開")
        AUTO_HIDDEN = "auto_hidden", _("通報による自動非公開")
        RESTORED = "restored", _("再公開")
        CANCELLED = "cancelled", _("中止")
        PUBLISHED = "published", _("公開（自治体）")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    staff_id = models.IntegerField(null=True, blank=True)
    staff_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.kind}"

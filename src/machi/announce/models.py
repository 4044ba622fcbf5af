"""One announcement, written once (Japanese required, やさしい日本語 and English
optional), and one delivery row per channel it goes out on."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("ja", "ja-easy", "en")


class Status(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PUBLISHED = "published", _("公開中")
    WITHDRAWN = "withdrawn", _("取り下げ")


class Urgency(models.TextChoices):
    """CAP 1.2 ``urgency``."""

    IMMEDIATE = "Immediate", _("直ちに")
    EXPECTED = "Expected", _("近いうちに")
    FUTURE = "Future", _("将来")
    PAST = "Past", _("終了")
    UNKNOWN = "Unknown", _("不明")


class Severity(models.TextChoices):
    """CAP 1.2 ``severity``."""

    EXTREME = "Extreme", _("極めて重大")
    SEVERE = "Severe", _("重大")
    MODERATE = "Moderate", _("中程度")
    MINOR = "Minor", _("軽微")
    UNKNOWN = "Unknown", _("不明")


class Certainty(models.TextChoices):
    """CAP 1.2 ``certainty``."""

    OBSERVED = "Observed", _("発生中")
    LIKELY = "Likely", _("可能性が高い")
    POSSIBLE = "Possible", _("可能性がある")
    UNLIKELY = "Unlikely", _("可能性は低い")
    UNKNOWN = "Unknown", _("不明")


class Category(models.Model):
    """The municipality's categories of announcements (seeded with the defaults)."""

    code = models.SlugField(_("分類コード"), max_length=40, unique=True)
    name = models.JSONField(_("分類名"), default=dict)  # language code → name
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name.get("ja") or self.code

    def label(self, language: str) -> str:
        return self.name.get(language) or self.name.get("ja") or self.code


class Announcement(models.Model):
    title = models.JSONField(_("件名"), default=dict)  # language code → text
    body = models.JSONField(_("本文"), default=dict)  # language code → Markdown
    category = models.SlugField(_("分類"), max_length=40)
    urgency = models.CharField(
        _("緊急度"), max_length=10, choices=Urgency.choices, default=Urgency.UNKNOWN
    )
    severity = models.CharField(
        _("深刻度"), max_length=10, choices=Severity.choices, default=Severity.UNKNOWN
    )
    certainty = models.CharField(
        _("確度"), max_length=10, choices=Certainty.choices, default=Certainty.LIKELY
    )
    # The area: a name, and a polygon or a circle in CAP's notation (WGS 84
    # "lat,lon lat,lon …" closed ring; "lat,lon radius_km"); neither: the whole
    # municipality (its 全国地方公共団体コード is always the geocode).
    area_name = models.CharField(_("対象地域"), max_length=200, blank=True)
    area_polygon = models.TextField(_("対象地域（多角形）"), blank=True)
    area_circle = models.CharField(_("対象地域（円）"), max_length=100, blank=True)
    valid_until = models.DateTimeField(_("有効期限"), null=True, blank=True)
    # A correction: CAP msgType Update, referencing the announcement it replaces.
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Staff live in the control database: their ids and usernames, no foreign key.
    created_by_id = models.BigIntegerField(null=True)
    published_by_id = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "published_at"], name="announce_status_pub")]

    def __str__(self) -> str:
        return self.title.get("ja", "")

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        from machi.tenancy.context import current_lg_code

        return reverse("announce:public_detail", args=[current_lg_code(), self.pk])

    @property
    def languages(self) -> list[str]:
        return [code for code in LANGUAGES if self.title.get(code)]


class Channel(models.TextChoices):
    NEWS = "news", _("ウェブサイトのお知らせ")
    FEEDS = "feeds", _("RSS・Atom")
    MAIL = "mail", _("メール配信")
    WEBHOOK = "webhook", _("Webhook")
    ACTIVITYPUB = "activitypub", _("ActivityPub")
    CAP = "cap", _("CAP（防災情報）")


class Action(models.TextChoices):
    PUBLISH = "publish", _("公開")
    WITHDRAW = "withdraw", _("取り下げ")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("未送信")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("失敗")
    RETRYING = "retrying", _("再試行中")


class ChannelDelivery(models.Model):
    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=12, choices=Channel.choices)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.PUBLISH)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # The kind of failure only (an exception's class and the server's reply code): never
    # an address or a name.
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Mail: the last subscriber (by id) a batch reached, so a retry resumes after it;
    # ``sent_count`` messages accepted by the SMTP server so far.
    cursor = models.BigIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["announcement", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "channel", "action"], name="announce_delivery_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="announce_due")]

    def __str__(self) -> str:
        return f"{self.announcement_id}:{self.channel}:{self.action}:{self.state}"


class Subscriber(models.Model):
    """A mail address that asked for announcements of some categories. Pending changes
    wait for the confirmation link; unsubscribing deletes the row."""

    email = models.EmailField(max_length=254, unique=True)
    # ",bousai,kurashi,": a substring test selects subscribers of a category on every
    # database (SQLite has no JSON containment).
    categories = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=10, default="ja")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    pending_categories = models.CharField(max_length=500, blank=True)
    pending_language = models.CharField(max_length=10, blank=True)
    confirm_hash = models.CharField(max_length=64, blank=True, db_index=True)
    confirm_expires_at = models.DateTimeField(null=True, blank=True)
    unsubscribe_token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["confirmed_at", "id"], name="announce_sub_confirmed")]

    def __str__(self) -> str:
        return f"subscriber {self.pk}"

    @property
    def category_codes(self) -> list[str]:
        return [code for code in self.categories.split(",") if code]

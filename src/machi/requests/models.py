"""Residents' requests, reports and opinions (要望・通報・意見), routed to departments.

A ``Category`` is an Open311 *service*; its ``CategoryAttribute`` rows are the service
definition's typed extra questions. ``Area`` rows are the municipality's 町丁目 or
uploaded polygons; ``RoutingRule`` rows send category × area to a department. A
``Request`` always has an owner: a department, or the triage queue (``department`` is
empty and ``routing`` is ``triage``). Its history is ``RequestUpdate`` rows (status
changes, answers, re-routings), public or internal.

Departments and staff live in the control database: requests store the department
*code* with a copy of its name, staff their id and a copy of the username (no foreign
keys across databases). The reporter's contact details sit in ``RequestReporter``,
apart from the request, and no public output (Open311, public pages) reads that model.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AttributeType(models.TextChoices):
    # Open311's datatypes, except ``date`` (a calendar day; Open311 says ``datetime``).
    STRING = "string", _("短い文字列")
    TEXT = "text", _("文章")
    NUMBER = "number", _("数値")
    DATE = "date", _("日付")
    SINGLE = "singlevaluelist", _("選択（1つ）")
    MULTIPLE = "multivaluelist", _("選択（複数）")


class Category(models.Model):
    code = models.SlugField(_("分類コード"), max_length=40, unique=True)  # Open311 service_code
    name = models.CharField(_("分類名"), max_length=100)
    description = models.TextField(_("説明"), blank=True)
    group = models.CharField(_("グループ"), max_length=100, blank=True)
    keywords = models.CharField(_("キーワード"), max_length=200, blank=True)
    # The department that owns the category where no routing rule says otherwise.
    department = models.CharField(_("担当課"), max_length=40, blank=True)  # Department.code
    public_by_default = models.BooleanField(_("公開（既定）"), default=True)
    expected_response_days = models.PositiveSmallIntegerField(_("回答の目安（日）"), default=14)
    is_active = models.BooleanField(_("受付中"), default=True)
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("要望の分類")

    def __str__(self) -> str:
        return self.name


class CategoryAttribute(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField(_("項目コード"), max_length=40)
    description = models.CharField(_("質問"), max_length=200)
    datatype = models.CharField(_("種類"), max_length=20, choices=AttributeType.choices)
    required = models.BooleanField(_("必須"), default=False)
    # [{"key": "...", "name": "..."}] for the list types.
    values = models.JSONField(_("選択肢"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="requests_attribute_code")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}:{self.code}"


class AreaKind(models.TextChoices):
    CHOME = "chome", _("町丁目")
    POLYGON = "polygon", _("区域（GeoJSON）")


class Area(models.Model):
    name = models.CharField(_("区域名"), max_length=100)
    kind = models.CharField(_("種類"), max_length=10, choices=AreaKind.choices)
    # GeoJSON Polygon / MultiPolygon (longitude, latitude); a 町丁目 without a shape is
    # found by its name in the address only.
    geometry = models.TextField(_("区域（GeoJSON）"), blank=True)
    # Planar size in square degrees: only compared between areas (smallest wins).
    size = models.FloatField(default=0.0)
    # An area only for one category (e.g. a park's grounds); null: every category.
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="areas"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("区域")

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Category × area → department; a null side matches any."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="rules"
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="rules"
    )
    department = models.CharField(_("担当課"), max_length=40)

    def __str__(self) -> str:
        return f"{self.category_id or '*'} × {self.area_id or '*'} → {self.department}"

    # One rule per (category, area) pair, nulls included: routing_rule_set keeps it so
    # (a database constraint would not see two NULLs as equal on SQLite).


class Status(models.TextChoices):
    # mySociety's extended states (Open311 FMS "Additional states").
    OPEN = "open", _("受付")
    INVESTIGATING = "investigating", _("確認中")
    IN_PROGRESS = "in_progress", _("対応中")
    ACTION_SCHEDULED = "action_scheduled", _("対応予定")
    FIXED = "fixed", _("完了")
    CLOSED = "closed", _("終了")
    NO_FURTHER_ACTION = "no_further_action", _("対応不可")
    NOT_COUNCILS_RESPONSIBILITY = "not_councils_responsibility", _("他機関の所管")
    INTERNAL_REFERRAL = "internal_referral", _("他機関へ引継ぎ")
    DUPLICATE = "duplicate", _("重複")


# Open311 GeoReport v2 knows only open and closed.
OPEN_STATUSES = frozenset(
    {Status.OPEN, Status.INVESTIGATING, Status.IN_PROGRESS, Status.ACTION_SCHEDULED}
)


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


class Routing(models.TextChoices):
    RULE = "rule", _("振り分け規則")
    CATEGORY = "category", _("分類の担当課")
    TRIAGE = "triage", _("振り分け待ち")
    MANUAL = "manual", _("職員による振り替え")


class Channel(models.TextChoices):
    WEB = "web", _("ウェブ")
    OPEN311 = "open311", _("Open311")
    PHONE = "phone", _("電話")
    COUNTER = "counter", _("窓口")


class Request(models.Model):
    public_code = models.CharField(_("受付番号"), max_length=14, unique=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True)  # Open311 tokens/{token}
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="requests")
    description = models.TextField(_("内容"), blank=True)
    attribute_values = models.JSONField(_("追加の回答"), default=dict, blank=True)
    lat = models.DecimalField(_("緯度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("経度"), max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("場所（住所）"), max_length=200, blank=True)
    media_url = models.URLField(_("画像のURL"), max_length=500, blank=True)
    area = models.ForeignKey(
        Area, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    department = models.CharField(_("担当課"), max_length=40, blank=True)  # "": triage
    department_name = models.CharField(_("担当課名"), max_length=100, blank=True)
    routing = models.CharField(_("振り分け"), max_length=10, choices=Routing.choices)
    status = models.CharField(_("状態"), max_length=30, choices=Status.choices, default=Status.OPEN)
    is_public = models.BooleanField(_("公開"), default=True)
    hidden_at = models.DateTimeField(_("非公開にした日時"), null=True, blank=True)
    hidden_reason = models.CharField(_("非公開の理由"), max_length=200, blank=True)
    hidden_by_username = models.CharField(max_length=150, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    channel = models.CharField(_("受付経路"), max_length=10, choices=Channel.choices)
    api_client_id = models.BigIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(_("受付日時"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新日時"), default=timezone.now)
    expected_at = models.DateTimeField(_("回答の目安"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("要望")
        indexes = [
            # a department's queue; the triage queue is department ""
            models.Index(fields=["department", "status", "requested_at"], name="requests_queue"),
            # Open311 GET requests: newest first within a date range
            models.Index(fields=["requested_at", "id"], name="requests_requested"),
        ]

    def __str__(self) -> str:
        return self.public_code

    @property
    def service_request_id(self) -> str:
        return str(self.pk)

    @property
    def is_listed(self) -> bool:
        """Shown on public pages and Open311 (the reporter's wish and moderation)."""
        return self.is_public and self.hidden_at is None


class RequestReporter(models.Model):
    """Who filed it, kept apart: never read by public output, never logged."""

    request = models.OneToOneField(Request, on_delete=models.CASCADE, related_name="reporter")
    email = models.EmailField(_("メールアドレス"), blank=True)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the confirmation link's secret (the secret goes out in the mail only).
    confirm_token_hash = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"reporter of {self.request_id}"  # never the person


class UpdateKind(models.TextChoices):
    CREATED = "created", _("受付")
    STATUS = "status", _("状態の変更")
    ANSWER = "answer", _("回答")
    REROUTE = "reroute", _("担当課の振り替え")
    MERGE = "merge", _("重複の統合")
    HIDDEN = "hidden", _("非公開")


class RequestUpdate(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(_("種類"), max_length=10, choices=UpdateKind.choices)
    status = models.CharField(_("状態"), max_length=30, choices=Status.choices)  # after it
    previous_status = models.CharField(max_length=30, blank=True)
    text = models.TextField(_("本文"), blank=True)
    is_public = models.BooleanField(_("公開"), default=True)
    department = models.CharField(max_length=40, blank=True)
    previous_department = models.CharField(max_length=40, blank=True)
    staff_id = models.BigIntegerField(null=True, blank=True)
    staff_username = models.CharField(_("職員"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # mySociety's servicerequestupdates: public updates in a date range
            models.Index(fields=["is_public", "created_at"], name="requests_update_time"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.status}"


class ResponseTemplate(models.Model):
    """A stock answer staff start from (定型文); a category narrows where it is offered."""

    title = models.CharField(_("件名"), max_length=100)
    body = models.TextField(_("本文"))
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="templates"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("回答の定型文")

    def __str__(self) -> str:
        return self.title


class RequestPhoto(models.Model):
    """A resident's photo, re-encoded (no EXIF) by machi.requests.photos before storage.

    The file lives under the municipality's own media folder (``photos.storage()``)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=300)  # name in the municipality's storage
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of {self.request_id}"


class BlockedAddress(models.Model):
    """A mail address that may not file requests (abuse); compared lower-cased."""

    email = models.EmailField(_("メールアドレス"), unique=True)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        verbose_name = _("受付を止めたメールアドレス")

    def __str__(self) -> str:
        return self.email

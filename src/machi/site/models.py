"""The municipality's website: a tree of pages, news items, their versions, images and
PDF attachments.

Text is kept per language as a dict keyed by language code (``"ja"`` required,
``"ja-easy"`` and ``"en"`` optional); bodies are Markdown, rendered and sanitised on
output (:mod:`machi.site.markup`), never stored as HTML.

Every save of a page or a news item is a :class:`Version`. The public sees the
version an approver approved (``live_version``); a newer version may be a draft or
wait for approval meanwhile. ``status`` is the item's public state.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

LANGUAGE_CODES = ("ja", "ja-easy", "en")


class Status(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PENDING = "pending", _("承認待ち")
    SCHEDULED = "scheduled", _("公開予約")
    PUBLISHED = "published", _("公開")
    ENDED = "ended", _("公開終了")


class VersionState(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PENDING = "pending", _("承認待ち")
    APPROVED = "approved", _("承認済み")
    REJECTED = "rejected", _("差し戻し")


class NewsCategory(models.TextChoices):
    KURASHI = "kurashi", _("くらし・手続き")
    KOSODATE = "kosodate", _("子育て")
    BOSAI = "bosai", _("防災")
    KENKO = "kenko", _("健康・福祉")
    EVENT = "event", _("イベント")
    SHISEI = "shisei", _("市政情報")


class Publishable(models.Model):
    """What a page and a news item share: the live text, the state and the schedule."""

    title = models.JSONField(default=dict)  # live title per language (copied on approval)
    body = models.JSONField(default=dict)  # live Markdown per language
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(_("公開日時"), null=True, blank=True)
    unpublish_at = models.DateTimeField(_("公開終了日時"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)  # first went public
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()  # the last change the public can see
    # Search terms (machi.contact.search) of the live Japanese text.
    search_title = models.TextField(default="", blank=True)
    search_body = models.TextField(default="", blank=True)
    search_readings = models.TextField(default="", blank=True)

    class Meta:
        abstract = True

    def text(self, field: str, language: str) -> tuple[str, str]:
        """(text, language it is in): the language asked for, or the Japanese."""
        values = getattr(self, field) or {}
        if values.get(language):
            return values[language], language
        return values.get("ja", ""), "ja"

    @property
    def title_ja(self) -> str:
        return (self.title or {}).get("ja", "")


class Page(Publishable):
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    slug = models.SlugField(_("URL名"), max_length=60, allow_unicode=False)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    path = models.CharField(max_length=400, db_index=True)  # "kurashi/juminhyo", unique
    live_version = models.ForeignKey(
        "Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["path"], name="site_page_path_unique"),
        ]
        indexes = [models.Index(fields=["parent", "status", "position"], name="site_page_tree")]

    def __str__(self) -> str:
        return self.title_ja or self.slug

    def get_absolute_url(self) -> str:
        from machi.tenancy.context import current_lg_code

        return reverse("site:page", args=[current_lg_code(), self.path])


class NewsItem(Publishable):
    category = models.CharField(
        _("分類"), max_length=20, choices=NewsCategory.choices, default=NewsCategory.KURASHI
    )
    announcement_id = models.BigIntegerField(null=True, blank=True, unique=True)
    live_version = models.ForeignKey(
        "Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            # the public news list: published, newest first
            models.Index(fields=["status", "-published_at", "-id"], name="site_news_list"),
            models.Index(fields=["status", "publish_at"], name="site_news_due"),
        ]

    def __str__(self) -> str:
        return self.title_ja or f"news {self.pk}"

    def get_absolute_url(self) -> str:
        from machi.tenancy.context import current_lg_code

        return reverse("site:news_detail", args=[current_lg_code(), self.pk])


class Version(models.Model):
    """One save of a page or of a news item (exactly one of the two)."""

    page = models.ForeignKey(
        Page, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    news = models.ForeignKey(
        NewsItem, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.JSONField(default=dict)
    body = models.JSONField(default=dict)
    publish_at = models.DateTimeField(null=True, blank=True)
    unpublish_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=10, choices=VersionState.choices, default=VersionState.DRAFT
    )
    note = models.CharField(_("変更の内容"), max_length=200, blank=True)
    author_id = models.BigIntegerField(null=True, blank=True)
    author_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    reviewer_username = models.CharField(max_length=150, blank=True)
    review_comment = models.TextField(_("コメント"), max_length=2000, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    restored_from = models.PositiveIntegerField(null=True, blank=True)  # rollback source

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(page__isnull=False, news__isnull=True)
                    | models.Q(page__isnull=True, news__isnull=False)
                ),
                name="site_version_one_owner",
            ),
            models.UniqueConstraint(fields=["page", "number"], name="site_version_page_number"),
            models.UniqueConstraint(fields=["news", "number"], name="site_version_news_number"),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    @property
    def owner(self) -> Page | NewsItem:
        return self.page if self.page_id else self.news


class Image(models.Model):
    """An image re-encoded by Pillow (nothing of the upload's own bytes is served)."""

    alt = models.JSONField(default=dict)  # alternative text per language, ja required
    content = models.BinaryField()
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return (self.alt or {}).get("ja", "")


class Attachment(models.Model):
    """A PDF, checked by its content (not by its name or declared type)."""

    title = models.CharField(_("資料名"), max_length=200)
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class SiteState(models.Model):
    """One row: when anything the public sees last changed (the caches' validator)."""

    changed_at = models.DateTimeField()
    revision = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"revision {self.revision}"

"""The community board (地域SNS): board accounts (residents, separate from staff),
categories, threads and posts, reactions, follows, reports, appeals, the moderators'
word list and log, and the counter's one-time residence codes.

A post's visibility is its ``status``: visible, held (the word list matched: waits for a
moderator before anyone sees it), hidden (by reports reaching the threshold, a
moderator, or the author's block). A thread is shown when its opening post is.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notify(models.TextChoices):
    NONE = "none", _("通知しない")
    IMMEDIATE = "immediate", _("返信があるたびにメールで知らせる")
    DAILY = "daily", _("1日1回まとめて知らせる")


class BoardSettings(models.Model):
    """One row per municipality (its own database): the moderation thresholds."""

    report_threshold = models.PositiveSmallIntegerField(_("自動非表示にする通報者の数"), default=3)
    new_account_hours = models.PositiveSmallIntegerField(
        _("新規アカウントとして扱う時間"), default=24
    )
    new_account_posts_per_hour = models.PositiveSmallIntegerField(
        _("新規アカウントの1時間あたりの投稿数"), default=5
    )
    posts_per_minute = models.PositiveSmallIntegerField(_("1分あたりの投稿数の上限"), default=5)
    posts_per_hour = models.PositiveSmallIntegerField(_("1時間あたりの投稿数の上限"), default=60)

    def __str__(self) -> str:
        return "board settings"


class BoardUser(models.Model):
    email = models.EmailField(_("メールアドレス"), max_length=254, blank=True)
    # Lower-cased address for uniqueness; "" once the account is deleted.
    email_key = models.CharField(max_length=254, blank=True, db_index=True)
    display_name = models.CharField(_("表示名"), max_length=40)
    password = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_token_hash = models.CharField(max_length=64, blank=True)
    resident_verified_at = models.DateTimeField(null=True, blank=True)
    notify = models.CharField(max_length=10, choices=Notify.choices, default=Notify.IMMEDIATE)
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    warnings = models.PositiveSmallIntegerField(default=0)
    blocked_at = models.DateTimeField(null=True, blank=True)
    block_reason = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email_key"],
                condition=~models.Q(email_key=""),
                name="board_user_email_unique",
            )
        ]

    def __str__(self) -> str:
        return f"board user {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.deleted_at is None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def shown_name(self) -> str:
        return str(_("退会したユーザー")) if self.deleted_at else self.display_name


class Category(models.Model):
    code = models.SlugField(_("分類コード"), max_length=40, unique=True)
    name = models.CharField(_("分類名"), max_length=60)
    description = models.CharField(_("説明"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    VISIBLE = "visible", _("公開")
    HELD = "held", _("確認待ち")
    HIDDEN = "hidden", _("非表示")


class BodyFormat(models.TextChoices):
    PLAIN = "plain", _("テキスト")
    MARKDOWN = "markdown", _("Markdown")


class Thread(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="threads")
    title = models.CharField(_("題名"), max_length=120)
    author = models.ForeignKey(
        BoardUser, null=True, blank=True, on_delete=models.PROTECT, related_name="threads"
    )
    is_official = models.BooleanField(default=False)  # posted by staff as the municipality
    pinned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now)
    # The residents' request the thread became (machi.requests), by its public code.
    request_code = models.CharField(max_length=14, blank=True)

    class Meta:
        indexes = [models.Index(fields=["category", "-last_post_at"])]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        BoardUser, null=True, blank=True, on_delete=models.PROTECT, related_name="posts"
    )
    is_official = models.BooleanField(default=False)
    staff_username = models.CharField(max_length=150, blank=True)  # who posted as 公式
    is_opening = models.BooleanField(default=False)
    body = models.TextField(_("本文"), max_length=8000)
    body_format = models.CharField(
        max_length=10, choices=BodyFormat.choices, default=BodyFormat.PLAIN
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    # Why it is hidden or held: "reports", "moderator", "blocked", "words".
    status_reason = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["author", "created_at"])]

    def __str__(self) -> str:
        return f"post {self.pk}"


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(BoardUser, on_delete=models.CASCADE, related_name="reactions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="board_reaction_once")]

    def __str__(self) -> str:
        return f"reaction {self.pk}"


class Follow(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(BoardUser, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="board_follow_once")]

    def __str__(self) -> str:
        return f"follow {self.pk}"


class Report(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(BoardUser, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(_("理由"), max_length=20)
    detail = models.CharField(_("詳しく"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="board_report_once")
        ]

    def __str__(self) -> str:
        return f"report {self.pk}"


class Appeal(models.Model):
    """The author's one appeal: against a post's hiding (``post``) or against the block
    (``post`` empty)."""

    user = models.ForeignKey(BoardUser, on_delete=models.CASCADE, related_name="appeals")
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="appeals"
    )
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, blank=True)  # "granted" / "rejected"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=models.Q(post__isnull=False), name="board_appeal_post"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(post__isnull=True), name="board_appeal_block"
            ),
        ]

    def __str__(self) -> str:
        return f"appeal {self.pk}"


class Word(models.Model):
    """A word that holds a post for a moderator's review before it appears."""

    word = models.CharField(_("語句"), max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class ModerationLog(models.Model):
    action = models.CharField(max_length=30)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL)
    target = models.ForeignKey(BoardUser, null=True, blank=True, on_delete=models.SET_NULL)
    staff_id = models.BigIntegerField(null=True, blank=True)
    staff_username = models.CharField(max_length=150, blank=True)  # "" = the system
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.pk}"


class ResidenceCode(models.Model):
    """A one-time code a counter clerk hands a resident after checking their identity
    at the counter. Only its hash is kept; it names no resident."""

    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.CharField(max_length=150)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(BoardUser, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"residence code {self.pk}"


class SignInFailure(models.Model):
    """Failed sign-ins by a keyed hash of the address: the database-backed limit."""

    key = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"sign-in failure {self.pk}"

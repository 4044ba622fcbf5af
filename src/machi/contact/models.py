"""The contact center (コールセンター / お問い合わせ窓口): tickets on SLA timers, and the
FAQ knowledge base.

Staff and departments live in the control database: tickets store the staff id with
a copy of the username and the department *code* with a copy of its name (no foreign
keys across databases). A resident is linked by ``atena_number`` only, through the
audited ``ticket_link_resident``.

SLA timers count business time (:mod:`machi.japanese.business_time`) on the
municipality's calendar (:mod:`machi.contact.calendar`). The due moments are stored,
so the sweep and the queues find tickets near or past them through an index.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("電話")
    WEB = "web", _("ウェブ")
    MAIL = "mail", _("メール")
    COUNTER = "counter", _("窓口")


class TicketState(models.TextChoices):
    NEW = "new", _("新規")
    OPEN = "open", _("対応中")
    PENDING_CUSTOMER = "pending_customer", _("回答待ち")
    RESOLVED = "resolved", _("解決")
    CLOSED = "closed", _("完了")


# The states whose SLA clock runs; 回答待ち and 解決 stop it, 完了 ends it.
RUNNING = (TicketState.NEW, TicketState.OPEN)
PAUSED = (TicketState.PENDING_CUSTOMER, TicketState.RESOLVED)


class Priority(models.IntegerChoices):
    LOW = 1, _("低")
    NORMAL = 2, _("中")
    HIGH = 3, _("高")
    URGENT = 4, _("緊急")


class ContactSettings(models.Model):
    """The contact center's opening hours (one row). Closed days are the
    municipality's calendar (the procedure catalogue's ``closed_days``), shared with
    the filing deadlines."""

    # weekday ("0" = Monday … "6") → "8:30-17:15" or "8:30-12:00,13:00-17:15" ('' closed)
    hours = models.JSONField(_("受付時間"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("コールセンター設定")

    def __str__(self) -> str:
        return "contact settings"


class SlaPolicy(models.Model):
    """Targets for tickets of one priority, in business minutes."""

    priority = models.PositiveSmallIntegerField(_("優先度"), choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(_("初回回答の目標（分）"))
    resolution_minutes = models.PositiveIntegerField(_("解決の目標（分）"))
    warn_before_minutes = models.PositiveIntegerField(_("期限前の警告（分）"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA")
        ordering = ["-priority"]

    def __str__(self) -> str:
        return f"SLA {self.priority}: {self.first_response_minutes}/{self.resolution_minutes}"


class TicketSequence(models.Model):
    """The last ticket number of a year; its row is locked while a ticket is numbered."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Ticket(models.Model):
    number = models.CharField(_("問い合わせ番号"), max_length=20, unique=True)
    channel = models.CharField(_("受付経路"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("件名"), max_length=200)
    topic = models.CharField(_("分類"), max_length=40, blank=True)  # FaqCategory.code
    state = models.CharField(
        _("状態"), max_length=20, choices=TicketState.choices, default=TicketState.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("優先度"), choices=Priority.choices, default=Priority.NORMAL
    )
    owner_id = models.BigIntegerField(null=True, blank=True)
    owner_username = models.CharField(_("担当者"), max_length=150, blank=True)
    group = models.CharField(_("担当課"), max_length=40, blank=True)  # Department.code
    group_name = models.CharField(_("担当課名"), max_length=100, blank=True)
    # Who asked, as they gave it (not the registry's record): for the reply.
    contact_name = models.CharField(_("お名前"), max_length=100, blank=True)
    contact_email = models.EmailField(_("メールアドレス"), blank=True)
    contact_phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    atena_number = models.CharField(_("宛名番号"), max_length=20, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged"
    )
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("受付日時"))
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(_("初回回答日時"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解決日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    # decided when the ticket is resolved (see machi.contact.services.tickets)
    first_contact_resolution = models.BooleanField(null=True, blank=True)

    # SLA: business time, pauses excluded. Due moments are NULL while the clock stands
    # (回答待ち, 解決) or when the priority has no policy.
    sla_first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    sla_resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    sla_warn_before_minutes = models.PositiveIntegerField(null=True, blank=True)
    sla_paused_seconds = models.PositiveBigIntegerField(default=0)
    sla_paused_since = models.DateTimeField(null=True, blank=True)
    sla_first_response_due_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    sla_escalated_at = models.DateTimeField(_("期限前エスカレーション"), null=True, blank=True)
    sla_first_response_breached_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # measured when met: business minutes, pauses excluded
    first_response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("問い合わせ")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "group", "created_at"], name="contact_ticket_queue"),
            models.Index(fields=["owner_id", "state"], name="contact_ticket_owner"),
            models.Index(fields=["sla_warn_at"], name="contact_ticket_warn"),
            models.Index(fields=["sla_first_response_due_at"], name="contact_ticket_first_due"),
            models.Index(fields=["sla_resolution_due_at"], name="contact_ticket_resolve_due"),
            models.Index(fields=["atena_number"], name="contact_ticket_resident"),
        ]

    def __str__(self) -> str:
        return self.number


class ArticleKind(models.TextChoices):
    CUSTOMER = "customer", _("お問い合わせ")  # what the resident said or wrote
    REPLY = "reply", _("回答")  # to the resident
    NOTE = "note", _("内部メモ")  # staff only


class BodyFormat(models.TextChoices):
    PLAIN = "plain", _("テキスト")
    MARKDOWN = "markdown", _("Markdown")


class TicketArticle(models.Model):
    """One message of a ticket. Bodies are plain text or Markdown, never HTML: pages
    render them through the sanitiser."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="articles")
    kind = models.CharField(max_length=10, choices=ArticleKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    author_id = models.BigIntegerField(null=True, blank=True)  # staff; NULL for the resident
    author_username = models.CharField(max_length=150, blank=True)
    body = models.TextField()
    body_format = models.CharField(max_length=10, choices=BodyFormat.choices, default="plain")
    # mail (the later mail channel threads replies by Message-ID / In-Reply-To)
    sender = models.CharField(max_length=300, blank=True)
    recipients = models.CharField(max_length=1000, blank=True)
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "kind", "created_at"], name="contact_article_kind")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.kind}/{self.pk}"

    @property
    def internal(self) -> bool:
        return self.kind == ArticleKind.NOTE


class TicketEvent(models.Model):
    """The ticket's history: every state change, assignment, escalation, merge, link
    and SLA mark, kept when the ticket moves to another department."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


class LinkKind(models.TextChoices):
    VISIT = "visit", _("来庁（受付番号）")
    REQUEST = "request", _("要望・通報")


class TicketLink(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    ref = models.CharField(max_length=40)  # Visit.public_code, a request's public code
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "ref"], name="contact_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.kind}:{self.ref}"


# ---------------------------------------------------------------- FAQ


class FaqCategory(models.Model):
    code = models.SlugField(_("分類コード"), max_length=40, unique=True)
    name = models.CharField(_("分類名"), max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("FAQ分類")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class FaqStatus(models.TextChoices):
    DRAFT = "draft", _("下書き")
    PUBLISHED = "published", _("公開")


class FaqAnswer(models.Model):
    category = models.ForeignKey(FaqCategory, on_delete=models.PROTECT, related_name="answers")
    question = models.CharField(_("質問"), max_length=300)
    answer = models.TextField(_("回答"))  # plain text or Markdown
    keywords = models.CharField(_("キーワード"), max_length=500, blank=True)
    department = models.CharField(_("担当課"), max_length=40, blank=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=FaqStatus.choices, default=FaqStatus.DRAFT
    )
    review_on = models.DateField(_("見直し日"), null=True, blank=True)
    helped_count = models.PositiveIntegerField(default=0)
    not_helped_count = models.PositiveIntegerField(default=0)
    # Search terms derived by machi.contact.search (" term term … ", delimited by
    # spaces so that every term, even one kanji, is matched whole through trigrams).
    search_title = models.TextField(default="", blank=True)
    search_keywords = models.TextField(default="", blank=True)
    search_body = models.TextField(default="", blank=True)
    # reading=term pairs of the terms, for queries typed in kana
    search_readings = models.TextField(default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("FAQ")
        ordering = ["category__order", "id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="contact_faq_status")]

    def __str__(self) -> str:
        return self.question


class FaqFeedback(models.Model):
    """役に立った／立たなかった: one vote, by a resident or an agent."""

    answer = models.ForeignKey(FaqAnswer, on_delete=models.CASCADE, related_name="feedback")
    helped = models.BooleanField()
    source = models.CharField(max_length=10)  # resident | agent
    search = models.ForeignKey(
        "FaqSearch", on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.answer_id} {'+' if self.helped else '-'}"


class FaqSearch(models.Model):
    """One search, for deflection: a search is deflected when no ticket followed it."""

    query = models.CharField(max_length=200)
    source = models.CharField(max_length=10)  # resident | agent
    result_ids = models.JSONField(default=list)
    result_count = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="faq_searches"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="contact_faqsearch_at")]

    def __str__(self) -> str:
        return self.query


class FaqSynonym(models.Model):
    """A municipality's own synonyms, one group a row ("ごみ 廃棄物 ゴミ"), added to
    the default list shipped in ``data/synonyms.txt``."""

    words = models.CharField(_("同義語"), max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("同義語")

    def __str__(self) -> str:
        return self.words


class FaqIndexVersion(models.Model):
    """The version of what the FAQ search indexes (published answers, synonyms): one
    row, a new random token at every change, written by the FAQ services in the same
    transaction. Each process keeps its in-memory term index for one token and builds
    it again when the token differs (random, not a counter: a rolled-back change never
    leaves a token that another state of the data reuses)."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token


# ---------------------------------------------------------------- mail channel


class MailDirection(models.TextChoices):
    INBOUND = "in", _("受信")
    OUTBOUND = "out", _("送信")


class MailStatus(models.TextChoices):
    RECEIVED = "received", _("受信済み")
    PENDING = "pending", _("送信待ち")
    SENT = "sent", _("送信済み")
    BOUNCED = "bounced", _("返信が届きませんでした")


class MailMessage(models.Model):
    """A mail of a ticket, received or sent: its Message-ID threads the resident's
    replies back into the ticket. Outbound mail is sent by the worker after commit and
    retried until the SMTP server takes it (``status`` pending → sent)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="mails")
    article = models.ForeignKey(
        TicketArticle, on_delete=models.SET_NULL, null=True, blank=True, related_name="mails"
    )
    direction = models.CharField(max_length=3, choices=MailDirection.choices)
    message_id = models.CharField(max_length=300, db_index=True)  # without <>
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)  # space-separated ids, without <>
    subject = models.CharField(max_length=300, blank=True)
    # the headers as received or sent ([name, value] pairs), for staff only
    headers = models.JSONField(default=list)
    # an HMAC of the address (machi.contact.mail.parse.address_key): rate limits
    # without keeping a second copy of the address
    sender_key = models.CharField(max_length=64, blank=True, db_index=True)
    recipient = models.CharField(max_length=300, blank=True)
    auto_submitted = models.BooleanField(default=False)
    acknowledgement = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=MailStatus.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # a delivery report for this outgoing mail: its RFC 3463 status code ("5.1.1")
    bounce_status = models.CharField(max_length=20, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="contact_mail_due"),
            models.Index(fields=["sender_key", "created_at"], name="contact_mail_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"


class MailAttachment(models.Model):
    """A file of a received mail, stored under the municipality's folder with a random
    name (the sender's file name is kept, sanitised, for display only)."""

    mail = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(max_length=300)
    filename = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100)  # by content, not by the sender's word
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename


class QuarantineReason(models.TextChoices):
    TOO_LARGE = "too_large", _("大きすぎるメール")
    UNPARSEABLE = "unparseable", _("解析できないメール")
    NO_SENDER = "no_sender", _("差出人が不明")
    SPOOFED = "spoofed", _("送信元の認証に失敗（なりすましの疑い）")
    RATE_LIMITED = "rate_limited", _("同じ差出人からの受信が多すぎる")
    REJECTED = "rejected", _("問い合わせにできない内容")


class QuarantineStatus(models.TextChoices):
    HELD = "held", _("保留中")
    RELEASED = "released", _("問い合わせにした")
    DISCARDED = "discarded", _("破棄した")


class QuarantinedMail(models.Model):
    """A received mail that could not become a ticket message, kept as received (the raw
    bytes in storage) until staff release it into a ticket or discard it."""

    raw = models.FileField(max_length=300)
    raw_size = models.PositiveBigIntegerField()
    truncated = models.BooleanField(default=False)  # kept only up to the size limit
    reason = models.CharField(max_length=20, choices=QuarantineReason.choices)
    detail = models.CharField(max_length=300, blank=True)  # never the body or an address
    source = models.CharField(max_length=10)  # pipe | http
    status = models.CharField(
        max_length=10, choices=QuarantineStatus.choices, default=QuarantineStatus.HELD
    )
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_username = models.CharField(max_length=150, blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="quarantined"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="contact_quarantine_q")]

    def __str__(self) -> str:
        return f"quarantine {self.pk} {self.reason}"

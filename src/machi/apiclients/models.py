"""API clients: a municipality's registered department systems, with scopes and a token.

The token (``machi_<random>``, 256 random bits) is shown once when the client is
created; only a lookup prefix and its SHA-256 hash are kept. A fast hash is right for a
random 256-bit secret (nothing to brute-force), and it keeps every call cheap.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    EVENTS_READ = "events:read", _("イベントの取得（プル配信）")
    RESIDENTS_READ = "residents:read", _("住民記録の照会")
    RESIDENTS_READ_MY_NUMBER = "residents:read:my_number", _("個人番号の取得")
    LIFE_EVENTS_WRITE = "life_events:write", _("ライフイベントの登録（予約：未対応）")
    REQUESTS_WRITE = "requests:write", _("要望・通報の登録（Open311）")
    CONTACT_MAIL = "contact:mail", _("問い合わせメールの受信（メールゲートウェイ）")


class ApiClient(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    scopes = models.JSONField(_("権限"), default=list)
    token_prefix = models.CharField(_("トークンの先頭"), max_length=20, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_username = models.CharField(_("登録者"), max_length=150, blank=True)
    expires_at = models.DateTimeField(_("有効期限"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)
    revoked_by_username = models.CharField(_("失効させた職員"), max_length=150, blank=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("APIクライアント")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def audit_actor_label(self) -> str:
        """How the audit log names this client (``machi.audit`` reads this attribute)."""
        return f"api:{self.pk}:{self.name}"[:150]

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()

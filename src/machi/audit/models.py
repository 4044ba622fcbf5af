"""Append-only, hash-chained audit logs.

Each entry carries the hash of the previous one, so an edited, deleted or reordered
entry breaks the chain (`machi audit verify`). Database triggers also refuse UPDATE
and DELETE on the entry tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntryBase(models.Model):
    seq = models.PositiveBigIntegerField(_("通番"), unique=True)
    created_at = models.DateTimeField(_("日時"), db_index=True)
    actor_id = models.BigIntegerField(_("職員ID"), null=True, blank=True, db_index=True)
    actor_username = models.CharField(_("職員"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=100, db_index=True)
    object_type = models.CharField(_("対象の種類"), max_length=50, blank=True)
    object_id = models.CharField(_("対象"), max_length=100, blank=True, db_index=True)
    function = models.CharField(_("機能・画面"), max_length=100, blank=True)
    ip_address = models.CharField(_("IPアドレス"), max_length=45, blank=True)
    user_agent = models.CharField(_("端末"), max_length=300, blank=True)
    purpose = models.CharField(_("利用目的"), max_length=300, blank=True)
    my_number_shown = models.BooleanField(_("個人番号の表示"), default=False)
    my_number_changed = models.BooleanField(_("個人番号の変更"), default=False)
    detail = models.JSONField(_("詳細"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        abstract = True
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class ChainHeadBase(models.Model):
    """One row: the last sequence number and hash, locked while appending."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"head #{self.last_seq}"


class AuditEntry(AuditEntryBase):
    """A municipality's audit log (tenant database)."""

    class Meta(AuditEntryBase.Meta):
        verbose_name = _("監査ログ")


class AuditChainHead(ChainHeadBase):
    pass


class PlatformAuditEntry(AuditEntryBase):
    """The platform's audit log (control database)."""

    class Meta(AuditEntryBase.Meta):
        verbose_name = _("基盤監査ログ")


class PlatformAuditChainHead(ChainHeadBase):
    pass

"""Appending to the audit logs: the only way entries are written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from machi.audit.chain import GENESIS_HASH, entry_hash
from machi.audit.models import (
    AuditChainHead,
    AuditEntry,
    AuditEntryBase,
    ChainHeadBase,
    PlatformAuditChainHead,
    PlatformAuditEntry,
)
from machi.tenancy.context import current_tenant_alias


@dataclass(frozen=True)
class Terminal:
    """Where a request came from: IP address and user agent."""

    ip_address: str = ""
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Any) -> Terminal:
        if request is None:
            return cls()
        meta = request.META
        return cls(
            ip_address=meta.get("REMOTE_ADDR", "") or "",
            user_agent=(meta.get("HTTP_USER_AGENT", "") or "")[:300],
        )


CLI_TERMINAL = Terminal(ip_address="", user_agent="machi CLI")


def _append(
    *,
    entry_model: type[AuditEntryBase],
    head_model: type[ChainHeadBase],
    using: str,
    action: str,
    actor: Any | None,
    object_type: str,
    object_id: str,
    function: str,
    terminal: Terminal | None,
    purpose: str,
    my_number_shown: bool,
    my_number_changed: bool,
    detail: dict[str, Any] | None,
) -> AuditEntryBase:
    terminal = terminal or Terminal()
    # No savepoint: inside a caller's transaction a failure here fails the whole change.
    with transaction.atomic(using=using, savepoint=False):
        head = head_model.objects.using(using).select_for_update().filter(pk=1).first()
        if head is None:
            head = head_model.objects.using(using).create(pk=1, last_seq=0, last_hash=GENESIS_HASH)
        fields = {
            "seq": head.last_seq + 1,
            "created_at": timezone.now(),
            "actor_id": getattr(actor, "pk", None),
            "actor_username": getattr(actor, "username", "") or "",
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "function": function,
            "ip_address": terminal.ip_address,
            "user_agent": terminal.user_agent,
            "purpose": purpose,
            "my_number_shown": my_number_shown,
            "my_number_changed": my_number_changed,
            "detail": detail or {},
        }
        digest = entry_hash(fields, head.last_hash)
        entry = entry_model.objects.using(using).create(
            **fields, prev_hash=head.last_hash, entry_hash=digest
        )
        head_model.objects.using(using).filter(pk=1).update(
            last_seq=fields["seq"], last_hash=digest
        )
    return entry


def audit_append(
    *,
    action: str,
    actor: Any | None = None,
    object_type: str = "",
    object_id: str = "",
    function: str = "",
    terminal: Terminal | None = None,
    purpose: str = "",
    my_number_shown: bool = False,
    my_number_changed: bool = False,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append to the log of the municipality in force (NoTenantError without one).

    ``detail`` never copies a record's contents (names, addresses, My Numbers): record
    the object's id and let the reader look it up through an audited path. What staff
    typed into a search is recorded, as evidence of whom they looked for.
    """
    return _append(
        entry_model=AuditEntry,
        head_model=AuditChainHead,
        using=current_tenant_alias(),
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        function=function,
        terminal=terminal,
        purpose=purpose,
        my_number_shown=my_number_shown,
        my_number_changed=my_number_changed,
        detail=detail,
    )


def platform_audit_append(
    *,
    action: str,
    actor: Any | None = None,
    object_type: str = "",
    object_id: str = "",
    function: str = "",
    terminal: Terminal | None = None,
    detail: dict[str, Any] | None = None,
) -> PlatformAuditEntry:
    """Append to the platform's own log (control database)."""
    return _append(
        entry_model=PlatformAuditEntry,
        head_model=PlatformAuditChainHead,
        using="default",
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        function=function,
        terminal=terminal,
        purpose="",
        my_number_shown=False,
        my_number_changed=False,
        detail=detail,
    )

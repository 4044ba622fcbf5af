"""Appending to the audit logs: the only way entries are written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
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
from machi.tenancy.rows import rows_insert, rows_new


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


@dataclass(frozen=True)
class AuditRecord:
    """One entry to append (see ``audit_append`` for the meaning of the fields)."""

    action: str
    actor: Any | None = None
    object_type: str = ""
    object_id: str = ""
    function: str = ""
    terminal: Terminal | None = None
    purpose: str = ""
    my_number_shown: bool = False
    my_number_changed: bool = False
    detail: dict[str, Any] | None = None

    def fields(self, seq: int, now: Any) -> dict[str, Any]:
        terminal = self.terminal or Terminal()
        # An API client (machi.apiclients) is no staff member: no staff id, and its
        # label ("api:<id>:<name>") in the actor column, so searches by staff never mix.
        client_label = getattr(self.actor, "audit_actor_label", None)
        return {
            "seq": seq,
            "created_at": now,
            "actor_id": None if client_label else getattr(self.actor, "pk", None),
            "actor_username": client_label or getattr(self.actor, "username", "") or "",
            "action": self.action,
            "object_type": self.object_type,
            "object_id": str(self.object_id),
            "function": self.function,
            "ip_address": terminal.ip_address,
            "user_agent": terminal.user_agent,
            "purpose": self.purpose,
            "my_number_shown": self.my_number_shown,
            "my_number_changed": self.my_number_changed,
            "detail": self.detail or {},
        }


def _append_many(
    *,
    entry_model: type[AuditEntryBase],
    head_model: type[ChainHeadBase],
    using: str,
    records: list[AuditRecord],
) -> list[AuditEntryBase]:
    """Chain ``records`` onto the log: one lock on the head, one insert, one head update."""
    if not records:
        return []
    now = timezone.now()
    connection = connections[using]
    table = connection.ops.quote_name(head_model._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    # No savepoint: inside a caller's transaction a failure here fails the whole change.
    with transaction.atomic(using=using, savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
            row = cursor.fetchone()
        if row is None:
            head_model.objects.using(using).create(pk=1, last_seq=0, last_hash=GENESIS_HASH)
            row = (0, GENESIS_HASH)
        entries = []
        seq, prev_hash = row
        for record in records:
            seq += 1
            fields = record.fields(seq, now)
            digest = entry_hash(fields, prev_hash)
            fields["prev_hash"], fields["entry_hash"] = prev_hash, digest
            entries.append(rows_new(entry_model, fields))
            prev_hash = digest
        created = rows_insert(entry_model, entries, using=using, returning=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_seq = %s, last_hash = %s WHERE id = 1",  # noqa: S608
                [seq, prev_hash],
            )
    return created


def audit_append_many(*, records: list[AuditRecord]) -> list[AuditEntry]:
    """Several entries in the log of the municipality in force, in order."""
    return _append_many(
        entry_model=AuditEntry,
        head_model=AuditChainHead,
        using=current_tenant_alias(),
        records=records,
    )


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
    record = AuditRecord(
        action=action, actor=actor, object_type=object_type, object_id=object_id,
        function=function, terminal=terminal, purpose=purpose,
        my_number_shown=my_number_shown, my_number_changed=my_number_changed, detail=detail,
    )  # fmt: skip
    (entry,) = audit_append_many(records=[record])
    return entry


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
    record = AuditRecord(
        action=action, actor=actor, object_type=object_type, object_id=object_id,
        function=function, terminal=terminal, detail=detail,
    )  # fmt: skip
    (entry,) = _append_many(
        entry_model=PlatformAuditEntry,
        head_model=PlatformAuditChainHead,
        using="default",
        records=[record],
    )
    return entry

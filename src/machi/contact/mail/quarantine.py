"""Quarantined mail: staff (a working role) look at its headers, then release it into
a ticket or discard it. Both are audited by the entry's id (never its contents)."""

from __future__ import annotations

import datetime
from email import policy
from email.parser import BytesParser
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.audit.services import Terminal, audit_append
from machi.contact.mail.parse import HEADERS_KEPT, MailParseError, parse_mail
from machi.contact.mail.receive import mail_deliver
from machi.contact.models import QuarantinedMail, QuarantineStatus
from machi.contact.services.tickets import TicketError, staff_may_work_tickets
from machi.tenancy.context import current_tenant_alias


def quarantine_raw(entry: QuarantinedMail) -> bytes:
    with default_storage.open(entry.raw.name, "rb") as handle:
        return handle.read()


def quarantine_headers(entry: QuarantinedMail) -> list[tuple[str, str]]:
    """The headers as far as they can be read (the body is not shown)."""
    raw = quarantine_raw(entry)
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
        return [(str(k), str(v)[:1000]) for k, v in list(message.raw_items())[:HEADERS_KEPT]]
    except Exception:
        return [("", head[:2000].decode("utf-8", errors="replace"))]


def _held(entry: QuarantinedMail) -> QuarantinedMail:
    fresh = QuarantinedMail.objects.select_for_update().get(pk=entry.pk)
    if fresh.status != QuarantineStatus.HELD:
        raise TicketError(_("このメールはすでに処理されています。"))
    return fresh


def _audit(
    entry: QuarantinedMail, verb: str, actor: Any, terminal: Terminal | None, **detail: Any
) -> None:
    audit_append(
        action=f"contact.mail.quarantine_{verb}",
        actor=actor,
        object_type="contact_quarantine",
        object_id=str(entry.pk),
        function=f"contact.quarantine_{verb}",
        terminal=terminal,
        detail={"reason": entry.reason, **detail},
    )


def quarantine_release(
    *,
    entry: QuarantinedMail,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> QuarantinedMail:
    """Make the mail a ticket message after all (a new ticket or its thread's). A mail
    that cannot be parsed at all cannot be released, only discarded."""
    if not staff_may_work_tickets(actor):
        raise PermissionDenied(_("問い合わせを扱う権限がありません。"))
    now = now or timezone.now()
    if entry.truncated:
        raise TicketError(_("大きすぎて一部しか保存していないメールは問い合わせにできません。"))
    try:
        parsed = parse_mail(quarantine_raw(entry))
    except MailParseError as error:
        raise TicketError(_("このメールは解析できないため問い合わせにできません。")) from error
    alias = current_tenant_alias()
    stored: list[str] = []
    try:
        with transaction.atomic(using=alias):
            entry = _held(entry)
            result = mail_deliver(parsed=parsed, now=now, stored=stored)
            raw_name = entry.raw.name
            entry.status = QuarantineStatus.RELEASED
            entry.ticket = result.ticket
            entry.raw = ""  # the mail lives on in the ticket; the copy goes
            entry.resolved_at = now
            entry.resolved_by_username = actor.username
            entry.save()
            _audit(entry, "released", actor, terminal, ticket=result.ticket.number)
            transaction.on_commit(partial(_delete, raw_name), using=alias)
    except BaseException:
        # the ticket's rows are gone with the rollback: so must be its files
        for name in stored:
            _delete(name)
        raise
    return entry


def _delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def quarantine_discard(
    *,
    entry: QuarantinedMail,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> QuarantinedMail:
    """Discard the mail: the stored message is deleted, the entry stays as a record."""
    if not staff_may_work_tickets(actor):
        raise PermissionDenied(_("問い合わせを扱う権限がありません。"))
    now = now or timezone.now()
    with transaction.atomic(using=current_tenant_alias()):
        entry = _held(entry)
        name = entry.raw.name
        entry.raw = ""  # the entry stays as a record of a mail that is gone
        entry.status = QuarantineStatus.DISCARDED
        entry.resolved_at = now
        entry.resolved_by_username = actor.username
        entry.save()
        _audit(entry, "discarded", actor, terminal)
        transaction.on_commit(partial(_delete, name), using=current_tenant_alias())
    return entry

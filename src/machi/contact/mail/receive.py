"""Receiving a mail: one service behind the pipe command and the HTTP endpoint.

Every mail ends one of these ways, and none raises but for a temporary failure (the
database away: the caller answers "try again later" and the MTA keeps the mail):

* ``created`` / ``added``: a new mail ticket, or a message on the ticket it threads to;
* ``duplicate``: a Message-ID already received (the MTA delivered it twice);
* ``bounce``: a delivery report. One for a reply machi sent (RFC 3464, matched by the
  returned Message-ID) is recorded on its ticket as 「返信が届きませんでした」 with the
  status code; any other is dropped (answering it would only start a loop);
* ``quarantined``: kept whole for staff (too large, unreadable, no sender, spoofed,
  too many from one sender).

Auto-submitted mail (RFC 3834, Precedence bulk/junk/list, vendor marks) is kept as a
message but never answered.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from machi.contact.mail.parse import MailParseError, ParsedMail, address_key, parse_mail
from machi.contact.mail.send import mail_acknowledgement_queue
from machi.contact.mail.thread import SUBJECT_TAG, thread_find
from machi.contact.models import (
    Channel,
    MailAttachment,
    MailDirection,
    MailMessage,
    MailStatus,
    QuarantinedMail,
    QuarantineReason,
    Ticket,
)
from machi.contact.services.tickets import (
    TicketError,
    ticket_create,
    ticket_customer_message,
    ticket_mail_bounced,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias

logger = logging.getLogger(__name__)

NO_SUBJECT = "（件名なし）"
NO_BODY = "（本文なし）"


@dataclass(frozen=True)
class MailResult:
    outcome: str  # created | added | duplicate | bounce | quarantined
    ticket: Ticket | None = None
    quarantine: QuarantinedMail | None = None


def storage_path(kind: str, now: datetime.datetime) -> str:
    """A random name under the municipality's folder: the sender's names never reach
    the file system."""
    return f"contact/{current_lg_code()}/{kind}/{now:%Y/%m}/{uuid.uuid4().hex}"


def quarantine_store(
    *, raw: bytes, reason: str, detail: str, source: str, now: datetime.datetime
) -> QuarantinedMail:
    limit = settings.MACHI_CONTACT_MAIL_MAX_MESSAGE_BYTES
    kept = raw[:limit]
    name = default_storage.save(storage_path("quarantine", now) + ".eml", ContentFile(kept))
    entry = QuarantinedMail.objects.create(
        raw=name,
        raw_size=len(raw),
        truncated=len(kept) < len(raw),
        reason=reason,
        detail=detail[:300],
        source=source,
        received_at=now,
    )
    logger.info("contact mail quarantined: %s (%s) id=%s", reason, detail[:80], entry.pk)
    return entry


def _rate_limited(key: str, now: datetime.datetime) -> bool:
    limit = settings.MACHI_CONTACT_MAIL_PER_SENDER_PER_HOUR
    since = now - datetime.timedelta(hours=1)
    return (
        MailMessage.objects.filter(
            direction=MailDirection.INBOUND, sender_key=key, created_at__gte=since
        ).count()
        >= limit
    )


def _store_attachments(
    mail: MailMessage, parsed: ParsedMail, now: datetime.datetime, stored: list[str]
) -> None:
    for attachment in parsed.attachments:
        name = default_storage.save(
            storage_path("attachments", now), ContentFile(attachment.content)
        )
        stored.append(name)
        MailAttachment.objects.create(
            mail=mail,
            file=name,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.content),
            sha256=hashlib.sha256(attachment.content).hexdigest(),
        )


def _body(parsed: ParsedMail) -> str:
    body = parsed.body or NO_BODY
    if parsed.omitted:
        body += (
            "\n\n"
            + "[machi] 大きすぎるため保存しなかった添付ファイル: "
            + ", ".join(parsed.omitted)
        )
    return body[:50_000]


def mail_deliver(
    *,
    parsed: ParsedMail,
    now: datetime.datetime,
    ticket: Ticket | None = None,
    stored: list[str] | None = None,
) -> MailResult:
    """Put a parsed mail into its ticket (or a new one), with its attachments and, for a
    new ticket from a person, the acknowledgement. One transaction.

    The names of the attachment files it writes are appended to *stored*: a caller
    whose own, outer transaction may still roll back deletes them then."""
    key = address_key(parsed.from_address)
    stored = [] if stored is None else stored
    try:
        return _deliver(parsed=parsed, now=now, ticket=ticket, key=key, stored=stored)
    except BaseException:
        # the rows are rolled back; the files would stay, unreferenced (a resident's
        # documents nobody can find or delete), and the MTA delivers the mail again
        for name in stored:
            default_storage.delete(name)
        raise


def _deliver(
    *, parsed: ParsedMail, now: datetime.datetime, ticket: Ticket | None, key: str,
    stored: list[str],
) -> MailResult:  # fmt: skip
    with transaction.atomic(using=current_tenant_alias()):
        if ticket is None:
            ticket = thread_find(
                in_reply_to=parsed.in_reply_to,
                references=parsed.references,
                subject=parsed.subject,
                from_address=parsed.from_address,
            )
        created = False
        if ticket is not None:
            try:
                article = ticket_customer_message(
                    ticket=ticket,
                    body=_body(parsed),
                    channel=Channel.MAIL,
                    sender=parsed.from_address,
                    message_id=parsed.message_id,
                    in_reply_to=parsed.in_reply_to,
                    now=now,
                )
            except TicketError:  # closed meanwhile: a new ticket, as for any new thread
                ticket = None
        if ticket is None:
            subject = SUBJECT_TAG.sub("", parsed.subject).strip() or NO_SUBJECT
            ticket = ticket_create(
                channel=Channel.MAIL,
                subject=subject[:200],
                body=_body(parsed),
                actor=None,
                contact_name=parsed.from_name,
                contact_email=parsed.from_address,
                sender=parsed.from_address,
                message_id=parsed.message_id,
                now=now,
            )
            article = ticket.articles.get()
            created = True
        mail = MailMessage.objects.create(
            ticket=ticket,
            article=article,
            direction=MailDirection.INBOUND,
            message_id=parsed.message_id or f"machi-no-id-{uuid.uuid4().hex}",
            in_reply_to=parsed.in_reply_to,
            references=" ".join(parsed.references),
            subject=parsed.subject[:300],
            headers=parsed.headers,
            sender_key=key,
            auto_submitted=parsed.auto_submitted,
            status=MailStatus.RECEIVED,
            created_at=now,
        )
        _store_attachments(mail, parsed, now, stored)
        if created and not parsed.auto_submitted:
            mail_acknowledgement_queue(ticket=ticket, now=now)
    return MailResult("created" if created else "added", ticket=ticket)


def mail_bounce_record(*, parsed: ParsedMail, now: datetime.datetime) -> MailMessage | None:
    """Record a failed-delivery report on the outgoing mail it names and on its ticket
    (once per mail); None when it names none of ours or reports no failure."""
    report = parsed.report
    if report is None or not report.original_ids or not report.failed:
        return None
    with transaction.atomic(using=current_tenant_alias()):
        mail = (
            MailMessage.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(direction=MailDirection.OUTBOUND, message_id__in=report.original_ids)
            .first()
        )
        if mail is None:
            return None
        if mail.status == MailStatus.BOUNCED:
            return mail  # the same report twice, or one per hop
        mail.status = MailStatus.BOUNCED
        mail.bounce_status = report.status
        mail.bounced_at = now
        mail.save(update_fields=["status", "bounce_status", "bounced_at"])
        ticket_mail_bounced(ticket=mail.ticket, status=report.status, now=now)
    return mail


def mail_receive(*, raw: bytes, source: str, now: datetime.datetime | None = None) -> MailResult:
    """Receive one raw RFC 5322 message (see the module's docstring for the outcomes)."""
    now = now or timezone.now()
    if len(raw) > settings.MACHI_CONTACT_MAIL_MAX_MESSAGE_BYTES:
        entry = quarantine_store(
            raw=raw,
            reason=QuarantineReason.TOO_LARGE,
            detail=f"{len(raw)} bytes",
            source=source,
            now=now,
        )
        return MailResult("quarantined", quarantine=entry)
    try:
        parsed = parse_mail(raw)
    except MailParseError as error:
        reason = (
            QuarantineReason.NO_SENDER if "sender" in str(error) else QuarantineReason.UNPARSEABLE
        )
        entry = quarantine_store(raw=raw, reason=reason, detail=str(error), source=source, now=now)
        return MailResult("quarantined", quarantine=entry)
    if parsed.bounce or parsed.report is not None:
        bounced = mail_bounce_record(parsed=parsed, now=now)
        if bounced is not None:
            return MailResult("bounce", ticket=bounced.ticket)
        logger.info(
            "contact mail: a delivery report dropped (sender %s)",
            address_key(parsed.from_address)[:12],
        )
        return MailResult("bounce")
    if (
        parsed.message_id
        and MailMessage.objects.filter(
            direction=MailDirection.INBOUND, message_id=parsed.message_id
        ).exists()
    ):
        return MailResult("duplicate")
    if parsed.auth_failed:
        entry = quarantine_store(
            raw=raw,
            reason=QuarantineReason.SPOOFED,
            detail=f"{parsed.auth_failed}=fail",
            source=source,
            now=now,
        )
        return MailResult("quarantined", quarantine=entry)
    if _rate_limited(address_key(parsed.from_address), now):
        entry = quarantine_store(
            raw=raw, reason=QuarantineReason.RATE_LIMITED, detail="", source=source, now=now
        )
        return MailResult("quarantined", quarantine=entry)
    try:
        return mail_deliver(parsed=parsed, now=now)
    except ValidationError as error:  # e.g. an address the ticket cannot hold
        entry = quarantine_store(
            raw=raw,
            reason=QuarantineReason.REJECTED,
            detail=" ".join(error.messages),
            source=source,
            now=now,
        )
        return MailResult("quarantined", quarantine=entry)

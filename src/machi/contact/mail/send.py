"""Sending the contact center's mail: replies to a mail ticket's resident and the one
acknowledgement of a new mail ticket.

A mail is recorded (``MailMessage``, status pending, its Message-ID fixed) in the same
transaction as the reply, and sent by the worker after commit. A failure is recorded
and the mail stays pending: the periodic retry sends it later, so a failing SMTP server
never loses a reply.
"""

from __future__ import annotations

import datetime
import logging
from email.utils import make_msgid
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.contact.mail.bounce import REFERENCE_HEADER
from machi.contact.mail.thread import subject_with_tag
from machi.contact.models import (
    ArticleKind,
    MailDirection,
    MailMessage,
    MailStatus,
    Ticket,
    TicketArticle,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias

logger = logging.getLogger(__name__)

RETRY_DELAYS = [60, 300, 900, 3600]  # seconds; then hourly, until the server takes it


def _thread_ids(ticket: Ticket) -> list[str]:
    return list(
        ticket.mails.exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)[:50]
    )


def _new_message_id() -> str:
    domain = settings.MACHI_CONTACT_MAIL_FROM.rpartition("@")[2].strip(">") or "machi.invalid"
    return make_msgid(domain=domain).strip("<>")


def _queue(
    ticket: Ticket,
    *,
    article: TicketArticle | None,
    subject: str,
    acknowledgement: bool,
    now: datetime.datetime,
) -> MailMessage:
    thread = _thread_ids(ticket)
    last_in = ticket.mails.filter(direction=MailDirection.INBOUND).order_by("-created_at").first()
    mail = MailMessage.objects.create(
        ticket=ticket,
        article=article,
        direction=MailDirection.OUTBOUND,
        message_id=_new_message_id(),
        in_reply_to=last_in.message_id if last_in else (thread[-1] if thread else ""),
        references=" ".join(thread),
        subject=subject_with_tag(ticket, subject)[:300],
        recipient=ticket.contact_email,
        acknowledgement=acknowledgement,
        status=MailStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    transaction.on_commit(
        partial(_enqueue, current_lg_code(), mail.pk), using=current_tenant_alias()
    )
    return mail


def _enqueue(lg_code: str, mail_id: int) -> None:
    from machi.contact.tasks import contact_mail_send_task

    try:
        contact_mail_send_task.enqueue(lg_code, mail_id)
    except Exception:  # recorded as pending: the periodic retry sends it
        logger.warning("contact mail %s could not be enqueued", mail_id, exc_info=True)


def mail_reply_queue(*, article: TicketArticle, now: datetime.datetime) -> MailMessage | None:
    """Queue *article* (a reply) to the resident of a mail ticket; None for other
    tickets or a ticket without an address."""
    ticket = article.ticket
    if article.kind != ArticleKind.REPLY or ticket.channel != "mail" or not ticket.contact_email:
        return None
    last = ticket.mails.order_by("-created_at", "-id").first()
    return _queue(
        ticket,
        article=article,
        subject=last.subject if last else ticket.subject,
        acknowledgement=False,
        now=now,
    )


def mail_acknowledgement_queue(*, ticket: Ticket, now: datetime.datetime) -> MailMessage | None:
    """The one automatic acknowledgement of a new mail ticket."""
    if ticket.mails.filter(acknowledgement=True).exists() or not ticket.contact_email:
        return None
    return _queue(ticket, article=None, subject=ticket.subject, acknowledgement=True, now=now)


def _ack_body(ticket: Ticket) -> str:
    return _(
        "お問い合わせを受け付けました。\n"
        "問い合わせ番号: %(number)s\n\n"
        "担当者から順に回答します。このメールに返信すると、同じお問い合わせに追加されます。\n"
        "（このメールは自動送信です）"
    ) % {"number": ticket.number}


def _build(mail: MailMessage, connection) -> EmailMessage:
    body = mail.article.body if mail.article_id else _ack_body(mail.ticket)
    # the reference comes back in a delivery report's returned headers even where a
    # relay rewrote the Message-ID (machi.contact.mail.bounce)
    headers = {"Message-ID": f"<{mail.message_id}>", REFERENCE_HEADER: f"<{mail.message_id}>"}
    if mail.in_reply_to:
        headers["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        headers["References"] = " ".join(f"<{ref}>" for ref in mail.references.split())
    # RFC 3834: only the automatic acknowledgement is auto-replied; a reply an agent
    # wrote is a person's answer.
    if mail.acknowledgement:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    return EmailMessage(
        subject=mail.subject,
        body=body,
        from_email=settings.MACHI_CONTACT_MAIL_FROM,
        to=[mail.recipient],
        headers=headers,
        connection=connection,
    )


def mail_send(*, mail_id: int, now: datetime.datetime | None = None) -> bool:
    """Send one pending mail; True when the SMTP server took it. A failure is recorded
    (attempts, the error's kind, the next attempt) and the mail stays pending."""
    now = now or timezone.now()
    alias = current_tenant_alias()
    with transaction.atomic(using=alias):
        mail = (
            MailMessage.objects.select_for_update(of=("self",))
            .select_related("ticket", "article")
            .filter(pk=mail_id, status=MailStatus.PENDING)
            .first()
        )
        if mail is None:
            return False
        try:
            connection = get_connection(fail_silently=False)
            message = _build(mail, connection)
            message.send()
        except Exception as error:
            mail.attempts += 1
            delay = RETRY_DELAYS[min(mail.attempts - 1, len(RETRY_DELAYS) - 1)]
            mail.last_error = f"{type(error).__name__}: {str(error)[:200]}"[:300]
            mail.next_attempt_at = now + datetime.timedelta(seconds=delay)
            mail.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            logger.warning(
                "contact mail %s of ticket %s not sent (attempt %s): %s",
                mail.pk,
                mail.ticket.number,
                mail.attempts,
                type(error).__name__,
            )
            return False
        mail.attempts += 1
        mail.status = MailStatus.SENT
        mail.sent_at = now
        mail.next_attempt_at = None
        mail.last_error = ""
        mail.headers = [[name, str(value)] for name, value in message.message().items()]
        mail.save()
    return True


def mail_send_due(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every pending mail whose next attempt has come (the periodic retry)."""
    now = now or timezone.now()
    due = list(
        MailMessage.objects.filter(status=MailStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:500]
    )
    sent = sum(1 for pk in due if mail_send(mail_id=pk, now=now))
    return {"due": len(due), "sent": sent}

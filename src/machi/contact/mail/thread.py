"""Which ticket a received mail belongs to.

1. Its In-Reply-To and References, matched against the Message-IDs machi sent and
   received for a ticket (the newest reference first);
2. failing that, a ticket number in the subject (``[#C-2026-000123]``, as every mail
   machi sends carries) — only when the mail comes from the ticket's own address, so
   that nobody can write into another resident's ticket by guessing its number.

A merged ticket leads to the ticket it was merged into; a closed (完了) ticket takes no
more messages, and the mail starts a new ticket.
"""

from __future__ import annotations

import re

from machi.contact.models import MailMessage, Ticket, TicketState

SUBJECT_TAG = re.compile(r"\[#C-(\d{4}-\d{6})\]")


def subject_tag(ticket: Ticket) -> str:
    return f"[#C-{ticket.number}]"


def subject_with_tag(ticket: Ticket, subject: str) -> str:
    tag = subject_tag(ticket)
    subject = SUBJECT_TAG.sub("", subject or ticket.subject).strip()
    if not re.match(r"(?i)re\s*:", subject):
        subject = f"Re: {subject}"
    return f"{subject} {tag}"


def _follow(ticket: Ticket | None) -> Ticket | None:
    seen = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    if ticket is None or ticket.state == TicketState.CLOSED:
        return None
    return ticket


def thread_find(
    *, in_reply_to: str, references: list[str], subject: str, from_address: str
) -> Ticket | None:
    wanted = [ref for ref in [in_reply_to, *reversed(references)] if ref]
    if wanted:
        found = {
            mail.message_id: mail.ticket
            for mail in MailMessage.objects.filter(message_id__in=wanted).select_related("ticket")
        }
        for ref in wanted:
            if ref in found:
                return _follow(found[ref])
    match = SUBJECT_TAG.search(subject or "")
    if match:
        ticket = Ticket.objects.filter(number=match.group(1)).first()
        if ticket and ticket.contact_email.strip().lower() == from_address.strip().lower():
            return _follow(ticket)
    return None

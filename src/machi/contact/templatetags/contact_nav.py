"""``{% quarantine_held as held %}`` for the contact center's nav: how many received
mails wait in the quarantine, or None for staff who may not open it (an administrator
on the FAQ pages), so that the link appears only to those it would let in."""

from __future__ import annotations

from typing import Any

from django import template

from machi.contact.models import QuarantinedMail, QuarantineStatus
from machi.contact.services.tickets import staff_may_work_tickets

register = template.Library()


@register.simple_tag(takes_context=True)
def quarantine_held(context: Any) -> int | None:
    request = context.get("request")
    if request is None or not staff_may_work_tickets(request.user):
        return None
    return QuarantinedMail.objects.filter(status=QuarantineStatus.HELD).count()

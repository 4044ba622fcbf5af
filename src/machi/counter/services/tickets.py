"""Issuing and calling queue tickets. Each service is one transaction on the
municipality's database and appends one audit entry (tickets hold no personal data).

Life of a ticket::

    waiting ──call_next──▶ called ──start──▶ serving ──finish──▶ done
       │                     │ ▲
       │                     │ └─recall
       └──cancel──▶ cancelled ◀─cancel─┤
                                      └─no_show──▶ no_show

The intake finishes its ticket itself: confirming a visit opened from a ticket at a
window (called or serving) makes it done (:func:`ticket_finish_for_visit`).

Timestamps: ``issued_at``, ``called_at`` (first call; waiting time = called_at −
issued_at), ``served_at`` and ``finished_at`` (handling time = finished_at −
served_at). ``last_called_at`` orders the display board (a recall moves a number up).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.audit.services import AuditRecord, Terminal, audit_append
from machi.counter.models import Ticket, TicketDay, TicketPurpose, TicketStatus
from machi.counter.models.tickets import AT_WINDOW
from machi.registry.services import filing_batch
from machi.tenancy.context import current_tenant_alias

COUNTER_MAX_LENGTH = Ticket._meta.get_field("counter").max_length


class TicketError(ValidationError):
    """A ticket action was refused; the message says why (nothing was written)."""


def _audit(
    ticket: Ticket, verb: str, *, actor: Any | None, terminal: Terminal | None, **detail: Any
) -> None:
    audit_append(
        action=f"ticket.{verb}",
        actor=actor,
        object_type="ticket",
        object_id=ticket.label,
        function=f"counter.ticket_{verb}",
        terminal=terminal,
        detail={"status": ticket.status, **detail},
    )


def _purposes(purpose: str | Iterable[str] | None) -> list[str]:
    if purpose is None:
        return []
    codes = [purpose] if isinstance(purpose, str) else list(purpose)
    unknown = [code for code in codes if code not in TicketPurpose.values]
    if unknown:
        raise TicketError(_("用件が正しくありません: %(codes)s") % {"codes": ", ".join(unknown)})
    return codes


def _counter_name(counter: str) -> str:
    name = (counter or "").strip()
    if not name:
        raise TicketError(_("窓口名を入力してください。"))
    if len(name) > COUNTER_MAX_LENGTH:
        raise TicketError(
            _("窓口名は %(max)s 文字以内にしてください。") % {"max": COUNTER_MAX_LENGTH}
        )
    return name


def ticket_issue(
    *, purpose: str, actor: Any | None = None, terminal: Terminal | None = None
) -> Ticket:
    """Issue today's next number for ``purpose``.

    The day's counter row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
    transactions are IMMEDIATE) so concurrent issuing never hands out a number twice;
    the unique (issued_on, number) constraint backs this up.
    """
    if not purpose:
        raise TicketError(_("用件を選んでください。"))
    _purposes(purpose)
    using = current_tenant_alias()
    now = timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic(using=using):
        counter, _created = (
            TicketDay.objects.using(using).select_for_update().get_or_create(day=day)
        )
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        ticket = Ticket.objects.using(using).create(
            issued_on=day, number=counter.last_number, purpose=purpose, issued_at=now
        )
        _audit(ticket, "issued", actor=actor, terminal=terminal, purpose=purpose)
    return ticket


def ticket_call_next(
    *,
    counter: str,
    purpose: str | Iterable[str] | None = None,
    actor: Any | None,
    terminal: Terminal | None,
) -> Ticket | None:
    """Call today's oldest waiting ticket (of ``purpose``, one code or several) to
    window ``counter``; None when no one waits.

    A window calls one ticket at a time: while its last ticket is still called or being
    served, calling the next one is refused (finish it or mark it absent first).
    """
    counter = _counter_name(counter)
    purposes = _purposes(purpose)
    using = current_tenant_alias()
    now = timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic(using=using):
        tickets = Ticket.objects.using(using).filter(issued_on=day)
        busy = tickets.filter(counter=counter, status__in=AT_WINDOW).order_by("number").first()
        if busy is not None:
            raise TicketError(
                _(
                    "%(counter)s には %(number)s番（%(status)s）がいます。"
                    "完了または不在にしてから次の方を呼んでください。"
                )
                % {"counter": counter, "number": busy.number, "status": busy.get_status_display()}
            )
        waiting = tickets.filter(status=TicketStatus.WAITING)
        if purposes:
            waiting = waiting.filter(purpose__in=purposes)
        # Two windows calling at once get different tickets: the row is locked and a
        # locked row is skipped (PostgreSQL); SQLite serialises the transactions.
        ticket = waiting.select_for_update(skip_locked=True).order_by("issued_at", "number").first()
        if ticket is None:
            return None
        ticket.status = TicketStatus.CALLED
        ticket.counter = counter
        ticket.called_at = now
        ticket.last_called_at = now
        ticket.call_count = 1
        ticket.called_by_id = getattr(actor, "pk", None)
        ticket.called_by_username = getattr(actor, "username", "") or ""
        ticket.save(
            update_fields=[
                "status",
                "counter",
                "called_at",
                "last_called_at",
                "call_count",
                "called_by_id",
                "called_by_username",
            ]
        )
        _audit(ticket, "called", actor=actor, terminal=terminal, counter=counter)
    return ticket


def _transition(
    *,
    ticket: Ticket,
    verb: str,
    allowed_from: tuple[str, ...],
    actor: Any | None,
    terminal: Terminal | None,
    **changes: Any,
) -> Ticket:
    """Lock the ticket, check its status, apply ``changes`` and audit ``ticket.<verb>``."""
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        locked = Ticket.objects.using(using).select_for_update().filter(pk=ticket.pk).first()
        if locked is None:
            raise TicketError(_("整理券が見つかりません。"))
        if locked.status not in allowed_from:
            raise TicketError(_refusal(locked, verb))
        for name, value in changes.items():
            setattr(locked, name, value(locked) if callable(value) else value)
        locked.save(update_fields=list(changes))
        _audit(locked, verb, actor=actor, terminal=terminal, counter=locked.counter)
    return locked


# Whole sentences per action (not word fragments) so that every language can say them.
_NOT_CALLED_YET = {
    "recalled": gettext_lazy("%(number)s番はまだ呼び出していないため、再呼出できません。"),
    "started": gettext_lazy("%(number)s番はまだ呼び出していないため、受付開始できません。"),
    "finished": gettext_lazy("%(number)s番はまだ呼び出していないため、完了にできません。"),
    "no_show": gettext_lazy("%(number)s番はまだ呼び出していないため、不在にできません。"),
    "cancelled": gettext_lazy("%(number)s番はまだ呼び出していないため、取消できません。"),
}
_NOT_IN_THIS_STATUS = {
    "recalled": gettext_lazy("%(number)s番は「%(status)s」のため、再呼出できません。"),
    "started": gettext_lazy("%(number)s番は「%(status)s」のため、受付開始できません。"),
    "finished": gettext_lazy("%(number)s番は「%(status)s」のため、完了にできません。"),
    "no_show": gettext_lazy("%(number)s番は「%(status)s」のため、不在にできません。"),
    "cancelled": gettext_lazy("%(number)s番は「%(status)s」のため、取消できません。"),
}


def _refusal(ticket: Ticket, verb: str) -> str:
    values = {"number": ticket.number, "status": ticket.get_status_display()}
    if ticket.status == TicketStatus.WAITING:
        return str(_NOT_CALLED_YET[verb]) % values
    if verb == "finished" and ticket.status == TicketStatus.CALLED:
        return _("%(number)s番は受付開始の前のため、完了にできません。") % values
    return str(_NOT_IN_THIS_STATUS[verb]) % values


def ticket_recall(*, ticket: Ticket, actor: Any | None, terminal: Terminal | None) -> Ticket:
    """Call a called ticket again (the board shows it on top again)."""
    now = timezone.now()
    return _transition(
        ticket=ticket,
        verb="recalled",
        allowed_from=(TicketStatus.CALLED,),
        actor=actor,
        terminal=terminal,
        last_called_at=now,
        call_count=lambda t: t.call_count + 1,
    )


def ticket_start(*, ticket: Ticket, actor: Any | None, terminal: Terminal | None) -> Ticket:
    """The resident has come to the window: handling starts (受付開始)."""
    return _transition(
        ticket=ticket,
        verb="started",
        allowed_from=(TicketStatus.CALLED,),
        actor=actor,
        terminal=terminal,
        status=TicketStatus.SERVING,
        served_at=timezone.now(),
    )


def ticket_finish(*, ticket: Ticket, actor: Any | None, terminal: Terminal | None) -> Ticket:
    """Handling is over (完了). Only a ticket being served can be finished."""
    return _transition(
        ticket=ticket,
        verb="finished",
        allowed_from=(TicketStatus.SERVING,),
        actor=actor,
        terminal=terminal,
        status=TicketStatus.DONE,
        finished_at=timezone.now(),
    )


def ticket_no_show(*, ticket: Ticket, actor: Any | None, terminal: Terminal | None) -> Ticket:
    """The resident did not come when called (不在)."""
    return _transition(
        ticket=ticket,
        verb="no_show",
        allowed_from=(TicketStatus.CALLED,),
        actor=actor,
        terminal=terminal,
        status=TicketStatus.NO_SHOW,
        finished_at=timezone.now(),
    )


def ticket_cancel(*, ticket: Ticket, actor: Any | None, terminal: Terminal | None) -> Ticket:
    """Cancel a ticket issued by mistake or whose holder left before being served."""
    return _transition(
        ticket=ticket,
        verb="cancelled",
        allowed_from=(TicketStatus.WAITING, TicketStatus.CALLED),
        actor=actor,
        terminal=terminal,
        status=TicketStatus.CANCELLED,
        finished_at=timezone.now(),
    )


def ticket_finish_for_visit(
    *, ticket: Ticket, visit_code: str, actor: Any | None, terminal: Terminal | None
) -> Ticket | None:
    """The intake confirmed visit ``visit_code`` for ``ticket``: the resident's turn at
    the window is over, so the ticket is done (the board and the window's console let it
    go, and the metrics count its handling time).

    Idempotent and never refuses: the visit is what matters. A ticket no longer at a
    window (done already, absent, cancelled, or waiting again) is left as it is and None
    is returned; otherwise the finished ticket. A called ticket whose 受付開始 was not
    pressed is taken as served from now (its handling time is then zero, not unknown).
    Joins the caller's transaction; audited as ``ticket.finished`` with the visit code,
    in the caller's filing batch when there is one (the intake writes its audit entries
    at its end)."""
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using, savepoint=False):
        locked = Ticket.objects.using(using).select_for_update().filter(pk=ticket.pk).first()
        if locked is None or locked.status not in AT_WINDOW:
            return None
        locked.status = TicketStatus.DONE
        locked.served_at = locked.served_at or now
        locked.finished_at = now
        locked.save(update_fields=["status", "served_at", "finished_at"])
        with filing_batch() as batch:
            batch.audits.append(
                AuditRecord(
                    action="ticket.finished",
                    actor=actor,
                    object_type="ticket",
                    object_id=locked.label,
                    function="counter.ticket_finish_for_visit",
                    terminal=terminal,
                    detail={
                        "status": locked.status,
                        "counter": locked.counter,
                        "visit": visit_code,
                    },
                )
            )
    return locked

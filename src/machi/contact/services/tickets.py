"""Tickets: create, reply, note, change state, assign, escalate, merge, link.

Each service is one transaction on the municipality's database, writes the ticket's
history (``TicketEvent``) and one audit entry naming the ticket by its number (never
its contents: a ticket may hold personal data).

States and the SLA clock::

    新規 new ─┐  reply   ┌─▶ 回答待ち pending_customer ─ customer writes ─▶ 対応中 open
              └────────▶ 対応中 open ──────────────▶ 解決 resolved ──▶ 完了 closed
                                  ▲                       │ reopen
                                  └───────────────────────┘

The clock runs in 新規 and 対応中 and stands in 回答待ち and 解決: the business time
it stood is added to ``sla_paused_seconds`` when it runs again, and the due moments
move by as much. The first reply meets the first-response target; 解決 (or 完了
directly) meets the resolution target. A target met late, or passed while the
ticket waited for the sweep, records its breach at the due moment itself.

First-contact resolution (一次解決): a ticket counts as resolved at first contact when,
the first time it is resolved, it has exactly one reply to the resident, no message
from the resident after that reply, it never waited for the resident (回答待ち), it
was never escalated to another department, and it was not merged into another. A
reopened ticket loses the mark; merged tickets are not counted at all.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.contact.calendar import contact_calendar
from machi.contact.models import (
    PAUSED,
    ArticleKind,
    BodyFormat,
    Channel,
    FaqSearch,
    LinkKind,
    Priority,
    SlaPolicy,
    Ticket,
    TicketArticle,
    TicketEvent,
    TicketLink,
    TicketSequence,
    TicketState,
)
from machi.contact.sla import sla_times
from machi.japanese.business_time import business_seconds_between
from machi.linkage.services import outbox_append
from machi.tenancy.context import current_lg_code, current_tenant_alias

# Events through the outbox (docs/integration.md): thin, the ticket's number and kinds
# of change only, never the resident's name, address or the text of a message.
CREATED = "jp.machi.ticket.created"
STATUS_CHANGED = "jp.machi.ticket.status_changed"
REPLIED = "jp.machi.ticket.replied"
ESCALATED = "jp.machi.ticket.escalated"
MERGED = "jp.machi.ticket.merged"

WORKING_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)
SUBJECT_MAX = Ticket._meta.get_field("subject").max_length
BODY_MAX = 50_000
REASON_MAX = 500

# Which state may follow which; staff choose any of these, the resident's message
# moves 回答待ち back to 対応中 by itself.
TRANSITIONS: dict[str, set[str]] = {
    TicketState.NEW: {TicketState.OPEN, TicketState.PENDING_CUSTOMER, TicketState.RESOLVED,
                      TicketState.CLOSED},
    TicketState.OPEN: {TicketState.PENDING_CUSTOMER, TicketState.RESOLVED, TicketState.CLOSED},
    TicketState.PENDING_CUSTOMER: {TicketState.OPEN, TicketState.RESOLVED, TicketState.CLOSED},
    TicketState.RESOLVED: {TicketState.OPEN, TicketState.CLOSED},
    TicketState.CLOSED: set(),
}  # fmt: skip


class TicketError(ValidationError):
    """A ticket action was refused; the message says why (nothing was written)."""


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def staff_may_work_tickets(staff: Any) -> bool:
    """A working role (窓口, 担当課, 監督者) in the municipality in force; an
    administrator without one, a platform operator or another municipality's staff
    may not."""
    if staff is None or not getattr(staff, "is_authenticated", False):
        return False
    if getattr(staff, "is_platform_operator", False):
        return False
    municipality = getattr(staff, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        return False
    return staff.has_role(*WORKING_ROLES)


def _require_staff(actor: Any) -> None:
    if not staff_may_work_tickets(actor):
        raise PermissionDenied(_("問い合わせを扱う権限がありません。"))


def _event(
    ticket: Ticket,
    action: str,
    *,
    actor: Any | None,
    now: datetime.datetime,
    from_value: str = "",
    to_value: str = "",
    reason: str = "",
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, action=action, actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "", from_value=str(from_value)[:200],
        to_value=str(to_value)[:200], reason=reason[:REASON_MAX], created_at=now,
    )  # fmt: skip


def _audit(ticket: Ticket, verb: str, *, actor: Any, terminal: Terminal | None, **detail) -> None:
    audit_append(
        action=f"contact.ticket.{verb}",
        actor=actor,
        object_type="contact_ticket",
        object_id=ticket.number,
        function=f"contact.ticket_{verb}",
        terminal=terminal,
        detail={"state": ticket.state, **detail},
    )


def _emit(type: str, ticket: Ticket, now: datetime.datetime, **data: Any) -> None:
    outbox_append(
        type=type, subject=ticket.number, data={"number": ticket.number, **data}, time=now
    )


def _emit_state(ticket: Ticket, old: str, now: datetime.datetime) -> None:
    if old != ticket.state:
        _emit(STATUS_CHANGED, ticket, now, **{"from": old, "to": ticket.state})


def _text(value: str, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise TicketError(_("%(field)sを入力してください。") % {"field": field})
    if len(text) > limit:
        raise TicketError(
            _("%(field)sは %(max)s 文字以内にしてください。") % {"field": field, "max": limit}
        )
    return text


def _reason(reason: str) -> str:
    return _text(reason, field=_("理由"), limit=REASON_MAX)


# ---------------------------------------------------------------- SLA


def _apply_policy(ticket: Ticket) -> None:
    policy = SlaPolicy.objects.filter(priority=ticket.priority).first()
    ticket.sla_first_response_minutes = policy.first_response_minutes if policy else None
    ticket.sla_resolution_minutes = policy.resolution_minutes if policy else None
    ticket.sla_warn_before_minutes = policy.warn_before_minutes if policy else None


def sla_refresh(ticket: Ticket) -> None:
    """Set the ticket's due moments from its targets and pauses (not saved)."""
    if ticket.state in PAUSED or ticket.state == TicketState.CLOSED:
        ticket.sla_first_response_due_at = ticket.sla_resolution_due_at = None
        ticket.sla_warn_at = None
        return
    times = sla_times(
        calendar=contact_calendar(),
        created_at=ticket.created_at,
        paused_seconds=ticket.sla_paused_seconds,
        first_response_minutes=ticket.sla_first_response_minutes,
        resolution_minutes=ticket.sla_resolution_minutes,
        warn_before_minutes=ticket.sla_warn_before_minutes,
        first_response_done=ticket.first_response_at is not None,
    )
    ticket.sla_first_response_due_at = times.first_response_due
    ticket.sla_resolution_due_at = times.resolution_due
    ticket.sla_warn_at = times.warn_at if ticket.sla_escalated_at is None else None


def _business_minutes(ticket: Ticket, until: datetime.datetime) -> int:
    seconds = business_seconds_between(ticket.created_at, until, contact_calendar())
    return max(0, seconds - ticket.sla_paused_seconds) // 60


def _pause(ticket: Ticket, now: datetime.datetime) -> None:
    if ticket.sla_paused_since is None:
        ticket.sla_paused_since = now


def _resume(ticket: Ticket, now: datetime.datetime) -> None:
    if ticket.sla_paused_since is not None:
        ticket.sla_paused_seconds += business_seconds_between(
            ticket.sla_paused_since, now, contact_calendar()
        )
        ticket.sla_paused_since = None


def _record_first_response(ticket: Ticket, now: datetime.datetime) -> None:
    if ticket.first_response_at is not None:
        return
    due = ticket.sla_first_response_due_at
    ticket.first_response_at = now
    ticket.first_response_business_minutes = _business_minutes(ticket, now)
    if due is not None and now > due and ticket.sla_first_response_breached_at is None:
        ticket.sla_first_response_breached_at = due


def _first_contact_resolution(ticket: Ticket) -> bool:
    if ticket.escalation_count or ticket.merged_into_id is not None:
        return False
    if ticket.events.filter(action="state_changed", to_value=TicketState.PENDING_CUSTOMER).exists():
        return False
    replies = list(ticket.articles.filter(kind=ArticleKind.REPLY).order_by("created_at", "id")[:2])
    if len(replies) != 1:
        return False
    return not ticket.articles.filter(
        kind=ArticleKind.CUSTOMER, created_at__gt=replies[0].created_at
    ).exists()


def _set_state(ticket: Ticket, state: str, *, now: datetime.datetime) -> str:
    """Move to *state*, stopping or restarting the clock (not saved); returns the old."""
    old = ticket.state
    if state == old:
        return old
    if state not in TRANSITIONS[old]:
        raise TicketError(
            _("「%(old)s」から「%(new)s」には変えられません。")
            % {"old": TicketState(old).label, "new": TicketState(state).label}
        )
    due = ticket.sla_resolution_due_at
    if old in PAUSED:
        _resume(ticket, now)
    ticket.state = state
    ends = state in (TicketState.RESOLVED, TicketState.CLOSED) and old not in PAUSED
    if ends and due is not None and now > due and ticket.sla_resolution_breached_at is None:
        ticket.sla_resolution_breached_at = due
    if state == TicketState.RESOLVED:
        first_time = ticket.resolved_at is None
        ticket.resolved_at = now
        ticket.resolution_business_minutes = _business_minutes(ticket, now)
        if first_time:
            ticket.first_contact_resolution = _first_contact_resolution(ticket)
    elif state == TicketState.CLOSED:
        ticket.closed_at = now
        if ticket.resolved_at is None:
            ticket.resolved_at = now
            ticket.resolution_business_minutes = _business_minutes(ticket, now)
            ticket.first_contact_resolution = _first_contact_resolution(ticket)
    elif old == TicketState.RESOLVED:  # reopened
        ticket.first_contact_resolution = False
    if state in PAUSED:
        _pause(ticket, now)
    sla_refresh(ticket)
    return old


def _save(ticket: Ticket, now: datetime.datetime) -> None:
    ticket.updated_at = now
    ticket.save()


# ---------------------------------------------------------------- numbering


def _next_number(now: datetime.datetime) -> str:
    year = timezone.localtime(now).year
    sequence, _created = TicketSequence.objects.select_for_update().get_or_create(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{year}-{sequence.last_number:06d}"


# ---------------------------------------------------------------- services


def ticket_create(
    *,
    channel: str,
    subject: str,
    body: str,
    actor: Any | None,
    priority: int = Priority.NORMAL,
    group: str = "",
    group_name: str = "",
    topic: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    body_format: str = BodyFormat.PLAIN,
    sender: str = "",
    message_id: str = "",
    faq_search_ids: list[int] | None = None,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """A new ticket (新規) with the resident's question as its first article.

    Phone and counter tickets are created by staff; web and mail tickets by the
    public form and the mail receiver (``actor`` None). ``faq_search_ids`` are the
    resident's FAQ searches before the form: they are marked as followed by a ticket
    (not deflected).
    """
    if channel not in Channel.values:
        raise TicketError(_("受付経路が正しくありません。"))
    if channel in (Channel.PHONE, Channel.COUNTER) or actor is not None:
        _require_staff(actor)
    if priority not in Priority.values:
        raise TicketError(_("優先度が正しくありません。"))
    if body_format not in BodyFormat.values:
        raise TicketError(_("本文の形式が正しくありません。"))
    subject = _text(subject, field=_("件名"), limit=SUBJECT_MAX)
    body = _text(body, field=_("内容"), limit=BODY_MAX)
    now = _now(now)
    with _atomic():
        ticket = Ticket(
            number=_next_number(now), channel=channel, subject=subject, topic=topic[:40],
            priority=priority, group=group[:40], group_name=group_name[:100],
            contact_name=contact_name.strip()[:100], contact_email=contact_email.strip(),
            contact_phone=contact_phone.strip()[:30], created_by_id=getattr(actor, "pk", None),
            created_at=now, updated_at=now,
        )  # fmt: skip
        _apply_policy(ticket)
        sla_refresh(ticket)
        ticket.full_clean(exclude=["merged_into"])
        ticket.save()
        TicketArticle.objects.create(
            ticket=ticket, kind=ArticleKind.CUSTOMER, channel=channel, body=body,
            body_format=body_format, sender=sender[:300], message_id=message_id[:300],
            author_id=getattr(actor, "pk", None) if channel == Channel.PHONE else None,
            author_username=getattr(actor, "username", "") if channel == Channel.PHONE else "",
            created_at=now,
        )  # fmt: skip
        _event(ticket, "created", actor=actor, now=now, to_value=ticket.state)
        if faq_search_ids:
            FaqSearch.objects.filter(pk__in=faq_search_ids, ticket__isnull=True).update(
                ticket=ticket
            )
        _audit(ticket, "created", actor=actor, terminal=terminal, channel=channel)
        _emit(CREATED, ticket, now, channel=channel, state=ticket.state,
              priority=ticket.priority, group=ticket.group, topic=ticket.topic)  # fmt: skip
    return ticket


def _open_ticket(ticket: Ticket) -> Ticket:
    fresh = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if fresh.merged_into_id is not None:
        raise TicketError(_("この問い合わせは %(number)s に統合されています。") % {
            "number": fresh.merged_into.number})  # fmt: skip
    return fresh


def ticket_reply(
    *,
    ticket: Ticket,
    body: str,
    actor: Any,
    state: str | None = None,
    body_format: str = BodyFormat.PLAIN,
    channel: str | None = None,
    recipients: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> TicketArticle:
    """A reply to the resident. The first one meets the first-response target; a 新規
    ticket becomes 対応中, or *state* (e.g. 解決 when the answer settles it, 回答待ち
    when the resident must answer)."""
    _require_staff(actor)
    body = _text(body, field=_("回答"), limit=BODY_MAX)
    if body_format not in BodyFormat.values:
        raise TicketError(_("本文の形式が正しくありません。"))
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        if ticket.state == TicketState.CLOSED:
            raise TicketError(_("完了した問い合わせには回答できません。"))
        article = TicketArticle.objects.create(
            ticket=ticket, kind=ArticleKind.REPLY, channel=channel or ticket.channel, body=body,
            body_format=body_format, author_id=actor.pk, author_username=actor.username,
            recipients=recipients[:1000], message_id=message_id[:300],
            in_reply_to=in_reply_to[:300], created_at=now,
        )  # fmt: skip
        _record_first_response(ticket, now)
        target = state or (TicketState.OPEN if ticket.state == TicketState.NEW else ticket.state)
        old = _set_state(ticket, target, now=now)
        sla_refresh(ticket)
        _save(ticket, now)
        if old != ticket.state:
            _event(ticket, "state_changed", actor=actor, now=now, from_value=old,
                   to_value=ticket.state)  # fmt: skip
        _audit(ticket, "replied", actor=actor, terminal=terminal)
        _emit(REPLIED, ticket, now, article_id=article.pk, channel=article.channel)
        _emit_state(ticket, old, now)
        # a mail ticket's reply goes to the resident by mail, sent after commit
        from machi.contact.mail.send import mail_reply_queue

        article.ticket = ticket
        mail_reply_queue(article=article, now=now)
    return article


def ticket_customer_message(
    *,
    ticket: Ticket,
    body: str,
    channel: str,
    sender: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    now: datetime.datetime | None = None,
) -> TicketArticle:
    """The resident writes again (web follow-up, mail reply): 回答待ち and 解決 go back
    to 対応中 and the clock runs again."""
    body = _text(body, field=_("内容"), limit=BODY_MAX)
    if channel not in Channel.values:
        raise TicketError(_("受付経路が正しくありません。"))
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        if ticket.state == TicketState.CLOSED:
            raise TicketError(_("完了した問い合わせです。新しくお問い合わせください。"))
        article = TicketArticle.objects.create(
            ticket=ticket, kind=ArticleKind.CUSTOMER, channel=channel, body=body,
            sender=sender[:300], message_id=message_id[:300], in_reply_to=in_reply_to[:300],
            created_at=now,
        )  # fmt: skip
        old = ticket.state
        if old in PAUSED:
            _set_state(ticket, TicketState.OPEN, now=now)
            _event(ticket, "state_changed", actor=None, now=now, from_value=old,
                   to_value=ticket.state, reason="customer_message")  # fmt: skip
        _save(ticket, now)
        _emit_state(ticket, old, now)
        _audit(ticket, "customer_message", actor=None, terminal=None, channel=channel)
    return article


def ticket_mail_bounced(*, ticket: Ticket, status: str, now: datetime.datetime) -> TicketEvent:
    """A reply mail came back undelivered (a delivery report): in the history as
    「返信が届きませんでした」 with the status code, so the agent reaches the resident
    another way. The state stays: the answer was given, only not received."""
    with _atomic():
        event = _event(ticket, "mail_bounced", actor=None, now=now, to_value=status or "-")
        _audit(ticket, "mail_bounced", actor=None, terminal=None, status=status)
    return event


def ticket_note(
    *,
    ticket: Ticket,
    body: str,
    actor: Any,
    body_format: str = BodyFormat.PLAIN,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> TicketArticle:
    """An internal note: staff only, never sent, meets no target."""
    _require_staff(actor)
    body = _text(body, field=_("メモ"), limit=BODY_MAX)
    if body_format not in BodyFormat.values:
        raise TicketError(_("本文の形式が正しくありません。"))
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        article = TicketArticle.objects.create(
            ticket=ticket, kind=ArticleKind.NOTE, channel=ticket.channel, body=body,
            body_format=body_format, author_id=actor.pk, author_username=actor.username,
            created_at=now,
        )  # fmt: skip
        _save(ticket, now)
        _audit(ticket, "noted", actor=actor, terminal=terminal)
    return article


def ticket_state_change(
    *,
    ticket: Ticket,
    state: str,
    actor: Any,
    reason: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Change the state (pausing the SLA clock in 回答待ち and 解決, resuming it when
    the ticket goes back to 対応中)."""
    _require_staff(actor)
    if state not in TicketState.values:
        raise TicketError(_("状態が正しくありません。"))
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        old = _set_state(ticket, state, now=now)
        if old == ticket.state:
            return ticket
        _save(ticket, now)
        _event(ticket, "state_changed", actor=actor, now=now, from_value=old,
               to_value=ticket.state, reason=reason.strip())  # fmt: skip
        _audit(ticket, "state_changed", actor=actor, terminal=terminal, previous=old)
        _emit_state(ticket, old, now)
    return ticket


def ticket_assign(
    *,
    ticket: Ticket,
    owner: Any | None,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Give the ticket to *owner* (a staff member who may work tickets here), or take
    it back to the group's queue (None)."""
    _require_staff(actor)
    if owner is not None and not staff_may_work_tickets(owner):
        raise TicketError(_("この職員には問い合わせを割り当てられません。"))
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        old = ticket.owner_username
        old_state = ticket.state
        ticket.owner_id = getattr(owner, "pk", None)
        ticket.owner_username = getattr(owner, "username", "") or ""
        if ticket.state == TicketState.NEW and owner is not None:
            _set_state(ticket, TicketState.OPEN, now=now)
        _save(ticket, now)
        _emit_state(ticket, old_state, now)
        _event(ticket, "assigned", actor=actor, now=now, from_value=old,
               to_value=ticket.owner_username)  # fmt: skip
        _audit(ticket, "assigned", actor=actor, terminal=terminal, owner_id=ticket.owner_id)
    return ticket


def ticket_escalate(
    *,
    ticket: Ticket,
    department: str,
    reason: str,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Hand the ticket to another department (its queue; no owner) with a reason. The
    history, articles and SLA clock go with it."""
    from machi.accounts.models import Department

    _require_staff(actor)
    reason = _reason(reason)
    target = Department.objects.filter(
        municipality__lg_code=current_lg_code(), code=department
    ).first()
    if target is None:
        raise TicketError(_("担当課が見つかりません: %(code)s") % {"code": department})
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        if ticket.state == TicketState.CLOSED:
            raise TicketError(_("完了した問い合わせは回せません。"))
        if ticket.group == target.code:
            raise TicketError(_("すでに %(name)s の担当です。") % {"name": target.name})
        old = ticket.group
        ticket.group, ticket.group_name = target.code, target.name
        ticket.owner_id, ticket.owner_username = None, ""
        ticket.escalation_count += 1
        _save(ticket, now)
        _event(ticket, "escalated", actor=actor, now=now, from_value=old, to_value=target.code,
               reason=reason)  # fmt: skip
        _audit(ticket, "escalated", actor=actor, terminal=terminal, department=target.code)
        _emit(ESCALATED, ticket, now, **{"from": old, "to": target.code})
    return ticket


def ticket_merge(
    *,
    ticket: Ticket,
    into: Ticket,
    actor: Any,
    reason: str = "",
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Merge a duplicate into another ticket: its articles are copied into the target
    (marked with their origin), the duplicate is closed with ``merged_into`` set and
    answers nothing more. Returns the target."""
    _require_staff(actor)
    if ticket.pk == into.pk:
        raise TicketError(_("同じ問い合わせには統合できません。"))
    now = _now(now)
    with _atomic():
        source = _open_ticket(ticket)
        target = _open_ticket(into)
        if target.state == TicketState.CLOSED:
            raise TicketError(_("完了した問い合わせには統合できません。"))
        copies = [
            TicketArticle(
                ticket=target, kind=a.kind if a.kind != ArticleKind.REPLY else ArticleKind.NOTE,
                channel=a.channel, author_id=a.author_id, author_username=a.author_username,
                body=a.body if a.kind != ArticleKind.REPLY else f"[{source.number}] {a.body}",
                body_format=a.body_format, sender=a.sender, recipients=a.recipients,
                message_id=a.message_id, in_reply_to=a.in_reply_to, created_at=a.created_at,
            )
            for a in source.articles.all()
        ]  # fmt: skip
        TicketArticle.objects.bulk_create(copies)
        for link in source.links.all():
            TicketLink.objects.get_or_create(
                ticket=target, kind=link.kind, ref=link.ref, defaults={"created_at": now}
            )
        old = source.state
        source.merged_into = target
        source.state = TicketState.CLOSED
        source.closed_at = now
        source.first_contact_resolution = None
        source.sla_paused_since = None
        sla_refresh(source)
        _save(source, now)
        _save(target, now)
        _event(source, "merged", actor=actor, now=now, from_value=old, to_value=target.number,
               reason=reason.strip())  # fmt: skip
        _event(target, "merged_from", actor=actor, now=now, from_value=source.number,
               reason=reason.strip())  # fmt: skip
        _audit(source, "merged", actor=actor, terminal=terminal, into=target.number)
        _emit(MERGED, source, now, into=target.number)
        _emit_state(source, old, now)
    return target


def ticket_link(
    *,
    ticket: Ticket,
    kind: str,
    ref: str,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> TicketLink:
    """Link a counter visit (its 受付番号) or a resident's request (its public code)."""
    _require_staff(actor)
    if kind not in LinkKind.values:
        raise TicketError(_("リンクの種類が正しくありません。"))
    ref = _text(ref, field=_("番号"), limit=40)
    if kind == LinkKind.VISIT:
        from machi.counter.models import Visit

        if not Visit.objects.filter(public_code=ref).exists():
            raise TicketError(_("受付番号が見つかりません: %(ref)s") % {"ref": ref})
    if kind == LinkKind.REQUEST:
        from machi.requests.models import Request

        if not Request.objects.filter(public_code=ref).exists():
            raise TicketError(_("要望・通報の受付番号が見つかりません: %(ref)s") % {"ref": ref})
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        link, created = TicketLink.objects.get_or_create(
            ticket=ticket, kind=kind, ref=ref, defaults={"created_at": now}
        )
        if created:
            _event(ticket, "linked", actor=actor, now=now, to_value=f"{kind}:{ref}")
            _audit(ticket, "linked", actor=actor, terminal=terminal, kind=kind, ref=ref)
    return link


def ticket_link_resident(
    *,
    ticket: Ticket,
    atena_number: str,
    actor: Any,
    purpose: str,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Link the resident the ticket is about. Only staff who may view residents (a
    working role, as for the registry's screens), with a purpose; the resident is
    read through the registry's audited ``resident_get`` and the link is audited too."""
    from machi.registry.selectors import resident_get

    _require_staff(actor)
    purpose = _text(purpose, field=_("目的"), limit=300)
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        resident = resident_get(
            atena_number=(atena_number or "").strip(), actor=actor, terminal=terminal,
            function="contact.ticket_link_resident",
        )  # fmt: skip
        if resident is None:
            raise TicketError(_("宛名番号が見つかりません。"))
        ticket.atena_number = resident.atena_number
        _save(ticket, now)
        _event(ticket, "resident_linked", actor=actor, now=now, reason=purpose)
        audit_append(
            action="contact.ticket.resident_linked",
            actor=actor,
            object_type="resident",
            object_id=resident.atena_number,
            function="contact.ticket_link_resident",
            terminal=terminal,
            purpose=purpose,
            detail={"ticket": ticket.number},
        )
    return ticket


def ticket_group_set(
    *,
    ticket: Ticket,
    department: str,
    actor: Any,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Put a ticket nobody's group owns yet into a department's queue (振り分け). A
    ticket that already has a group moves only by ``ticket_escalate``, with a reason."""
    from machi.accounts.models import Department

    _require_staff(actor)
    target = Department.objects.filter(
        municipality__lg_code=current_lg_code(), code=department
    ).first()
    if target is None:
        raise TicketError(_("担当課が見つかりません: %(code)s") % {"code": department})
    now = _now(now)
    with _atomic():
        ticket = _open_ticket(ticket)
        if ticket.group:
            raise TicketError(
                _("担当課はすでに %(name)s です。ほかの課へはエスカレーションで回してください。")
                % {"name": ticket.group_name or ticket.group}
            )
        ticket.group, ticket.group_name = target.code, target.name
        _save(ticket, now)
        _event(ticket, "group_set", actor=actor, now=now, to_value=target.code)
        _audit(ticket, "group_set", actor=actor, terminal=terminal, department=target.code)
    return ticket


def ticket_answer_from_faq(
    *,
    ticket: Ticket,
    answer: Any,
    actor: Any,
    search_id: int | None = None,
    terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> TicketArticle:
    """Answer with a published FAQ entry and resolve the ticket in one step: the
    answer's text is the reply (Markdown), the ticket becomes 解決, and the agent's
    use of the entry counts as 役に立った."""
    from machi.contact.models import FaqAnswer, FaqStatus
    from machi.contact.services.faq import faq_feedback

    _require_staff(actor)
    if not isinstance(answer, FaqAnswer) or answer.status != FaqStatus.PUBLISHED:
        raise TicketError(_("公開されていないFAQでは回答できません。"))
    with _atomic():
        article = ticket_reply(
            ticket=ticket, body=answer.answer, actor=actor, state=TicketState.RESOLVED,
            body_format=BodyFormat.MARKDOWN, terminal=terminal, now=now,
        )  # fmt: skip
        faq_feedback(answer=answer, helped=True, source="agent", search_id=search_id)
        _audit(article.ticket, "answered_from_faq", actor=actor, terminal=terminal,
               faq=answer.pk)  # fmt: skip
    return article

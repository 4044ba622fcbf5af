"""The agent's screens (コールセンター): the ticket list, the phone ticket with 「似ている
FAQ」 while the agent types, the ticket page with its actions, and the counter's
hand-over.

Staff with a working role (窓口担当, 担当課職員, 監督者) of the municipality use them, as
the services require; the services check the rights again, so a POST the page did not
offer is refused all the same (403). Bad input comes back on the page with a message
and changes nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Least
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.models import Department, Staff
from machi.audit.services import Terminal
from machi.contact import forms
from machi.contact.calendar import contact_calendar
from machi.contact.mail.attachments import ticket_mails
from machi.contact.markup import body_html
from machi.contact.models import (
    PAUSED,
    Channel,
    FaqAnswer,
    FaqCategory,
    FaqSearch,
    FaqStatus,
    LinkKind,
    Ticket,
    TicketState,
)
from machi.contact.selectors import faq_search
from machi.contact.services import tickets as services
from machi.contact.services.faq import faq_search_log
from machi.japanese.business_time import business_seconds_between
from machi.tenancy.context import current_tenant_alias
from machi.web.decorators import roles_required

PAGE_SIZE = 50
SUGGESTIONS = 5
SEARCHES_KEPT = 50  # FAQ searches one phone ticket can carry (the agent's typing)

EVENT_LABELS = {
    "created": gettext_lazy("受付"),
    "state_changed": gettext_lazy("状態の変更"),
    "assigned": gettext_lazy("担当者の割当"),
    "group_set": gettext_lazy("担当課の振り分け"),
    "escalated": gettext_lazy("担当課へエスカレーション"),
    "mail_bounced": gettext_lazy("返信が届きませんでした"),
    "merged": gettext_lazy("統合"),
    "merged_from": gettext_lazy("統合（ほかの問い合わせから）"),
    "linked": gettext_lazy("リンク"),
    "resident_linked": gettext_lazy("住民の紐付け"),
    "sla_escalated": gettext_lazy("期限前エスカレーション"),
    "sla_first_response_breached": gettext_lazy("初回回答の期限超過"),
    "sla_resolution_breached": gettext_lazy("解決の期限超過"),
}

working_role_required = roles_required(*services.WORKING_ROLES)


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal.from_request(request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _departments(request: HttpRequest) -> list[Department]:
    return list(Department.objects.filter(municipality=request.user.municipality).order_by("id"))


def _department_name(departments: list[Department], code: str) -> str:
    return next((d.name for d in departments if d.code == code), "")


def _ticket_or_404(pk: int) -> Ticket:
    ticket = Ticket.objects.filter(pk=pk).select_related("merged_into").first()
    if ticket is None:
        raise Http404(_("問い合わせが見つかりません。"))
    return ticket


# ---------------------------------------------------------------- SLA as the agent reads it


@dataclass(frozen=True)
class SlaTimer:
    label: str
    kind: str  # met | breached | running | paused | none
    due: datetime.datetime | None = None
    left: str = ""  # business time left (running timers)
    at: datetime.datetime | None = None  # when met / breached


def _duration(seconds: int) -> str:
    minutes = max(0, seconds) // 60
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)s時間%(m)s分") % {"h": hours, "m": minutes}
    return _("%(m)s分") % {"m": minutes}


def _timer(label, *, target, done_at, due, breached_at, paused, now, calendar) -> SlaTimer:
    if target is None:
        return SlaTimer(label, "none")
    if done_at is not None:
        return SlaTimer(label, "breached" if breached_at else "met", at=done_at)
    if breached_at is not None or (due is not None and due <= now):
        return SlaTimer(label, "breached", due=due, at=breached_at or due)
    if paused or due is None:
        return SlaTimer(label, "paused")
    return SlaTimer(
        label, "running", due=due, left=_duration(business_seconds_between(now, due, calendar))
    )


def ticket_timers(ticket: Ticket, *, now: datetime.datetime, calendar) -> list[SlaTimer]:
    paused = ticket.state in PAUSED or ticket.state == TicketState.CLOSED
    return [
        _timer(
            _("初回回答"), target=ticket.sla_first_response_minutes,
            done_at=ticket.first_response_at, due=ticket.sla_first_response_due_at,
            breached_at=ticket.sla_first_response_breached_at, paused=paused, now=now,
            calendar=calendar,
        ),
        _timer(
            _("解決"), target=ticket.sla_resolution_minutes, done_at=ticket.resolved_at,
            due=ticket.sla_resolution_due_at, breached_at=ticket.sla_resolution_breached_at,
            paused=paused, now=now, calendar=calendar,
        ),
    ]  # fmt: skip


def _sla_summary(ticket: Ticket, timers: list[SlaTimer]) -> dict[str, Any]:
    """The one line of the list: breached, else the nearest running timer."""
    breached = [t for t in timers if t.kind == "breached"]
    running = sorted((t for t in timers if t.kind == "running"), key=lambda t: t.due)
    return {
        "breached": breached,
        "next": running[0] if running else None,
        "paused": ticket.state == TicketState.PENDING_CUSTOMER,
        "escalated": ticket.sla_escalated_at is not None,
    }


# ---------------------------------------------------------------- list


@require_GET
@never_cache
@working_role_required
def ticket_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    departments = _departments(request)
    form = forms.TicketFilterForm(request.GET or None, departments=departments)
    tickets = Ticket.objects.all()
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    state = data.get("state", "")
    if state == forms.ALL_STATES:
        pass
    elif state:
        tickets = tickets.filter(state=state)
    else:
        tickets = tickets.exclude(state=TicketState.CLOSED)
    if data.get("priority"):
        tickets = tickets.filter(priority=data["priority"])
    if data.get("group") == "-":
        tickets = tickets.filter(group="")
    elif data.get("group"):
        tickets = tickets.filter(group=data["group"])
    if data.get("owner") == "mine":
        tickets = tickets.filter(owner_id=request.user.pk)
    elif data.get("owner") == "none":
        tickets = tickets.filter(owner_id__isnull=True)
    if data.get("channel"):
        tickets = tickets.filter(channel=data["channel"])
    if data.get("sort") == forms.SORT_DUE:
        # the nearer of the two pending due moments; tickets whose clock stands last
        first, resolution = "sla_first_response_due_at", "sla_resolution_due_at"
        tickets = tickets.annotate(
            next_due=Least(Coalesce(first, resolution), Coalesce(resolution, first))
        ).order_by(F("next_due").asc(nulls_last=True), "-created_at", "-id")
    else:
        tickets = tickets.order_by("-created_at", "-id")
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    calendar = contact_calendar()
    rows = []
    for ticket in page.object_list:
        timers = ticket_timers(ticket, now=now, calendar=calendar)
        rows.append({"ticket": ticket, "sla": _sla_summary(ticket, timers)})
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query_string": query.urlencode(),
        "sort_due": data.get("sort") == forms.SORT_DUE,
    }
    template = "contact/staff/" + ("_ticket_rows.html" if _partial(request) else "tickets.html")
    return render(request, template, context)


# ---------------------------------------------------------------- FAQ suggestions


def _search_ids(values: list) -> list[int]:
    ids = []
    for value in values:
        if str(value).isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids[-SEARCHES_KEPT:]


def _suggest(query: str, previous: list[int]) -> dict[str, Any]:
    """Search the FAQ for what the agent typed and log the search (source agent)."""
    query = (query or "").strip()
    if not query:
        return {"hits": [], "searched": False, "search_ids": previous, "search_id": None}
    hits = faq_search(query=query, limit=SUGGESTIONS)
    logged = faq_search_log(query=query, source="agent", result_ids=[h.answer.pk for h in hits])
    return {
        "hits": [
            {"hit": hit, "answer_html": body_html(hit.answer.answer, "markdown")} for hit in hits
        ],
        "searched": True,
        "search_ids": [*previous, logged.pk][-SEARCHES_KEPT:],
        "search_id": logged.pk,
        "query": query,
    }


def _query_of(data) -> str:
    return (data.get("question") or "").strip() or (data.get("subject") or "").strip()


@require_GET
@never_cache
@working_role_required
def faq_suggestions(request: HttpRequest, lg_code: str) -> HttpResponse:
    """「似ている FAQ」 for the phone ticket form (htmx, debounced by the page)."""
    context = _suggest(_query_of(request.GET), _search_ids(request.GET.getlist("faq_search")))
    return render(request, "contact/staff/_faq_suggestions.html", context)


# ---------------------------------------------------------------- phone ticket


def _create_kwargs(request: HttpRequest, data: dict, departments, *, channel: str) -> dict:
    return {
        "channel": channel,
        "subject": data["subject"],
        "body": data["question"],
        "actor": request.user,
        "priority": data["priority"],
        "group": data["group"],
        "group_name": _department_name(departments, data["group"]),
        "topic": data["topic"],
        "contact_name": data["contact_name"],
        "contact_phone": data["contact_phone"],
        "contact_email": data["contact_email"],
        "terminal": _terminal(request),
    }


def _followed_searches(ids: list[int]) -> list[int]:
    return list(
        FaqSearch.objects.filter(pk__in=ids, ticket__isnull=True, source="agent").values_list(
            "pk", flat=True
        )
    )


@require_http_methods(["GET", "POST"])
@never_cache
@working_role_required
def ticket_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    departments = _departments(request)
    categories = list(FaqCategory.objects.all())
    post = request.POST if request.method == "POST" else None
    form = forms.PhoneTicketForm(post, departments=departments, categories=categories)
    suggestions: dict[str, Any] = {"hits": [], "searched": False, "search_ids": []}
    status = 200
    if post is not None:
        previous = _search_ids(post.getlist("faq_search"))
        faq_pk = post.get("answer_faq", "")
        if post.get("action") == "search":  # without JS: 「FAQ を検索」
            suggestions = _suggest(_query_of(post), previous)
            form = forms.PhoneTicketForm(
                initial={k: v for k, v in post.items() if k in form.fields},
                departments=departments,
                categories=categories,
            )
        else:
            answer = None
            if faq_pk:
                answer = FaqAnswer.objects.filter(
                    pk=int(faq_pk) if faq_pk.isdigit() else 0, status=FaqStatus.PUBLISHED
                ).first()
                if answer is None:
                    form.add_error(None, _("選んだ FAQ は公開されていません。"))
                elif not post.get("subject", "").strip():
                    # answering from the FAQ: its question names the call well enough
                    data = post.copy()
                    data["subject"] = answer.question
                    form = forms.PhoneTicketForm(
                        data, departments=departments, categories=categories
                    )
            if form.is_valid() and not form.non_field_errors():
                data = form.cleaned_data
                try:
                    with transaction.atomic(using=current_tenant_alias()):
                        ticket = services.ticket_create(
                            **_create_kwargs(request, data, departments, channel=Channel.PHONE),
                            faq_search_ids=_followed_searches(previous),
                        )
                        if answer is not None:
                            services.ticket_answer_from_faq(
                                ticket=ticket, answer=answer, actor=request.user,
                                search_id=previous[-1] if previous else None,
                                terminal=_terminal(request),
                            )  # fmt: skip
                except services.TicketError as refusal:
                    form.add_error(None, " ".join(refusal.messages))
                else:
                    if answer is not None:
                        messages.success(
                            request,
                            _("問い合わせ %(number)s を FAQ で回答し、一次解決にしました。")
                            % {"number": ticket.number},
                        )
                    else:
                        messages.success(
                            request,
                            _("問い合わせ %(number)s を受け付けました。")
                            % {"number": ticket.number},
                        )
                    return redirect("contact:ticket", lg_code, ticket.pk)
            status = 400
            suggestions = {**suggestions, "search_ids": previous}
    return render(
        request,
        "contact/staff/ticket_new.html",
        {"form": form, **suggestions},
        status=status,
    )


# ---------------------------------------------------------------- hand-over from the counter


@require_http_methods(["GET", "POST"])
@never_cache
@working_role_required
def handover(request: HttpRequest, lg_code: str) -> HttpResponse:
    """A counter clerk hands a question over to the contact center (channel 窓口),
    linked to the visit when its 受付番号 is given."""
    departments = _departments(request)
    categories = list(FaqCategory.objects.all())
    if request.method == "GET":
        form = forms.HandoverForm(
            initial={"visit": request.GET.get("visit", "")[:14]},
            departments=departments,
            categories=categories,
        )
        return render(request, "contact/staff/handover.html", {"form": form})
    form = forms.HandoverForm(request.POST, departments=departments, categories=categories)
    if form.is_valid():
        data = form.cleaned_data
        field = None  # where a refusal is shown: the visit's number, or the whole form
        try:
            with transaction.atomic(using=current_tenant_alias()):
                ticket = services.ticket_create(
                    **_create_kwargs(request, data, departments, channel=Channel.COUNTER)
                )
                if data["visit"].strip():
                    field = "visit"
                    services.ticket_link(
                        ticket=ticket, kind=LinkKind.VISIT, ref=data["visit"].strip(),
                        actor=request.user, terminal=_terminal(request),
                    )  # fmt: skip
        except services.TicketError as refusal:
            form.add_error(field, " ".join(refusal.messages))
        else:
            messages.success(
                request,
                _("問い合わせ %(number)s としてコールセンターに引き継ぎました。")
                % {"number": ticket.number},
            )
            return redirect("contact:handover", lg_code)
    return render(request, "contact/staff/handover.html", {"form": form}, status=400)


# ---------------------------------------------------------------- detail and actions


def _working_staff(request: HttpRequest) -> list[Staff]:
    return list(
        Staff.objects.filter(
            municipality=request.user.municipality,
            is_active=True,
            memberships__role__in=services.WORKING_ROLES,
        )
        .distinct()
        .order_by("username")
    )


def _detail_context(request: HttpRequest, ticket: Ticket, **bound: Any) -> dict[str, Any]:
    departments = _departments(request)
    mails, other_mails = ticket_mails(ticket=ticket)
    articles = [
        {"article": a, "html": body_html(a.body, a.body_format), "mails": mails.get(a.pk, [])}
        for a in ticket.articles.all()
    ]
    events = list(ticket.events.all())
    allowed = sorted(services.TRANSITIONS[ticket.state], key=list(TicketState.values).index)
    may_link_resident = services.staff_may_work_tickets(request.user)
    return {
        "ticket": ticket,
        "articles": articles,
        "other_mails": other_mails,
        "events": [{"event": e, "label": EVENT_LABELS.get(e.action, e.action)} for e in events],
        "links": list(ticket.links.all()),
        "merged": list(ticket.merged.all()),
        "timers": ticket_timers(ticket, now=timezone.now(), calendar=contact_calendar()),
        "closed": ticket.state == TicketState.CLOSED,
        "may_link_resident": may_link_resident,
        "reply_form": bound.get("reply") or forms.ReplyForm(prefix="reply"),
        "note_form": bound.get("note") or forms.NoteForm(prefix="note"),
        "state_form": bound.get("state") or forms.StateForm(prefix="state", allowed=allowed),
        "assign_form": bound.get("assign")
        or forms.AssignForm(
            prefix="assign", staff=_working_staff(request), initial={"owner": ticket.owner_id}
        ),
        "group_form": bound.get("group")
        or forms.DepartmentForm(prefix="group", departments=departments),
        "escalate_form": bound.get("escalate")
        or forms.EscalateForm(
            prefix="escalate", departments=[d for d in departments if d.code != ticket.group]
        ),
        "merge_form": bound.get("merge") or forms.MergeForm(prefix="merge"),
        "link_form": bound.get("link") or forms.LinkForm(prefix="link"),
        "resident_form": bound.get("resident") or forms.ResidentLinkForm(prefix="resident"),
        "open_action": bound.get("open_action", ""),
    }


@require_GET
@never_cache
@working_role_required
def ticket_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    return render(request, "contact/staff/ticket.html", _detail_context(request, ticket))


ACTIONS = ("reply", "note", "state", "assign", "take", "group", "escalate", "merge", "link",
           "resident")  # fmt: skip


def _bound_form(request: HttpRequest, action: str, ticket: Ticket):
    departments = _departments(request)
    post = request.POST
    if action == "reply":
        return forms.ReplyForm(post, prefix="reply")
    if action == "note":
        return forms.NoteForm(post, prefix="note")
    if action == "state":
        allowed = sorted(services.TRANSITIONS[ticket.state], key=list(TicketState.values).index)
        return forms.StateForm(post, prefix="state", allowed=allowed)
    if action == "assign":
        return forms.AssignForm(post, prefix="assign", staff=_working_staff(request))
    if action == "group":
        return forms.DepartmentForm(post, prefix="group", departments=departments)
    if action == "escalate":
        return forms.EscalateForm(post, prefix="escalate", departments=departments)
    if action == "merge":
        return forms.MergeForm(post, prefix="merge")
    if action == "link":
        return forms.LinkForm(post, prefix="link")
    return forms.ResidentLinkForm(post, prefix="resident")


def _apply(request: HttpRequest, action: str, ticket: Ticket, data: dict) -> tuple[Ticket, str]:
    """Run the action's service; returns the ticket to show and the notice."""
    actor, terminal = request.user, _terminal(request)
    if action == "take":
        services.ticket_assign(ticket=ticket, owner=actor, actor=actor, terminal=terminal)
        return ticket, _("この問い合わせを担当しました。")
    if action == "reply":
        services.ticket_reply(ticket=ticket, body=data["body"], state=data["after"] or None,
                              actor=actor, terminal=terminal)  # fmt: skip
        return ticket, _("回答を記録しました。")
    if action == "note":
        services.ticket_note(ticket=ticket, body=data["body"], actor=actor, terminal=terminal)
        return ticket, _("内部メモを残しました。")
    if action == "state":
        services.ticket_state_change(ticket=ticket, state=data["state"], reason=data["reason"],
                                     actor=actor, terminal=terminal)  # fmt: skip
        label = TicketState(data["state"]).label
        return ticket, _("状態を「%(state)s」にしました。") % {"state": label}
    if action == "assign":
        owner = None
        if data["owner"] is not None:
            owner = Staff.objects.filter(pk=data["owner"], municipality=actor.municipality).first()
        services.ticket_assign(ticket=ticket, owner=owner, actor=actor, terminal=terminal)
        return ticket, _("担当者を変更しました。")
    if action == "group":
        services.ticket_group_set(ticket=ticket, department=data["department"], actor=actor,
                                  terminal=terminal)  # fmt: skip
        return ticket, _("担当課に振り分けました。")
    if action == "escalate":
        services.ticket_escalate(ticket=ticket, department=data["department"],
                                 reason=data["reason"], actor=actor, terminal=terminal)  # fmt: skip
        return ticket, _("担当課へ経緯とともに回しました。")
    if action == "merge":
        into = Ticket.objects.filter(number=data["into"].strip()).first()
        if into is None:
            raise services.TicketError(_("統合先の問い合わせが見つかりません。"))
        target = services.ticket_merge(ticket=ticket, into=into, reason=data["reason"],
                                       actor=actor, terminal=terminal)  # fmt: skip
        return target, _("%(number)s に統合しました。") % {"number": ticket.number}
    if action == "link":
        services.ticket_link(ticket=ticket, kind=data["kind"], ref=data["ref"], actor=actor,
                             terminal=terminal)  # fmt: skip
        return ticket, _("リンクしました。")
    services.ticket_link_resident(
        ticket=ticket, atena_number=data["atena_number"], purpose=data["purpose"], actor=actor,
        terminal=terminal,
    )  # fmt: skip
    return ticket, _("住民を紐付けました（照会は記録されました）。")


@require_POST
@never_cache
@working_role_required
def ticket_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(_("操作が見つかりません。"))
    ticket = _ticket_or_404(pk)
    if action == "resident" and not services.staff_may_work_tickets(request.user):
        raise PermissionDenied(_("住民を紐付ける権限がありません。"))
    form = None if action == "take" else _bound_form(request, action, ticket)
    if form is None or form.is_valid():
        try:
            shown, notice = _apply(request, action, ticket, form.cleaned_data if form else {})
        except services.TicketError as refusal:
            error = " ".join(refusal.messages)
            if form is None:
                messages.error(request, error)
                return redirect("contact:ticket", lg_code, ticket.pk)
            form.add_error(None, error)
        else:
            messages.success(request, notice)
            return redirect("contact:ticket", lg_code, shown.pk)
    ticket.refresh_from_db()
    context = _detail_context(request, ticket, **{action: form, "open_action": action})
    return render(request, "contact/staff/ticket.html", context, status=400)

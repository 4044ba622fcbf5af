"""Queue-ticket screens: reception (issue), a window's console (call), the public
display board and the supervisors' metrics page.

Reception and the console need a counter clerk or a supervisor; the metrics page a
supervisor. The display board needs no login (``@public_view``): it shows ticket
numbers and window names only, is polled by many screens every few seconds and costs
two queries; an unchanged board answers 204 (htmx then swaps nothing).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.middleware import LAST_SEEN
from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.counter import selectors, services
from machi.counter.models import TicketPurpose
from machi.counter.services.tickets import COUNTER_MAX_LENGTH
from machi.web.decorators import polling_view, public_view, roles_required

TICKET_ROLES = (Role.COUNTER_CLERK, Role.SUPERVISOR)
WINDOW_SESSION_KEY = "counter_window"
PURPOSES_SESSION_KEY = "counter_purposes"
SUGGESTED_WINDOWS = [f"{n}番窓口" for n in range(1, 11)]
QUEUE_POLL_SECONDS = 5  # hx-trigger="every 5s" in counter/_console_panel.html
HTMX_STOP_POLLING = 286

ACTIONS = {
    "recall": services.ticket_recall,
    "start": services.ticket_start,
    "finish": services.ticket_finish,
    "no-show": services.ticket_no_show,
    "cancel": services.ticket_cancel,
}
ACTION_DONE = {
    "recall": gettext_lazy("%(number)s番を再呼出しました。"),
    "start": gettext_lazy("%(number)s番の受付を開始しました。"),
    "finish": gettext_lazy("%(number)s番を完了にしました。"),
    "no-show": gettext_lazy("%(number)s番を不在にしました。"),
    "cancel": gettext_lazy("%(number)s番を取り消しました。"),
}


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal.from_request(request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# --- reception ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(*TICKET_ROLES)
def reception(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Big buttons, one per purpose; the issued number is shown large and printable."""
    if request.method == "POST":
        try:
            ticket = services.ticket_issue(
                purpose=request.POST.get("purpose", ""),
                actor=request.user,
                terminal=_terminal(request),
            )
        except services.TicketError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("counter:reception", lg_code=lg_code)
        return redirect(f"{reverse('counter:reception', args=[lg_code])}?issued={ticket.pk}")
    issued = None
    if (issued_pk := request.GET.get("issued", "")).isdigit():
        issued = selectors.ticket_get(pk=int(issued_pk))
    return render(
        request,
        "counter/reception.html",
        {
            "issued": issued,
            "waiting_before": selectors.ticket_waiting_before(ticket=issued) if issued else 0,
            "counts": selectors.ticket_day_counts(),
            "purposes": TicketPurpose.choices,
        },
    )


# --- a window's console ---------------------------------------------------------------------


class WindowForm(forms.Form):
    window = forms.CharField(label=gettext_lazy("窓口名"), max_length=COUNTER_MAX_LENGTH)
    purposes = forms.MultipleChoiceField(
        label=gettext_lazy("呼び出す用件"),
        choices=TicketPurpose.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("選ばなければ、すべての用件から古い順に呼び出します。"),
    )


def _console_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    window = request.session.get(WINDOW_SESSION_KEY, "")
    purposes = request.session.get(PURPOSES_SESSION_KEY, [])
    return {
        "window": window,
        "purposes": purposes,
        "current": selectors.ticket_at_counter(counter=window),
        "queue": selectors.ticket_queue(purposes=purposes),
        **extra,
    }


def _console_reply(
    request: HttpRequest, lg_code: str, *, notice: str = "", error: str = ""
) -> HttpResponse:
    """htmx: the refreshed panel with the outcome; otherwise a message and a redirect."""
    if _partial(request):
        return render(
            request,
            "counter/_console_panel.html",
            _console_context(request, notice=notice, error=error, swapped=True),
        )
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect("counter:call", lg_code=lg_code)


@require_GET
@never_cache
@roles_required(*TICKET_ROLES)
def console(request: HttpRequest, lg_code: str) -> HttpResponse:
    context = _console_context(request)
    if _partial(request):
        return render(request, "counter/_console_panel.html", context)
    context["form"] = WindowForm(
        initial={"window": context["window"], "purposes": context["purposes"]}
    )
    context["suggested_windows"] = SUGGESTED_WINDOWS
    return render(request, "counter/console.html", context)


@polling_view
@require_GET
@never_cache
@roles_required(*TICKET_ROLES)
def console_queue(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The waiting list alone, polled by the console (the buttons are left alone).

    Polling does not count as activity; shortly before the idle timeout the answer is
    HTTP 286, which tells htmx to stop polling (the next click then meets the timeout).
    """
    last_seen = request.session.get(LAST_SEEN)
    idle = timezone.now().timestamp() - last_seen if last_seen is not None else 0
    stop = idle > settings.MACHI_SESSION_IDLE_TIMEOUT.total_seconds() - 2 * QUEUE_POLL_SECONDS
    purposes = request.session.get(PURPOSES_SESSION_KEY, [])
    return render(
        request,
        "counter/_queue.html",
        {"queue": selectors.ticket_queue(purposes=purposes), "polling_stopped": stop},
        status=HTMX_STOP_POLLING if stop else 200,
    )


@require_POST
@roles_required(*TICKET_ROLES)
def console_window(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Remember this console's window name and purposes (in the session)."""
    form = WindowForm(request.POST)
    if form.is_valid():
        request.session[WINDOW_SESSION_KEY] = form.cleaned_data["window"].strip()
        request.session[PURPOSES_SESSION_KEY] = form.cleaned_data["purposes"]
        messages.success(
            request, _("窓口を「%(window)s」にしました。") % {"window": form.cleaned_data["window"]}
        )
        return redirect("counter:call", lg_code=lg_code)
    context = _console_context(request, form=form, suggested_windows=SUGGESTED_WINDOWS)
    return render(request, "counter/console.html", context, status=400)


@require_POST
@roles_required(*TICKET_ROLES)
def call_next(request: HttpRequest, lg_code: str) -> HttpResponse:
    window = request.session.get(WINDOW_SESSION_KEY, "")
    if not window:
        return _console_reply(request, lg_code, error=_("先に窓口名を設定してください。"))
    try:
        ticket = services.ticket_call_next(
            counter=window,
            purpose=request.session.get(PURPOSES_SESSION_KEY) or None,
            actor=request.user,
            terminal=_terminal(request),
        )
    except services.TicketError as error:
        return _console_reply(request, lg_code, error=" ".join(error.messages))
    if ticket is None:
        return _console_reply(request, lg_code, notice=_("お待ちの方はいません。"))
    return _console_reply(
        request,
        lg_code,
        notice=_("%(number)s番を%(window)sに呼び出しました。")
        % {"number": ticket.number, "window": window},
    )


@require_POST
@roles_required(*TICKET_ROLES)
def ticket_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    service = ACTIONS.get(action)
    ticket = selectors.ticket_get(pk=pk)
    if service is None or ticket is None:
        raise Http404(_("整理券が見つかりません。"))
    from_reception = request.POST.get("from") == "reception"
    try:
        ticket = service(ticket=ticket, actor=request.user, terminal=_terminal(request))
    except services.TicketError as error:
        if from_reception:
            messages.error(request, " ".join(error.messages))
            return redirect("counter:reception", lg_code=lg_code)
        return _console_reply(request, lg_code, error=" ".join(error.messages))
    notice = ACTION_DONE[action] % {"number": ticket.number}
    if from_reception:
        messages.success(request, notice)
        return redirect("counter:reception", lg_code=lg_code)
    return _console_reply(request, lg_code, notice=notice)


# --- the public display board ----------------------------------------------------------------


@public_view
@require_GET
@cache_control(no_cache=True)
def board(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Full-screen board for the waiting area; no login, numbers and windows only."""
    return render(request, "counter/board.html", {"board": selectors.ticket_board()})


@polling_view
@public_view
@require_GET
@cache_control(no_cache=True)
def board_calls(request: HttpRequest, lg_code: str) -> HttpResponse:
    """What the board polls every 3 s. ``state`` is the fingerprint the board shows:
    204 when nothing changed; the latest call (the aria-live region) is sent out of
    band only when it changed, so screen readers announce each call once."""
    current = selectors.ticket_board()
    state = request.GET.get("state", "")
    if state == current.state:
        return HttpResponse(status=204)
    return render(
        request,
        "counter/_board_calls.html",
        {"board": current, "latest_changed": state.split("/")[0] != current.latest_key},
    )


# --- metrics ----------------------------------------------------------------------------------


class MetricsForm(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("日付"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@require_GET
@never_cache
@roles_required(Role.SUPERVISOR)
def metrics(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = MetricsForm(request.GET or None)
    day: datetime.date = timezone.localdate()
    if form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    if not form.is_bound:
        form = MetricsForm(initial={"day": day})
    return render(
        request,
        "counter/metrics.html",
        {"form": form, "day": day, "sections": selectors.metric_sections(day=day)},
    )

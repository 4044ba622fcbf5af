"""Staff pages of local events: the moderators' queue (approve, reject with a reason),
events hidden by reports (restore or keep hidden), the report threshold, and official
events (post, edit, cancel).

Who: moderators (掲示板モデレーター) review; web authors (ウェブ作成者) and moderators post
official events. An event that does not exist in this municipality is 404 (another
municipality's events live in its own database); an action without the role is 403.
Every action is a POST through the services, which check the role again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.localevents import selectors, services
from machi.localevents.forms import EventForm, mark_errors
from machi.localevents.models import CalendarSettings, Event, Status
from machi.localevents.views.public import shown
from machi.web.decorators import roles_required

STAFF_ROLES = (Role.WEB_AUTHOR, Role.MODERATOR)
ACTIONS = {
    "approve": services.event_approve,
    "reject": services.event_reject,
    "hide": services.event_hide,
    "restore": services.event_restore,
    "cancel": services.event_cancel,
}


def _event(pk: int) -> Event:
    event = Event.objects.select_related("category", "organiser").filter(pk=pk).first()
    if event is None:
        raise Http404("イベントが見つかりません。")
    return event


@roles_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def staff_home(request: HttpRequest, lg_code: str) -> HttpResponse:
    moderator = services.may_moderate(request.user)
    if request.method == "POST":
        if not moderator:
            raise PermissionDenied("通報数の設定はモデレーターが行います。")
        raw = request.POST.get("threshold", "")
        try:
            services.report_threshold_set(
                threshold=int(raw) if raw.strip().isdigit() else -1, actor=request.user
            )
        except services.EventError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "自動非公開の通報数を変更しました。")
        return redirect("localevents:staff_home", lg_code=lg_code)
    context = {
        "moderator": moderator,
        "queue": selectors.moderation_queue() if moderator else [],
        "reported": selectors.hidden_by_reports() if moderator else [],
        "events": selectors.staff_events(),
        "threshold": CalendarSettings.current().report_threshold,
    }
    return render(request, "localevents/staff/home.html", context)


def _form_page(request: HttpRequest, form: EventForm, event: Event | None, status: int = 200):
    mark_errors(form)
    errors = [
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]
    context = {"form": form, "event": event, "errors": errors,
               "tile_url": settings.MACHI_REQUESTS_MAP_TILE_URL}  # fmt: skip
    return render(request, "localevents/staff/form.html", context, status=status)


def _save(request: HttpRequest, lg_code: str, event: Event | None) -> HttpResponse:
    if not services.may_post_official(request.user):
        raise PermissionDenied("自治体のイベントはウェブ作成者かモデレーターが投稿します。")
    categories = selectors.categories()
    if request.method == "GET":
        initial = EventForm.initial_for(event) if event else {"fee_yen": 0}
        return _form_page(request, EventForm(initial=initial, categories=categories), event)
    form = EventForm(request.POST, categories=categories)
    if not form.is_valid():
        return _form_page(request, form, event, status=400)
    try:
        saved = services.official_event_save(
            data=form.event_data(), actor=request.user, event=event,
            terminal=Terminal.from_request(request),
        )  # fmt: skip
    except services.EventError as error:
        for name, errors in error.message_dict.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
        return _form_page(request, form, event, status=400)
    messages.success(request, "イベントを保存しました。カレンダーに掲載しています。")
    return redirect("localevents:staff_event", lg_code=lg_code, pk=saved.pk)


@roles_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def official_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _save(request, lg_code, None)


@roles_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def official_edit(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    event = _event(pk)
    if not event.official or event.status == Status.CANCELLED:
        raise PermissionDenied(
            "このイベントは編集できません（住民の団体のイベントか、中止済みです）。"
        )
    return _save(request, lg_code, event)


@roles_required(*STAFF_ROLES)
@require_GET
@never_cache
def staff_event(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    event = _event(pk)
    moderator = services.may_moderate(request.user)
    if not event.official and not moderator:
        raise PermissionDenied("住民の団体のイベントはモデレーターが扱います。")
    context: dict[str, Any] = {
        **shown(event, "ja"),
        "moderator": moderator,
        "may_cancel": event.status == Status.PUBLISHED
        and (moderator or (event.official and services.may_post_official(request.user))),
        "actions": list(event.actions.all()),
        "reports": list(event.reports.order_by("-created_at")[:50]),
        "organiser_email": event.organiser.email if event.organiser and moderator else "",
    }
    return render(request, "localevents/staff/event.html", context)


@roles_required(*STAFF_ROLES)
@require_POST
def staff_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("この操作はありません。")
    event = _event(pk)
    if action != "cancel" and not services.may_moderate(request.user):
        raise PermissionDenied("イベントの審査はモデレーターが行います。")
    if action == "cancel" and not (
        services.may_moderate(request.user)
        or (event.official and services.may_post_official(request.user))
    ):
        raise PermissionDenied("このイベントを中止にする権限がありません。")
    try:
        ACTIONS[action](
            event=event, actor=request.user, reason=request.POST.get("reason", ""),
            terminal=Terminal.from_request(request),
        )  # fmt: skip
    except services.EventError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, DONE[action])
    return redirect("localevents:staff_event", lg_code=lg_code, pk=event.pk)


DONE = {
    "approve": "承認しました。カレンダーに掲載しています。",
    "reject": "差し戻しました。理由を主催者にメールで伝えます。",
    "hide": "非公開にしました。",
    "restore": "再公開しました。",
    "cancel": "中止にしました。カレンダーには「中止」と表示します。",
}

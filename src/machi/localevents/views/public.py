"""The resident's side of local events: the calendar (a month as a table, and a list),
the event page, the iCalendar feeds, the イベント一覧 CSV, and the public form for
residents' groups with its confirmation, edit and report links.

The public pages read only listed events (published or cancelled) and never the
organiser's mail address; the organiser's contact is shown only if they agreed.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_GET, require_http_methods

from machi.localevents import abuse, ical, mail, opendata, selectors, services
from machi.localevents.forms import ReportForm, SubmitForm, mark_errors
from machi.localevents.models import Category, Event, Status
from machi.tenancy.context import current_tenant_alias
from machi.web.decorators import public_view
from machi.web.language import html_lang, language_switch

SESSION_KEY = "machi_localevents_sent"
FEED_MAX_AGE = 300
# When the resident's language has no text of the event (ISSUE14 interface).
NOT_TRANSLATED = {
    "en": "This page is not available in English yet; it is shown in Japanese.",
    "ja-easy": "この ページは まだ やさしい にほんごに なって いません。にほんごで みせます。",
}


def _language() -> str:
    return get_language() or "ja"


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _no_index(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def shown(event: Event, language: str) -> dict[str, Any]:
    """The event's texts in the resident's language, or the Japanese with a notice."""
    title, title_lang = event.text("title", language)
    description, description_lang = event.text("description", language)
    fallback = language != "ja" and "ja" in (title_lang, description_lang)
    return {
        "event": event, "title": title, "title_lang": html_lang(title_lang),
        "description": description, "description_lang": html_lang(description_lang),
        "notice": NOT_TRANSLATED.get(language, "") if fallback else "",
        "category": event.category.name_in(language),
    }  # fmt: skip


def _category(request: HttpRequest) -> Category | None:
    code = request.GET.get("category", "")
    if not code:
        return None
    found = Category.objects.filter(code=code).first()
    if found is None:
        raise Http404(_("この分類はありません。"))
    return found


def _month(request: HttpRequest) -> datetime.date:
    raw = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def _shift(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@public_view
@require_GET
def calendar_month(request: HttpRequest, lg_code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    category = _category(request)
    first = _month(request)
    language = _language()
    weeks, events = selectors.month_weeks(year=first.year, month=first.month, category=category)
    cell_events = {e.pk: shown(e, language) for e in events}
    context = {
        "first": first, "previous": _shift(first, -1), "next": _shift(first, 1),
        "weeks": [[(day, [cell_events[e.pk] for e in day.events]) for day in w] for w in weeks],
        "items": list(cell_events.values()), "category": category,
        "categories": [(c.code, c.name_in(language)) for c in selectors.categories()],
        "category_name": category.name_in(language) if category else "",
        "today": timezone.localdate(),
    }  # fmt: skip
    return render(request, "localevents/calendar.html", context)


def _listed(pk: int) -> Event:
    event = selectors.listed_event_get(pk=pk)
    if event is None:
        raise Http404(_("イベントが見つかりません。"))
    return event


@public_view
@require_GET
def event_page(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    event = _listed(pk)
    context = {**shown(event, _language()), "cancelled": event.status == Status.CANCELLED}
    return render(request, "localevents/event.html", context)


# --- feeds -----------------------------------------------------------------------------


def _feed_state(request: HttpRequest, pk: int | None = None) -> tuple[str, datetime.datetime]:
    if pk is not None:
        event = _listed(pk)
        last, marker = event.updated_at, f"{event.pk}:{event.sequence}:{event.status}"
    else:
        category = _category(request)
        last, count = selectors.listed_changed_at(category=category)
        last = last or datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        marker = f"{category.code if category else '*'}:{count}"
    raw = f"{request.path}:{marker}:{last.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32], last


def _etag(request: HttpRequest, lg_code: str, pk: int | None = None) -> str:
    return _feed_state(request, pk)[0]


def _last_modified(request: HttpRequest, lg_code: str, pk: int | None = None):
    return _feed_state(request, pk)[1]


def _cached(response: HttpResponse, request: HttpRequest, pk: int | None = None) -> HttpResponse:
    etag, last = _feed_state(request, pk)
    response["ETag"] = quote_etag(etag)
    response["Last-Modified"] = http_date(last.timestamp())
    response["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    return response


@public_view
@require_GET
@condition(etag_func=_etag, last_modified_func=_last_modified)
def event_ics(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    event = _listed(pk)
    body = ical.calendar_ics(
        events=[event], name=event.title.get("ja", ""), host=ical.host_of(request)
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="event-{event.pk}.ics"'
    return _cached(response, request, pk)


@public_view
@require_GET
@condition(etag_func=_etag, last_modified_func=_last_modified)
def calendar_ics(request: HttpRequest, lg_code: str) -> HttpResponse:
    category = _category(request)
    name = f"{request.municipality.name} 地域イベント"
    if category is not None:
        name += f"（{category.name_in('ja')}）"
    body = ical.calendar_ics(
        events=selectors.listed_events(category=category), name=name, host=ical.host_of(request)
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return _cached(response, request)


@public_view
@require_GET
@condition(etag_func=_etag, last_modified_func=_last_modified)
def opendata_csv(request: HttpRequest, lg_code: str) -> HttpResponse:
    municipality = request.municipality
    body = opendata.event_csv(
        events=selectors.listed_events().order_by("starts_on", "id"), lg_code=lg_code,
        prefecture=municipality.prefecture, city=municipality.name,
    )  # fmt: skip
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{lg_code}_event.csv"'
    return _cached(response, request)


# --- residents' groups -----------------------------------------------------------------


def _form_page(
    request: HttpRequest, form: SubmitForm, *, template: str = "localevents/submit.html",
    status: int = 200, refused: str = "", **extra: Any,
) -> HttpResponse:  # fmt: skip
    mark_errors(form)
    errors = [
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]
    context = {
        "form": form, "errors": errors, "refused": refused,
        "tile_url": settings.MACHI_REQUESTS_MAP_TILE_URL, **extra,
    }  # fmt: skip
    return _no_index(render(request, template, context, status=status))


def _add_service_errors(form, error: services.EventError) -> None:
    for name, messages in error.message_dict.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def event_submit(request: HttpRequest, lg_code: str) -> HttpResponse:
    categories = selectors.categories()
    language = _language()
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        return _form_page(request, SubmitForm(categories=categories, language=language))
    form = SubmitForm(request.POST, categories=categories, language=language)
    if form.is_spam:
        form.is_valid()
        form.add_error("website", _("この欄には何も入力しないでください。"))
        return _form_page(request, form, status=400)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    data = form.cleaned_data
    address = _address(request)
    if abuse.limit_reached(scope="submit", address=address, email=data["email"]):
        return _form_page(
            request, form, status=429,
            refused=_("短い時間に多くの投稿がありました。しばらくしてからもう一度お試しください。"),
        )  # fmt: skip
    try:
        with transaction.atomic(using=current_tenant_alias()):
            sent = services.event_submit(
                data=form.event_data(), organiser_name=data["organiser_name"],
                email=data["email"],
            )  # fmt: skip
    except services.EventError as error:
        _add_service_errors(form, error)
        return _form_page(request, form, status=400)
    abuse.limit_count(scope="submit", address=address, email=data["email"])
    try:
        mail.send_confirmation(event=sent.event, email=data["email"], secret=sent.confirm_secret)
    except OSError:
        mail.log.exception("confirmation mail for local event %s not sent", sent.event.pk)
    request.session[SESSION_KEY] = {"lg": lg_code}
    return redirect("localevents:sent", lg_code=lg_code)


@public_view
@require_GET
@never_cache
def event_sent(request: HttpRequest, lg_code: str) -> HttpResponse:
    state = request.session.get(SESSION_KEY) or {}
    if state.get("lg") != lg_code:
        return redirect("localevents:submit", lg_code=lg_code)
    return _no_index(render(request, "localevents/sent.html"))


def _resident_event(pk: int) -> Event:
    event = Event.objects.filter(pk=pk, official=False).select_related("category").first()
    if event is None:
        raise Http404(_("イベントが見つかりません。"))
    return event


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def event_confirm(request: HttpRequest, lg_code: str, pk: int, secret: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    event = _resident_event(pk)
    if request.method == "GET":
        return _no_index(render(request, "localevents/confirm.html", {"event": event}))
    done = services.event_confirm(event=event, secret=secret)
    return _no_index(
        render(
            request, "localevents/confirm.html", {"event": event, "done": done},
            status=200 if done else 400,
        )
    )  # fmt: skip


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def organiser_edit(request: HttpRequest, lg_code: str, token: str) -> HttpResponse:
    """The organiser's signed link (from the mails): the edit goes back to review."""
    pk = mail.edit_check(token)
    if pk is None:
        raise Http404(_("このリンクは使えません。"))
    event = _resident_event(pk)
    categories = selectors.categories()
    language = _language()
    template = "localevents/organiser_edit.html"
    if event.status == Status.CANCELLED:
        return _no_index(render(request, template, {"event": event, "closed": True}))
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        form = SubmitForm(
            initial=SubmitForm.initial_for(event), categories=categories, language=language
        )
        return _form_page(request, form, template=template, event=event)
    form = SubmitForm(request.POST, categories=categories, language=language)
    # The group and its address stay those of the submission.
    for name in ("organiser_name", "email"):
        form.fields.pop(name)
    if not form.is_valid() or form.is_spam:
        return _form_page(request, form, template=template, status=400, event=event)
    try:
        event = services.event_edit_by_organiser(event=event, data=form.event_data())
    except services.EventError as error:
        _add_service_errors(form, error)
        return _form_page(request, form, template=template, status=400, event=event)
    return _no_index(render(request, template, {"event": event, "done": True}))


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def event_report(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    event = _listed(pk)
    context: dict[str, Any] = {**shown(event, _language())}
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        context["form"] = ReportForm()
        return _no_index(render(request, "localevents/report.html", context))
    form = ReportForm(request.POST)
    context["form"] = form
    address = _address(request)
    if abuse.limit_reached(scope="report", address=address):
        context["refused"] = _(
            "短い時間に多くの通報がありました。しばらくしてからもう一度お試しください。"
        )
        return _no_index(render(request, "localevents/report.html", context, status=429))
    if not form.is_valid():
        mark_errors(form)
        return _no_index(render(request, "localevents/report.html", context, status=400))
    try:
        services.event_report(
            event=event, reporter_key=abuse.reporter_key(address),
            reason=form.cleaned_data["reason"], text=form.cleaned_data["text"],
        )  # fmt: skip
    except services.EventError as error:
        _add_service_errors(form, error)
        mark_errors(form)
        return _no_index(render(request, "localevents/report.html", context, status=400))
    abuse.limit_count(scope="report", address=address)
    context["done"] = True
    return _no_index(render(request, "localevents/report.html", context))

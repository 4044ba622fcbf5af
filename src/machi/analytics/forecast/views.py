"""The forecast page (来庁者数予測): ``/<lg_code>/analytics/forecast/`` for municipality
administrators and supervisors.

It shows the 8-week daily forecast as a band chart (the 80 % interval) with its table,
next month's forecast, the hourly forecast of a chosen day with the counters needed
to keep the forecast p90 wait under a target, the backtest of the model against both
baselines, and the calendar events (add, delete: POST with CSRF; bad input is refused
with the reasons and nothing changes).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from machi.analytics.charts import Chart, Series
from machi.analytics.forecast import model as fmodel
from machi.analytics.forecast import selectors, services
from machi.analytics.forecast.cli import FLAG_LABELS, METHOD_LABELS, WEEKDAYS
from machi.analytics.forecast.forms import EventForm, OptionsForm
from machi.analytics.forecast.models import ForecastEvent
from machi.audit.services import Terminal
from machi.web.decorators import roles_required


def _label(day: datetime.date) -> str:
    return f"{day.month}/{day.day}({WEEKDAYS[day.weekday()]})"


def daily_chart(report: selectors.ForecastReport) -> Chart:
    points = report.horizon
    peak = max(points, key=lambda p: p.mean) if points else None
    description = _("開庁日ごとの来庁者数（整理券の発券数）の予測と80%の予測区間。")
    if peak is not None:
        description += _("最も多いのは %(day)s の約 %(count)s 人。") % {
            "day": _label(peak.day), "count": round(peak.mean),
        }  # fmt: skip
    return Chart(
        kind="band", slug="forecast-daily",
        title=_("今後%(weeks)s週間の来庁者数の予測（日別）") % {"weeks": report.weeks},
        description=description, x_label=_("日付"), y_label=_("来庁者数（人）"),
        categories=[_label(p.day) for p in points],
        series=[Series(_("予測"), [round(p.mean, 1) for p in points])],
        lower=[round(p.lower, 1) for p in points], upper=[round(p.upper, 1) for p in points],
        lower_label=_("下限（10%）"), upper_label=_("上限（90%）"),
    )  # fmt: skip


def _notes(point: fmodel.DailyPoint) -> str:
    return "・".join([str(FLAG_LABELS.get(f, f)) for f in point.flags] + list(point.events))


def _errors(form) -> list[tuple[str, str, str]]:
    return [
        (form[name].label, error, form[name].auto_id) if name in form.fields else ("", error, "")
        for name, field_errors in (form.errors.items() if form.is_bound else [])
        for error in field_errors
    ]


def _dashboards_url(lg_code: str) -> str | None:
    try:
        return reverse("analytics:home", args=[lg_code])
    except NoReverseMatch:
        return None


def _page(
    request: HttpRequest, lg_code: str, *, event_form: EventForm | None = None, status: int = 200
) -> HttpResponse:
    options = OptionsForm(request.GET or None)
    target = selectors.DEFAULT_TARGET_MINUTES
    chosen: datetime.date | None = None
    if options.is_bound and options.is_valid():
        target = options.cleaned_data["target"] or target
        chosen = options.cleaned_data["day"]
    elif options.is_bound:
        status = 400
    event_form = event_form or EventForm()
    context: dict[str, Any] = {
        "lg_code": lg_code,
        "options": options,
        "target": target,
        "event_form": event_form,
        "errors": _errors(options) + _errors(event_form),
        "events": ForecastEvent.objects.order_by("day", "id"),
        "dashboards_url": _dashboards_url(lg_code),
    }
    try:
        report = selectors.forecast_for(lg_code=lg_code, target_minutes=target)
    except fmodel.NotEnoughHistory as error:
        context["not_enough"] = str(error)
        return render(request, "forecast/forecast.html", context, status=status)
    chart = daily_chart(report)
    headers, rows = chart.table()
    days = report.open_days
    if chosen is None or chosen not in report.hours:
        if chosen is not None:
            context["day_error"] = _(
                "%(day)s は予測の期間の開庁日ではありません。最初の開庁日を表示しています。"
            ) % {"day": chosen.isoformat()}
        chosen = days[0] if days else None
    notes = {p.day: _notes(p) for p in report.forecast.daily}
    context.update(
        report=report,
        chart=chart,
        svg=mark_safe(chart.svg_inline()),  # noqa: S308 - every text escaped in charts.py
        headers=headers,
        rows=[[*row, notes.get(p.day, "")] for row, p in zip(rows, report.horizon, strict=True)],
        month=report.next_month(),
        chosen=chosen,
        chosen_label=_label(chosen) if chosen else "",
        chosen_notes=notes.get(chosen, "") if chosen else "",
        hours=report.hours.get(chosen, []) if chosen else [],
        day_choices=[(d.isoformat(), _label(d)) for d in days],
        backtest=_backtest_rows(report.backtest),
    )
    return render(request, "forecast/forecast.html", context, status=status)


def _backtest_rows(backtest: fmodel.Backtest | None) -> list[dict[str, Any]] | None:
    if backtest is None:
        return None
    return [
        {
            "method": METHOD_LABELS[m],
            "is_model": m == "model",
            "mae": backtest.daily[m]["mae"],
            "mape": backtest.daily[m]["mape"],
            "hourly_mae": backtest.hourly[m]["mae"],
        }
        for m in fmodel.METHODS
    ]


@roles_required(*services.EDIT_ROLES)
@require_http_methods(["GET"])
@never_cache
def forecast_page(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _page(request, lg_code)


@roles_required(*services.EDIT_ROLES)
@require_POST
@never_cache
def event_add(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = EventForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.forecast_event_create(
                actor=request.user, day=data["day"], name=data["name"],
                effect_percent=data["effect_percent"], terminal=Terminal.from_request(request),
            )  # fmt: skip
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("予測に使う行事を登録しました。"))
            return redirect(reverse("forecast:forecast", args=[lg_code]) + "#events")
    return _page(request, lg_code, event_form=form, status=400)


@roles_required(*services.EDIT_ROLES)
@require_POST
@never_cache
def event_delete(request: HttpRequest, lg_code: str, event_id: int) -> HttpResponse:
    try:
        services.forecast_event_delete(
            actor=request.user, event_id=event_id, terminal=Terminal.from_request(request)
        )
    except ForecastEvent.DoesNotExist as error:
        raise Http404(_("その行事は見つかりません。")) from error
    messages.success(request, _("予測に使う行事を削除しました。"))
    return redirect(reverse("forecast:forecast", args=[lg_code]) + "#events")


FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
    "png": "image/png",
}


@roles_required(*services.EDIT_ROLES)
@require_http_methods(["GET"])
@never_cache
def daily_download(request: HttpRequest, lg_code: str, fmt: str) -> HttpResponse:
    """The daily forecast chart as CSV (UTF-8 with BOM), SVG or PNG."""
    if fmt not in FORMATS:
        raise Http404(_("その形式はありません。"))
    try:
        report = selectors.forecast_for(lg_code=lg_code, with_backtest=False)
    except fmodel.NotEnoughHistory as error:
        raise Http404(str(error)) from error
    chart = daily_chart(report)
    body: str | bytes = {"csv": chart.csv, "svg": chart.svg, "png": chart.png}[fmt]()
    response = HttpResponse(body, content_type=FORMATS[fmt])
    name = f"forecast-{lg_code}-{report.today.isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

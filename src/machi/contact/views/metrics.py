"""The contact center's metrics page (supervisors): first-contact resolution, first
response and resolution times, SLA breaches, FAQ deflection, tickets per topic and week.

Every figure comes from :func:`machi.contact.selectors.contact_metrics` (a constant
number of queries whatever the number of tickets). Each section is one table built
here, shown as a server-rendered SVG chart (no script) above the same table, and
downloadable as CSV (``?download=<section>``): the chart, the table and the CSV are
made from the same rows, so they cannot disagree.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from machi.accounts.roles import Role
from machi.contact.forms_public import MetricsForm, mark_errors
from machi.contact.models import Channel
from machi.contact.selectors import contact_metrics
from machi.web.decorators import roles_required

TOP_TOPICS = 5


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]  # the first cell of each row is its header
    chart: SafeString | None = None
    note: str = ""
    numbers: list[list[float]] = field(default_factory=list)  # what the chart draws


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _bars(table: Table, series: list[str], unit: str) -> SafeString:
    """Grouped horizontal bars: one group per row of the table, one bar per series."""
    rows = [(row[0], values) for row, values in zip(table.rows, table.numbers, strict=True)]
    label_width, bar_area, bar_h, gap = 170, 420, 14, 10
    top = 8
    height = top + sum(len(series) * bar_h + gap for _r in rows) + 24
    peak = max([v for _label, values in rows for v in values] + [0]) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {label_width + bar_area + 70} '
        f'{height}" role="img" aria-labelledby="chart-{table.key}-title">',
        f'<title id="chart-{table.key}-title">{escape(table.title)}'
        f"（{escape(_('数値は下の表にあります'))}）</title>",
    ]
    y = top
    for label, values in rows:
        group_h = len(series) * bar_h
        parts.append(
            f'<text x="{label_width - 6}" y="{y + group_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(label[:14])}</text>'
        )
        for i, value in enumerate(values):
            width = bar_area * value / peak
            parts.append(
                f'<rect class="cc-c{i % 6}" x="{label_width}" y="{y + i * bar_h}" '
                f'width="{width:.1f}" height="{bar_h - 2}"/>'
            )
            parts.append(
                f'<text x="{label_width + width + 4:.1f}" y="{y + i * bar_h + bar_h - 4}">'
                f"{value:g}{escape(unit)}</text>"
            )
        y += group_h + gap
    parts.append(
        f'<line class="cc-axis" x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
        f'y2="{y - gap + 4}"/>'
    )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="cc-swatch cc-c{i % 6}" aria-hidden="true"></span>{escape(name)}</li>'
        for i, name in enumerate(series)
    )
    return mark_safe(  # noqa: S308 - every text above went through escape()
        f'<div class="cc-chart">{"".join(parts)}</div>'
        f'<ul class="cc-legend" aria-hidden="true">{legend}</ul>'
    )


def _segments(metrics: dict[str, Any]) -> list[tuple[str, dict]]:
    """(label, figures) per channel, per group, then the total."""
    rows = [
        (Channel(c).label if c in Channel.values else c, f) for c, f in metrics["channels"].items()
    ]
    rows += [
        (_("担当課: %(name)s") % {"name": f["name"] or _("未設定")}, f)
        for f in metrics["groups"].values()
    ]
    rows.append((_("合計"), metrics["total"]))
    return rows


def metric_tables(metrics: dict[str, Any]) -> list[Table]:
    segments = _segments(metrics)
    fcr = Table(
        "fcr", _("一次解決率"),
        [_("受付経路・担当課"), _("件数"), _("解決済み"), _("一次解決"), _("一次解決率")],
        [[label, str(f["tickets"]), str(f["resolved"]), str(f["first_contact_resolutions"]),
          _rate(f["first_contact_resolution_rate"])] for label, f in segments],
        numbers=[[round((f["first_contact_resolution_rate"] or 0) * 100, 1)] for _l, f in segments],
        note=_("一次解決率 = 最初の回答だけで解決した問い合わせ ÷ 解決した問い合わせ"
               "（統合された重複は除く）。"),
    )  # fmt: skip
    fcr.chart = _bars(fcr, [_("一次解決率")], "%")
    times = Table(
        "times", _("初回回答・解決までの時間（営業時間の分）"),
        [_("受付経路・担当課"), _("初回回答 中央値"), _("初回回答 90パーセンタイル"),
         _("解決 中央値"), _("解決 90パーセンタイル")],
        [[label, _minutes(f["first_response_minutes"]["median"]),
          _minutes(f["first_response_minutes"]["p90"]),
          _minutes(f["resolution_minutes"]["median"]), _minutes(f["resolution_minutes"]["p90"])]
         for label, f in segments],
        numbers=[[round(f["first_response_minutes"]["median"] or 0),
                  round(f["resolution_minutes"]["median"] or 0)] for _l, f in segments],
        note=_("受付時間内の分で数え、回答待ちで止まっていた時間は除きます。"),
    )  # fmt: skip
    times.chart = _bars(times, [_("初回回答 中央値"), _("解決 中央値")], _("分"))
    breaches = Table(
        "breaches", _("SLA違反"),
        [_("受付経路・担当課"), _("件数"), _("初回回答の違反"), _("解決の違反")],
        [[label, str(f["tickets"]), str(f["first_response_breaches"]),
          str(f["resolution_breaches"])] for label, f in segments],
        numbers=[[f["first_response_breaches"], f["resolution_breaches"]] for _l, f in segments],
    )  # fmt: skip
    breaches.chart = _bars(breaches, [_("初回回答の違反"), _("解決の違反")], _("件"))
    m = metrics
    deflection = Table(
        "deflection", _("FAQによる自己解決"),
        [_("検索"), _("回答を表示した検索"), _("問い合わせに進まなかった検索"),
         _("回答がなかった検索"), _("自己解決率")],
        [[_("住民の検索"), str(m["faq_searches_answered"]), str(m["faq_deflected"]),
          str(m["faq_searches_unanswered"]), _rate(m["faq_deflection_rate"])]],
        numbers=[[m["faq_searches_answered"], m["faq_deflected"], m["faq_searches_unanswered"]]],
        note=_("自己解決率 = 回答を表示した住民の検索のうち、問い合わせが続かなかったもの ÷ "
               "回答を表示した住民の検索。職員の検索は数えません。"),
    )  # fmt: skip
    deflection.chart = _bars(
        deflection, [_("回答を表示した検索"), _("問い合わせに進まなかった検索"),
                     _("回答がなかった検索")], _("件"),
    )  # fmt: skip
    weeks = m["weeks"]
    topic_names = [t["name"] or _("未分類") for t in m["topics"]]
    topics = Table(
        "topics", _("分類別・週別の問い合わせ件数"),
        [_("週（月曜日から）"), *topic_names, _("合計")],
        [[_week_label(w), *[str(t["weeks"][i]) for t in m["topics"]],
          str(sum(t["weeks"][i] for t in m["topics"]))] for i, w in enumerate(weeks)],
        numbers=[],
    )  # fmt: skip
    shown = m["topics"][:TOP_TOPICS]
    rest = m["topics"][TOP_TOPICS:]
    series = [t["name"] or _("未分類") for t in shown] + ([_("その他")] if rest else [])
    topics.numbers = [
        [t["weeks"][i] for t in shown] + ([sum(t["weeks"][i] for t in rest)] if rest else [])
        for i in range(len(weeks))
    ]
    if series:
        topics.chart = _bars(topics, series, _("件"))
    return [fcr, times, breaches, deflection, topics]


def _week_label(monday: datetime.date) -> str:
    from machi.web.templatetags.dates import jdate

    return str(jdate(monday))


def _csv(table: Table, since: datetime.date, until: datetime.date) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    # The BOM makes Excel (common in municipal offices) read the file as UTF-8.
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"contact-{table.key}-{since.isoformat()}-{until.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@never_cache
@roles_required(Role.SUPERVISOR)
def metrics(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = MetricsForm(request.GET)  # bound even when empty: the defaults apply
    if not form.is_valid():
        mark_errors(form)
        return render(
            request, "contact/metrics/metrics.html", {"form": form, "tables": []}, status=400
        )
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    if not request.GET:
        form = MetricsForm(initial={"since": since, "until": until})
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(since, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(
        until + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
    )
    tables = metric_tables(contact_metrics(since=start, until=end))
    download = request.GET.get("download")
    if download:
        for table in tables:
            if table.key == download:
                return _csv(table, since, until)
        return HttpResponse(_("そのCSVはありません。"), status=404, content_type="text/plain")
    query = request.GET.copy()
    query.pop("download", None)
    query["since"], query["until"] = since.isoformat(), until.isoformat()
    return render(
        request,
        "contact/metrics/metrics.html",
        {"form": form, "tables": tables, "since": since, "until": until,
         "query": query.urlencode()},
    )  # fmt: skip

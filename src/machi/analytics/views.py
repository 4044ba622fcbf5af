"""The dashboards' pages (分析ダッシュボード): one page per dashboard, its charts inline
with their data tables, a date-range filter and per-chart downloads (CSV, SVG, PNG).

* ``/<lg_code>/analytics/`` lists the dashboards; ``/<lg_code>/analytics/<slug>/`` shows
  one, for municipality administrators and supervisors.
* ``/platform/analytics/…``: the same dashboards over every municipality together, for
  platform operators (aggregated only: no municipality is shown on its own).

Every page or download reads its dashboard's figures once (one DuckDB cursor, one set
of aggregate queries); the charts, the tables and the downloads are made from the same
:class:`~machi.analytics.charts.Chart` objects, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from machi.accounts.roles import Role
from machi.analytics import selectors
from machi.analytics.charts import Chart
from machi.analytics.forms import PeriodForm
from machi.analytics.selectors import Period
from machi.tenancy.selectors import municipality_list
from machi.web.decorators import platform_operator_required, roles_required

ROLES = (Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR)

DASHBOARD_TEXT: dict[str, tuple[Any, Any]] = {
    "counter": (
        _("窓口"),
        _("時間帯・曜日別の来庁者数と整理券、用件別の待ち時間、窓口別の対応時間、"
          "ライフイベント別の手続き、事前申請の利用率。"),
    ),
    "departments": (
        _("担当課"),
        _("期限別の未完了の手続き、期限切れ、週別の処理件数、処理日数。"),
    ),
    "linkage": (
        _("連携"),
        _("日別の連携イベント数、配信の遅れ、購読先別の配信の失敗。"),
    ),
    "community": (
        _("地域・問い合わせ"),
        _("分類・区域別の地域の要望・通報、一次解決率、SLA超過。"),
    ),
}  # fmt: skip

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
    "png": "image/png",
}


def _dashboards() -> list[dict[str, Any]]:
    return [
        {"slug": slug, "title": DASHBOARD_TEXT[slug][0], "summary": DASHBOARD_TEXT[slug][1]}
        for slug in selectors.DASHBOARDS
    ]


def _optional_link(name: str, lg_code: str) -> str | None:
    """The URL of another analytics page, or None while it does not exist yet."""
    try:
        return reverse(name, args=[lg_code])
    except NoReverseMatch:
        return None


def _bound_form(request: HttpRequest) -> PeriodForm:
    form = PeriodForm(request.GET)  # bound even when empty: the defaults apply
    if not form.is_valid():
        form.mark_errors()
    return form


def _query(period: Period) -> str:
    return f"from={period.date_from.isoformat()}&to={period.date_to.isoformat()}"


def _chart_items(charts: list[Chart], period: Period, url: Any, slug: str) -> list[dict[str, Any]]:
    query = _query(period)
    items = []
    for chart in charts:
        headers, rows = chart.table()
        items.append(
            {
                "chart": chart,
                "svg": mark_safe(chart.svg_inline()),  # noqa: S308 - every text escaped in charts.py
                "headers": headers,
                "rows": rows,
                "downloads": [
                    (fmt.upper(), f"{url(slug=slug, chart=chart.slug, fmt=fmt)}?{query}")
                    for fmt in FORMATS
                ],
            }
        )
    return items


def _download(chart: Chart, fmt: str, name: str) -> HttpResponse:
    if fmt == "csv":
        body: str | bytes = chart.csv()
    elif fmt == "svg":
        body = chart.svg()
    else:
        body = chart.png()
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _one_chart(charts: list[Chart], chart_slug: str) -> Chart:
    for chart in charts:
        if chart.slug == chart_slug:
            return chart
    raise Http404("そのグラフはありません。")


def _bad_period(form: PeriodForm) -> HttpResponse:
    messages = [str(m) for errors in form.errors.values() for m in errors]
    return HttpResponse("\n".join(messages), status=400, content_type="text/plain; charset=utf-8")


def _dashboard_page(
    request: HttpRequest,
    *,
    slug: str,
    form: PeriodForm,
    figures: Any,
    url: Any,
    context: dict[str, Any],
) -> HttpResponse:
    title, summary = DASHBOARD_TEXT[slug]
    base = {"slug": slug, "title": title, "summary": summary, "form": form, "items": []}
    if not form.is_valid():
        return render(request, "analytics/dashboard.html", {**base, **context}, status=400)
    period = form.period
    charts, extra = figures(period)
    return render(
        request,
        "analytics/dashboard.html",
        {
            **base,
            **context,
            **extra,
            "period": period,
            "items": _chart_items(charts, period, url, slug),
        },
    )


# --- one municipality ----------------------------------------------------------------


def _links(lg_code: str) -> dict[str, Any]:
    return {
        "lg_code": lg_code,
        "home_url": reverse("analytics:home", args=[lg_code]),
        "forecast_url": _optional_link("forecast:forecast", lg_code),
        "security_url": _optional_link("accesslog:queue", lg_code),
        "dashboards": _dashboards(),
    }


@require_GET
@never_cache
@roles_required(*ROLES)
def home(request: HttpRequest, lg_code: str) -> HttpResponse:
    links = _links(lg_code)
    for item in links["dashboards"]:
        item["url"] = reverse(
            "analytics:dashboard", kwargs={"lg_code": lg_code, "slug": item["slug"]}
        )
    return render(request, "analytics/home.html", links)


@require_GET
@never_cache
@roles_required(*ROLES)
def dashboard(request: HttpRequest, lg_code: str, slug: str) -> HttpResponse:
    def url(**kwargs: str) -> str:
        return reverse("analytics:download", kwargs={"lg_code": lg_code, **kwargs})

    return _dashboard_page(
        request,
        slug=slug,
        form=_bound_form(request),
        figures=lambda period: (selectors.dashboard_charts(slug, period, lg_code), {}),
        url=url,
        context=_links(lg_code),
    )


@require_GET
@never_cache
@roles_required(*ROLES)
def download(request: HttpRequest, lg_code: str, slug: str, chart: str, fmt: str) -> HttpResponse:
    form = _bound_form(request)
    if not form.is_valid():
        return _bad_period(form)
    period = form.period
    one = _one_chart(selectors.dashboard_charts(slug, period, lg_code), chart)
    name = f"{lg_code}-{slug}-{chart}-{period.date_from.isoformat()}-{period.date_to.isoformat()}"
    return _download(one, fmt, name)


# --- the platform (every municipality, aggregated) -------------------------------------


def _platform_codes() -> list[str]:
    return [m.lg_code for m in municipality_list() if m.is_active]


def _platform_figures(slug: str, period: Period) -> tuple[list[Chart], dict[str, Any]]:
    result = selectors.platform_dashboard(slug, period, _platform_codes())
    return result.charts, {
        "included": len(result.included),
        "unreadable": len(result.unreadable),
    }


def _platform_links() -> dict[str, Any]:
    return {
        "platform": True,
        "home_url": reverse("analytics:platform_home"),
        "dashboards": _dashboards(),
    }


@require_GET
@never_cache
@platform_operator_required
def platform_home(request: HttpRequest) -> HttpResponse:
    links = _platform_links()
    for item in links["dashboards"]:
        item["url"] = reverse("analytics:platform_dashboard", kwargs={"slug": item["slug"]})
    return render(request, "analytics/home.html", links)


@require_GET
@never_cache
@platform_operator_required
def platform_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    def url(**kwargs: str) -> str:
        return reverse("analytics:platform_download", kwargs=kwargs)

    return _dashboard_page(
        request,
        slug=slug,
        form=_bound_form(request),
        figures=lambda period: _platform_figures(slug, period),
        url=url,
        context=_platform_links(),
    )


@require_GET
@never_cache
@platform_operator_required
def platform_download(request: HttpRequest, slug: str, chart: str, fmt: str) -> HttpResponse:
    form = _bound_form(request)
    if not form.is_valid():
        return _bad_period(form)
    period = form.period
    charts, _extra = _platform_figures(slug, period)
    one = _one_chart(charts, chart)
    name = f"platform-{slug}-{chart}-{period.date_from.isoformat()}-{period.date_to.isoformat()}"
    return _download(one, fmt, name)

"""The forecast page: who may see it, the chart with its table, the staffing table, the
backtest, and the events form (bad input refused, nothing changed)."""

import datetime
import re

import pytest
from django.urls import reverse

from machi.analytics.forecast.models import ForecastEvent
from machi.analytics.forecast.tests.conftest import TODAY, A
from machi.audit.models import AuditEntry
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

URL = reverse("forecast:forecast", args=[A])
ADD = reverse("forecast:event_add", args=[A])


def test_roles(signed_in, admin_a, supervisor_a, clerk_a, admin_b, client, history_a):
    assert signed_in(admin_a).get(URL).status_code == 200
    assert signed_in(supervisor_a).get(URL).status_code == 200
    assert signed_in(clerk_a).get(URL).status_code == 403
    assert signed_in(admin_b).get(URL).status_code in (403, 404)  # another municipality's
    anonymous = client.get(URL)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert signed_in(clerk_a).post(ADD, {"day": "2027-01-05"}).status_code == 403


def test_page_shows_chart_table_staffing_and_backtest(signed_in, admin_a, history_a):
    response = signed_in(admin_a).get(URL)
    html = response.content.decode()
    assert re.search(r'<svg[^>]*role="img"', html)
    assert (
        '<title id="chart-forecast-daily-title">今後8週間の来庁者数の予測（日別）</title>' in html
    )
    assert '<table id="table-daily">' in html and "<caption" in html
    assert "上限（90%）" in html
    assert '<table id="table-hourly">' in html and "必要な窓口数" in html
    assert '<table id="table-backtest">' in html
    assert "季節ナイーブ" in html and "同じ曜日の4週平均" in html
    assert "来月" in html
    # CSP: no inline script or style in the page's own markup (the SVG is charts.py's)
    markup = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert not re.search(r"<script(?![^>]*\bsrc=)", markup)
    assert "style=" not in markup and "<style" not in markup
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # the two forms' fields too
    assert re.search(r"途中から \d+ 回", html)
    assert re.search(r"実際の数が入った割合: \d+%", html)


def test_hourly_day_and_target(signed_in, admin_a, history_a):
    client = signed_in(admin_a)
    report = client.get(URL).context["report"]
    day = report.open_days[3]
    loose = client.get(URL, {"day": day.isoformat(), "target": "60"}).context
    strict = client.get(URL, {"day": day.isoformat(), "target": "1"}).context
    assert loose["chosen"] == day and strict["chosen"] == day
    assert sum(h.counters for h in strict["hours"]) > sum(h.counters for h in loose["hours"])
    bad = client.get(URL, {"target": "0"})
    assert bad.status_code == 400 and "目標の待ち時間" in bad.content.decode()
    closed = next(
        d for d in (TODAY + datetime.timedelta(days=n) for n in range(1, 10)) if d.weekday() == 6
    )
    shown = client.get(URL, {"day": closed.isoformat()})
    assert shown.status_code == 200 and "開庁日ではありません" in shown.content.decode()


def test_without_history_the_page_says_so(signed_in, admin_a):
    response = signed_in(admin_a).get(URL)
    assert response.status_code == 200
    assert "開庁日以上の発券の記録が要ります" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"day": "", "name": "給付金の締切", "effect_percent": "60"},
        {"day": "2027-02-30", "name": "給付金の締切", "effect_percent": "60"},
        {"day": "2027-01-05", "name": "  ", "effect_percent": "60"},
        {"day": "2027-01-05", "name": "給付金の締切", "effect_percent": "-95"},
        {"day": "2027-01-05", "name": "給付金の締切", "effect_percent": "abc"},
        {"day": "2027-01-05", "name": "給付金の締切", "effect_percent": "0"},
        {"day": "2099-01-05", "name": "給付金の締切", "effect_percent": "60"},
        {"day": "2027-01-05", "name": "x" * 101, "effect_percent": "60"},
    ],
)
def test_bad_event_refused_and_nothing_changed(signed_in, admin_a, data):
    response = signed_in(admin_a).post(ADD, data)
    assert response.status_code == 400
    assert "入力を確認してください" in response.content.decode()
    with tenant_context(A):
        assert not ForecastEvent.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="forecast.").exists()


def test_event_add_moves_the_forecast_and_delete(signed_in, supervisor_a, history_a):
    client = signed_in(supervisor_a)
    day = client.get(URL).context["report"].open_days[4]
    before = {p.day: p.mean for p in client.get(URL).context["report"].forecast.daily}
    data = {"day": day.isoformat(), "name": "給付金の締切", "effect_percent": "60"}
    response = client.post(ADD, data)
    assert response.status_code == 302
    with tenant_context(A):
        event = ForecastEvent.objects.get()
        assert (event.day, event.name, event.effect_percent) == (day, "給付金の締切", 60)
        assert event.created_by_username == "fc-supervisor"
        assert AuditEntry.objects.filter(action="forecast.event.created").count() == 1
    page = client.get(URL)
    after = {p.day: p.mean for p in page.context["report"].forecast.daily}
    assert after[day] > before[day] * 1.4
    assert "給付金の締切" in page.content.decode()
    assert client.post(ADD, data).status_code == 400  # the same event twice
    delete = reverse("forecast:event_delete", args=[A, event.pk])
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert client.post(delete).status_code == 404
    with tenant_context(A):
        assert not ForecastEvent.objects.exists()
        assert AuditEntry.objects.filter(action="forecast.event.deleted").count() == 1


def test_downloads(signed_in, admin_a, history_a):
    client = signed_in(admin_a)
    csv = client.get(reverse("forecast:download", args=[A, "csv"]))
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert "上限（90%）" in csv.content.decode("utf-8-sig").splitlines()[0]
    svg = client.get(reverse("forecast:download", args=[A, "svg"]))
    assert svg.status_code == 200 and b"<title" in svg.content
    assert client.get(reverse("forecast:download", args=[A, "gif"])).status_code == 404

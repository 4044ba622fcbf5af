"""The dashboards' pages (issue 15 §1): figures in the tables beside the charts, the
roles, the date-range filter, the downloads, one DuckDB pass a page, the platform view."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.urls import Resolver404, resolve

from machi.accounts.roles import Role
from machi.analytics import selectors
from machi.analytics.tests import fixtures

pytestmark = pytest.mark.django_db(databases="__all__")

LG = fixtures.LG_CODE
WEEK = {"from": "2026-11-02", "to": "2026-11-08"}
PAGE = f"/{LG}/analytics/counter/"


class Tables(HTMLParser):
    """Every <table id=…> of a page: {id: {"caption": str, "rows": [[(tag, scope, text)]]}}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict] = {}
        self.current: dict | None = None
        self.cell: list | None = None
        self.in_caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.current = {"caption": "", "rows": []}
            self.tables[attrs.get("id", str(len(self.tables)))] = self.current
        elif self.current is None:
            return
        elif tag == "caption":
            self.in_caption = True
        elif tag == "tr":
            self.current["rows"].append([])
        elif tag in ("th", "td"):
            self.cell = [tag, attrs.get("scope"), ""]

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif tag == "caption":
            self.in_caption = False
        elif tag in ("th", "td") and self.cell is not None and self.current is not None:
            self.current["rows"][-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.in_caption and self.current is not None:
            self.current["caption"] += data
        elif self.cell is not None:
            self.cell[2] += data.strip()


def tables(response) -> dict[str, dict]:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def row(table: dict, header: str) -> list[str]:
    for cells in table["rows"]:
        if cells and cells[0][2] == header:
            return [text for _tag, _scope, text in cells[1:]]
    raise AssertionError(f"no row {header!r}")


@pytest.fixture
def supervisor(sapporo, make_staff):
    return make_staff(sapporo, ("shimin", Role.SUPERVISOR))


@pytest.fixture
def client_of(signed_in):
    return signed_in


def test_the_counter_page_shows_the_figures_beside_each_chart(supervisor, client_of):
    response = client_of(supervisor).get(PAGE, WEEK)
    assert response.status_code == 200
    found = tables(response)
    hourly = found["table-hourly"]
    assert "時間帯別の来庁者数と整理券" in hourly["caption"]
    header = hourly["rows"][0]
    assert [text for _t, _s, text in header] == ["時間帯", "来庁受付", "整理券"]
    assert {scope for tag, scope, _text in header} == {"col"}
    assert row(hourly, "9時台") == ["6", "4"]
    assert row(hourly, "10時台") == ["4", "X"]  # one ticket: suppressed
    first_cells = [cells[0] for cells in hourly["rows"][1:]]
    assert all(tag == "th" and scope == "row" for tag, scope, _text in first_cells)
    assert row(found["table-wait"], "転入・転出・転居") == ["20.0", "40.0"]
    # every chart of the dashboard is inline, with its title and description
    html = response.content.decode()
    for chart in ("hourly", "weekday", "wait", "service", "events", "preapplied"):
        assert f'<title id="chart-{chart}-title">' in html
        assert f'<desc id="chart-{chart}-desc">' in html
        assert f"table-{chart}" in found
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) == 6
    assert not any(re.search(r"\sstyle=|<style", svg) for svg in svgs)
    assert "2026年11月2日〜2026年11月8日" in html


def test_every_dashboard_renders_for_both_roles(sapporo, make_staff, client_of):
    admin = client_of(make_staff(sapporo, ("shimin", Role.MUNICIPALITY_ADMIN)))
    home = admin.get(f"/{LG}/analytics/")
    assert home.status_code == 200
    for slug in selectors.DASHBOARDS:
        assert f'href="/{LG}/analytics/{slug}/"' in home.content.decode()
        page = admin.get(f"/{LG}/analytics/{slug}/", WEEK)
        assert page.status_code == 200, slug
    linkage = tables(admin.get(f"/{LG}/analytics/linkage/", WEEK))
    assert row(linkage["table-failures"], "税務システム") == ["5", "X"]
    community = tables(admin.get(f"/{LG}/analytics/community/", WEEK))
    assert row(community["table-sla"], "中") == ["4", "X"]


@pytest.mark.parametrize("role", [Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.WEB_AUTHOR])
def test_other_roles_are_refused(sapporo, make_staff, client_of, role):
    client = client_of(make_staff(sapporo, ("shimin", role)))
    assert client.get(f"/{LG}/analytics/").status_code == 403
    assert client.get(PAGE, WEEK).status_code == 403
    assert client.get(f"/{LG}/analytics/counter/hourly.csv", WEEK).status_code == 403
    assert client.get("/platform/analytics/counter/", WEEK).status_code == 403


def test_signed_out_is_sent_to_the_login(sapporo, client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"from": "2026-11-08", "to": "2026-11-02"},
            "終了日は開始日と同じか、後の日にしてください。",
        ),
        ({"from": "2026-13-01"}, "開始日を 2026-04-01 の形で入力してください。"),
        ({"to": "yesterday"}, "終了日を 2026-04-30 の形で入力してください。"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "期間は 1098 日以内にしてください。"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(supervisor, client_of, query, message):
    client = client_of(supervisor)
    response = client.get(PAGE, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "<svg" not in html
    download = client.get(f"/{LG}/analytics/counter/hourly.csv", query)
    assert download.status_code == 400
    assert message in download.content.decode()


def test_the_default_period_is_the_last_twelve_weeks(supervisor, client_of):
    response = client_of(supervisor).get(PAGE)
    assert response.status_code == 200
    assert response.context["period"] == selectors.Period.default()
    assert len(response.context["period"].days) == selectors.DEFAULT_DAYS


def test_downloads_as_csv_svg_and_png(supervisor, client_of):
    client = client_of(supervisor)
    base = f"/{LG}/analytics/counter/hourly"
    name = f"{LG}-counter-hourly-2026-11-02-2026-11-08"

    response = client.get(f"{base}.csv", WEEK)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["時間帯", "来庁受付", "整理券"]
    assert ["9時台", "6", "4"] in rows
    assert ["10時台", "4", "X"] in rows

    response = client.get(f"{base}.svg", WEEK)
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}.svg"'
    root = ET.fromstring(response.content)  # noqa: S314 - our own SVG
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("role") == "img"
    assert root.find(f"{ns}title").text == "時間帯別の来庁者数と整理券"
    assert root.find(f"{ns}desc").text

    response = client.get(f"{base}.png", WEEK)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="{name}.png"'
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")

    assert client.get(f"/{LG}/analytics/counter/nothing.csv", WEEK).status_code == 404
    assert client.get(f"/{LG}/analytics/counter/hourly.pdf", WEEK).status_code == 404


def test_one_duckdb_pass_a_page(supervisor, client_of, monkeypatch):
    opened: list[str | None] = []
    real = selectors.duck_cursor

    def counting(lg_code=None):
        opened.append(lg_code)
        return real(lg_code)

    monkeypatch.setattr(selectors, "duck_cursor", counting)
    client = client_of(supervisor)
    for slug in selectors.DASHBOARDS:
        opened.clear()
        assert client.get(f"/{LG}/analytics/{slug}/", WEEK).status_code == 200
        assert opened == [LG], slug
    opened.clear()
    assert client.get(f"/{LG}/analytics/counter/wait.png", WEEK).status_code == 200
    assert opened == [LG]


def test_the_other_analytics_pages_are_not_dashboards():
    for name in ("forecast", "security"):
        try:
            match = resolve(f"/{LG}/analytics/{name}/")
        except Resolver404:
            continue
        assert match.url_name not in ("dashboard", "download"), name
        assert match.kwargs.get("slug") != name


def test_the_platform_sees_the_sum_only(sapporo, make_staff, client_of):
    operator = client_of(make_staff(None))
    home = operator.get("/platform/analytics/")
    assert home.status_code == 200
    assert 'href="/platform/analytics/counter/"' in home.content.decode()
    response = operator.get("/platform/analytics/counter/", WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    codes = [m.lg_code for m in selectors_municipalities()]
    assert LG in codes
    expected = selectors.platform_dashboard("counter", _period(), codes)
    assert LG in expected.included
    hourly = {c.slug: c for c in expected.charts}["hourly"]
    _headers, rows = hourly.table()
    found = tables(response)["table-hourly"]
    for cells in rows:
        assert row(found, cells[0]) == cells[1:]
    assert int(row(found, "9時台")[0]) >= 6
    # no municipality is named or shown on its own
    for name in ("福岡市", "千代田区", "堺市"):
        assert name not in html
    download = operator.get("/platform/analytics/counter/hourly.csv", WEEK)
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        'attachment; filename="platform-counter-hourly-2026-11-02-2026-11-08.csv"'
    )
    # an operator has no municipality page
    assert operator.get(PAGE, WEEK).status_code in (403, 404)


def test_platform_figures_are_sums(scratch):
    twice = selectors.platform_dashboard_charts("counter", _period(), [LG, LG])
    hourly = {c.slug: c for c in twice}["hourly"]
    values = dict(zip(hourly.categories, hourly.series[0].values, strict=True))
    assert values["9時台"] == 12
    tickets = dict(zip(hourly.categories, hourly.series[1].values, strict=True))
    assert tickets["10時台"] is None  # 2 (1 + 1) is still under the threshold


def selectors_municipalities():
    from machi.tenancy.selectors import municipality_list

    return [m for m in municipality_list() if m.is_active]


def _period():
    import datetime as dt

    return selectors.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 8))

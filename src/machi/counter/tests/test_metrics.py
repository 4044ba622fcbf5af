"""The counter metrics page: tickets issued, waiting and handling times, by hour."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.counter import selectors
from machi.counter.selectors import DurationStats, MetricSection, percentile, ticket_metrics
from machi.counter.services import (
    ticket_call_next,
    ticket_cancel,
    ticket_finish,
    ticket_issue,
    ticket_no_show,
    ticket_start,
    visit_open,
)
from machi.counter.templatetags.counter_tags import duration
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

JST = ZoneInfo("Asia/Tokyo")
DAY = datetime.date(2026, 4, 6)
URL = "/131016/counter/metrics/"


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 4, 6, hour, minute, tzinfo=JST)


@pytest.fixture
def supervisor(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.SUPERVISOR))


@pytest.fixture
def known_day(municipality_a, time_machine):
    """Five tickets at known times (waits 10, 15, 30, 5 min; handling 10, 5, 20 min).

    | no | issued | called | start | end   | outcome   |
    |  1 | 09:00  | 09:10  | 09:11 | 09:21 | done      |
    |  2 | 09:05  | 09:20  | 09:21 | 09:26 | done      |
    |  3 | 09:10  | 09:40  |       | 09:45 | no show   |
    |  4 | 10:00  | 10:05  | 10:06 | 10:26 | done      |
    |  5 | 10:30  |        |       | 10:31 | cancelled |
    """
    tickets = {}

    def step(when, action):
        time_machine.move_to(when, tick=False)
        action()

    def issue(n):
        tickets[n] = ticket_issue(purpose="certificate")

    def call(window):
        ticket_call_next(counter=window, actor=None, terminal=None)

    def do(service, n):
        return lambda: service(ticket=tickets[n], actor=None, terminal=None)

    with tenant_context("131016"):
        for when, action in [
            (at(9, 0), lambda: issue(1)),
            (at(9, 5), lambda: issue(2)),
            (at(9, 10), lambda: issue(3)),
            (at(9, 10), lambda: call("1番窓口")),
            (at(9, 11), do(ticket_start, 1)),
            (at(9, 20), lambda: call("2番窓口")),
            (at(9, 21), do(ticket_finish, 1)),
            (at(9, 21), do(ticket_start, 2)),
            (at(9, 26), do(ticket_finish, 2)),
            (at(9, 40), lambda: call("1番窓口")),
            (at(9, 45), do(ticket_no_show, 3)),
            (at(10, 0), lambda: issue(4)),
            (at(10, 5), lambda: call("2番窓口")),
            (at(10, 6), do(ticket_start, 4)),
            (at(10, 26), do(ticket_finish, 4)),
            (at(10, 30), lambda: issue(5)),
            (at(10, 31), do(ticket_cancel, 5)),
        ]:
            step(when, action)
    time_machine.move_to(at(17), tick=False)
    return tickets


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([42], 0.9) == 42
    assert percentile(list(range(1, 11)), 0.5) == 5.5
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert percentile([30, 10, 20], 0.5) == 20  # order does not matter
    assert DurationStats.of([]) == DurationStats(0, None, None)


def test_duration_text():
    assert duration(None) == "—"
    assert duration(45.4) == "45秒"
    assert duration(750) == "12分30秒"
    assert duration(3600 + 125) == "1時間02分"


def test_metrics_from_known_timestamps(known_day):
    with tenant_context("131016"):
        m = ticket_metrics(day=DAY)
    assert m.issued == 5
    assert m.by_status == {"done": 3, "no_show": 1, "cancelled": 1}
    # waits 600, 900, 1800, 300 s → median 750, p90 900 + 0.7 × 900
    assert m.waiting == DurationStats(4, 750, pytest.approx(1530))
    # handling 600, 300, 1200 s (the absent one was never served) → median 600, p90 1080
    assert m.handling == DurationStats(3, 600, pytest.approx(1080))
    nine, ten = m.hours
    assert (nine.hour, nine.issued, ten.hour, ten.issued) == (9, 3, 10, 2)
    assert nine.waiting == DurationStats(3, 900, pytest.approx(1620))
    assert nine.handling == DurationStats(2, 450, pytest.approx(570))
    assert ten.waiting == DurationStats(1, 300, 300)
    assert ten.handling == DurationStats(1, 1200, 1200)


def test_a_ticket_ended_by_its_visit_counts_in_the_metrics(municipality_a, time_machine):
    """発券 09:00 → 呼出 09:12 → 受付開始 (the intake's step 1) 09:13 → 確定 09:31."""
    with tenant_context("131016"):
        time_machine.move_to(at(9), tick=False)
        ticket = ticket_issue(purpose="move")
        time_machine.move_to(at(9, 12), tick=False)
        ticket_call_next(counter="1番窓口", actor=None, terminal=None)
        time_machine.move_to(at(9, 13), tick=False)
        ticket_start(ticket=ticket, actor=None, terminal=None)
        assert ticket_metrics(day=DAY).handling == DurationStats(0, None, None)
        time_machine.move_to(at(9, 31), tick=False)
        visit_open(
            event_type="move_in", event_date=DAY, navigator_input={}, atena_numbers=[],
            ticket=ticket, actor=None, terminal=None,
        )  # fmt: skip
        m = ticket_metrics(day=DAY)
    assert m.by_status == {"done": 1}
    assert m.waiting == DurationStats(1, 720, 720)
    assert m.handling == DurationStats(1, 1080, 1080)
    assert m.hours[0].handling == DurationStats(1, 1080, 1080)


def test_hours_without_tickets_are_listed_between_busy_ones(municipality_a, time_machine):
    with tenant_context("131016"):
        for hour in (9, 12):
            time_machine.move_to(at(hour), tick=False)
            ticket_issue(purpose="other")
        m = ticket_metrics(day=DAY)
        assert [(h.hour, h.issued) for h in m.hours] == [(9, 1), (10, 0), (11, 0), (12, 1)]
        assert m.waiting == DurationStats(0, None, None)
        assert ticket_metrics(day=DAY + datetime.timedelta(days=1)).hours == []


def test_metrics_page_for_supervisors(known_day, supervisor, signed_in):
    page = signed_in(supervisor).get(URL, {"day": "2026-04-06"}).content.decode()
    assert "令和8年4月6日" in page
    assert "12分30秒" in page and "25分30秒" in page  # waiting median, p90
    assert "10分00秒" in page and "18分00秒" in page  # handling median, p90
    assert "9時台" in page and "10時台" in page
    assert 'id="metrics-tickets"' in page
    # today (no tickets yet at 17:00 on another day) and a bad date
    other = signed_in(supervisor).get(URL, {"day": "2026-04-07"}).content.decode()
    assert "この日の発券はありません" in other
    assert signed_in(supervisor).get(URL, {"day": "not-a-date"}).status_code == 200


def test_metrics_page_is_for_supervisors_only(
    make_staff, municipality_a, municipality_b, signed_in
):
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    assert signed_in(clerk).get(URL).status_code == 403
    supervisor_b = make_staff(municipality_b, ("shimin", Role.SUPERVISOR))
    assert signed_in(supervisor_b).get(URL).status_code == 403
    assert signed_in(supervisor_b).get("/271403/counter/metrics/").status_code == 200


def extra_section(*, day):
    return MetricSection(
        key="extra",
        title="追加の区分",
        template="counter/metrics/_tickets.html",
        data=ticket_metrics(day=day),
    )


def nothing_to_show(*, day):
    return None


def test_metric_sections_can_be_extended(monkeypatch, supervisor, signed_in):
    monkeypatch.setattr(
        selectors.metrics,
        "METRIC_SECTIONS",
        [
            *selectors.METRIC_SECTIONS,
            f"{__name__}.extra_section",
            f"{__name__}.nothing_to_show",
        ],
    )
    page = signed_in(supervisor).get(URL).content.decode()
    assert page.index('id="metrics-tickets"') < page.index('id="metrics-extra"')
    assert "追加の区分" in page


def test_metrics_page_queries_do_not_grow(known_day, supervisor, signed_in, time_machine):
    client = signed_in(supervisor)
    counts = []
    for extra in (0, 20):
        with tenant_context("131016"):
            for _ in range(extra):
                ticket_issue(purpose="move")
        with CaptureQueriesContext(connections["tenant_131016"]) as queries:
            assert client.get(URL, {"day": "2026-04-06"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == 3, counts  # tickets, tasks, visits: one query each

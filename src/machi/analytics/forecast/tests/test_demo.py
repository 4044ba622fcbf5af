"""The demo seed: plausible finished tickets, visits with tasks, idempotent."""

import datetime

import pytest
from django.db.models import Count

from machi.analytics.forecast.demo import counter_history_demo_seed
from machi.analytics.forecast.tests.conftest import JST, A
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def test_demo_seed_counts_times_and_idempotence(municipality_a):
    from machi.accounts.models import Department
    from machi.counter.models import Task, Ticket, TicketDay, Visit

    written = counter_history_demo_seed(lg_code=A, days=21, seed=3)
    today = datetime.datetime.now(JST).date()
    with tenant_context(A):
        tickets = list(Ticket.objects.all())
        assert written == len(tickets) > 1000  # about 14 open days of ~180
        days = {t.issued_on for t in tickets}
        assert max(days) < today and min(days) >= today - datetime.timedelta(days=21)
        assert all(d.weekday() < 5 for d in days)
        for t in tickets:
            assert t.status == "done" and t.counter.endswith("番窓口") and t.purpose
            assert t.issued_at <= t.called_at <= t.served_at < t.finished_at
            assert t.issued_at.astimezone(JST).date() == t.issued_on
            assert 8 <= t.issued_at.astimezone(JST).hour <= 17
        waits = sorted((t.served_at - t.issued_at).total_seconds() / 60 for t in tickets)
        assert waits[len(waits) // 2] < 30  # the median wait is plausible
        per_day = dict(Ticket.objects.values_list("issued_on").annotate(n=Count("id")))
        assert {d.day: d.last_number for d in TicketDay.objects.all()} == per_day
        visits = list(Visit.objects.select_related("ticket"))
        assert visits and all(v.ticket.purpose == "move" for v in visits)
        assert {v.event_type for v in visits} == {"move_in", "move_out"}
        tasks = list(Task.objects.all())
        assert len(tasks) >= len(visits)
        departments = set(
            Department.objects.filter(municipality=municipality_a).values_list("code", flat=True)
        )
        assert {t.department for t in tasks} <= departments
        assert {t.department for t in tasks} > {"shimin"}
        assert Task.objects.filter(status="open").exists()  # the last days' tasks
        counts = (Ticket.objects.count(), Visit.objects.count(), Task.objects.count())
    assert counter_history_demo_seed(lg_code=A, days=21, seed=3) == 0
    with tenant_context(A):
        assert (Ticket.objects.count(), Visit.objects.count(), Task.objects.count()) == counts


def test_demo_history_feeds_the_forecast(municipality_a):
    from machi.analytics.forecast.selectors import forecast_for

    counter_history_demo_seed(lg_code=A, days=35)
    report = forecast_for(lg_code=A, with_backtest=False)
    assert report.history_days >= 20
    assert 100 < report.forecast.daily[0].mean < 400
    assert 3 < report.service_minutes < 20

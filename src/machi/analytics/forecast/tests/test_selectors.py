"""The demand history read from counter tickets: JST days and hours, open days only,
zeros inside the history, the cache following new tickets."""

import datetime

import pytest

from machi.analytics.forecast.selectors import demand_history, forecast_events
from machi.analytics.forecast.synthetic import HOURS
from machi.analytics.forecast.tests.conftest import JST, A
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

MONDAY = datetime.date(2026, 11, 16)
WEDNESDAY = datetime.date(2026, 11, 18)
TODAY = datetime.date(2026, 11, 20)


def ticket(day: datetime.date, hh: int, mm: int, number: int, **extra):
    from machi.counter.models import Ticket

    at = datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=JST)
    return Ticket.objects.create(
        issued_on=day, number=number, purpose="certificate", issued_at=at, **extra
    )


def test_days_hours_and_cache(municipality_a):
    with tenant_context(A):
        ticket(MONDAY, 7, 50, 1)  # before opening: counted in 8時台
        ticket(MONDAY, 8, 45, 2)
        ticket(MONDAY, 9, 0, 3, status="cancelled")  # demand, whatever became of it
        ticket(MONDAY, 17, 20, 4)  # after closing: 17時台
        ticket(WEDNESDAY, 13, 59, 1)
        ticket(TODAY, 9, 0, 1)  # today is not history yet
        ticket(datetime.date(2026, 11, 15), 10, 0, 1)  # a Sunday: closed, left out
        history = demand_history(today=TODAY)
        assert [r.day for r in history] == [MONDAY, MONDAY + datetime.timedelta(1), WEDNESDAY]
        monday, tuesday, wednesday = history
        assert monday.total == 4
        assert dict(zip(HOURS, monday.hourly, strict=True)) == {
            8: 2, 9: 1, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0, 17: 1,
        }  # fmt: skip
        assert tuesday.total == 0  # open, no ticket: a real zero inside the history
        assert wednesday.hourly[HOURS.index(13)] == 1
        ticket(WEDNESDAY, 14, 30, 2)  # a late entry: the cache must not hide it
        assert demand_history(today=TODAY)[-1].total == 2


def test_events_as_model_events(municipality_a):
    from machi.analytics.forecast.models import ForecastEvent

    with tenant_context(A):
        ForecastEvent.objects.create(day=WEDNESDAY, name="給付金の締切", effect_percent=60)
        ForecastEvent.objects.create(day=MONDAY, name="選挙", effect_percent=-20)
        events = forecast_events()
    assert [(e.day, e.name, e.effect) for e in events] == [
        (MONDAY, "選挙", -0.2),
        (WEDNESDAY, "給付金の締切", 0.6),
    ]

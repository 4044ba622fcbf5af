import datetime

import pytest

from machi.analytics.forecast.synthetic import HOURS, OPEN_MINUTES, CounterProcess, generate
from machi.tenancy.context import tenant_context

A, B = "131016", "271403"
JST = datetime.timezone(datetime.timedelta(hours=9))
# The page forecasts from today: the fixture's history ends yesterday.
TODAY = datetime.datetime.now(JST).date()
# A small municipality: ~25 tickets a day keeps the fixture fast.
SMALL = CounterProcess(base=25.0, dispersion=200.0)


def write_history(*, today: datetime.date, days: int, seed: int = 7) -> int:
    """Tickets from the synthetic process for the ``days`` days before ``today`` (the
    municipality in force); returns how many."""
    from machi.counter.models import Ticket

    rows = generate(
        start=today - datetime.timedelta(days=days), days=days, seed=seed, process=SMALL
    )
    tickets = []
    for row in rows:
        number = 0
        for hour, count in zip(HOURS, row.hourly, strict=True):
            low, _high = OPEN_MINUTES.get(hour, (0, 60))
            for k in range(count):
                number += 1
                issued = datetime.datetime.combine(
                    row.day, datetime.time(hour, low), tzinfo=JST
                ) + datetime.timedelta(seconds=20 * k)
                tickets.append(
                    Ticket(
                        issued_on=row.day, number=number, purpose="certificate",
                        status="done", issued_at=issued,
                        served_at=issued + datetime.timedelta(minutes=3),
                        finished_at=issued + datetime.timedelta(minutes=11),
                    )
                )  # fmt: skip
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    return len(tickets)


@pytest.fixture
def history_a(municipality_a):
    """About 100 open days of tickets in A before TODAY."""
    with tenant_context(A):
        return write_history(today=TODAY, days=150)


@pytest.fixture
def admin_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"), username="fc-admin")


@pytest.fixture
def supervisor_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "supervisor"), username="fc-supervisor")


@pytest.fixture
def clerk_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="fc-clerk")


@pytest.fixture
def admin_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("shimin", "municipality_admin"), username="fc-admin-b")

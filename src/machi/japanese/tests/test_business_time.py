"""Business time on the one closed-day calendar (DOMAIN.md §3), shared with deadlines."""

from __future__ import annotations

import datetime as dt
import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machi.japanese import business_time, deadlines
from machi.japanese.business_time import (
    JST,
    BusinessCalendar,
    ClosedDays,
    add_business_minutes,
    business_minutes_between,
    business_seconds_between,
    is_closed_day,
    parse_hours,
)

UTC = dt.UTC
CAL = BusinessCalendar()
OWN_CLOSED = BusinessCalendar(closed=ClosedDays(extra=frozenset({dt.date(2025, 4, 15)})))
LUNCH = BusinessCalendar(hours={d: parse_hours("8:30-12:00, 13:00-17:15") for d in range(5)})


def J(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "due"),
    [
        (CAL, J(2025, 4, 8, 9, 0), 60, J(2025, 4, 8, 10, 0)),  # an ordinary Tuesday
        (CAL, J(2025, 4, 8, 16, 15), 60, J(2025, 4, 8, 17, 15)),  # reached at closing: that day
        (CAL, J(2025, 4, 8, 16, 15), 61, J(2025, 4, 9, 8, 31)),
        (CAL, J(2025, 4, 4, 17, 0), 30, J(2025, 4, 7, 8, 45)),  # Friday → Monday
        (CAL, J(2025, 4, 5, 10, 0), 10, J(2025, 4, 7, 8, 40)),  # starts on a Saturday
        (CAL, J(2025, 5, 2, 16, 45), 60, J(2025, 5, 7, 9, 0)),  # 5/3–5/5 and 5/6 振替休日
        (CAL, J(2026, 5, 1, 17, 0), 16, J(2026, 5, 7, 8, 31)),  # 2026: 5/6 (Wed) 振替休日
        (CAL, J(2025, 9, 12, 17, 0), 20, J(2025, 9, 16, 8, 35)),  # 9/15 敬老の日
        (CAL, J(2025, 12, 26, 17, 0), 30, J(2026, 1, 5, 8, 45)),  # 年末年始 12/29–1/3
        (CAL, J(2026, 12, 28, 17, 0), 30, J(2027, 1, 4, 8, 45)),  # 12/28 (Mon) is open
        (OWN_CLOSED, J(2025, 4, 14, 17, 0), 30, J(2025, 4, 16, 8, 45)),  # the city's own day
        (CAL, J(2025, 4, 8, 7, 0), 10, J(2025, 4, 8, 8, 40)),  # before opening
        (CAL, J(2025, 4, 8, 20, 0), 10, J(2025, 4, 9, 8, 40)),  # after closing
        (CAL, J(2025, 4, 8, 9, 0), 525 * 5, J(2025, 4, 15, 9, 0)),  # a week of open days
        (LUNCH, J(2025, 4, 8, 11, 50), 20, J(2025, 4, 8, 13, 10)),  # lunch break closed
        (LUNCH, J(2025, 4, 8, 12, 30), 10, J(2025, 4, 8, 13, 10)),
        (CAL, J(2025, 4, 8, 9, 0), 0, J(2025, 4, 8, 9, 0)),
        (CAL, J(2025, 4, 5, 9, 0), 0, J(2025, 4, 5, 9, 0)),  # 0 minutes: the start itself
        # aware datetimes in another zone are counted in JST: 00:00 UTC = 09:00 JST
        (CAL, dt.datetime(2025, 4, 8, 0, 0, tzinfo=UTC), 60, J(2025, 4, 8, 10, 0)),
    ],
)
def test_add_business_minutes(calendar, start, minutes, due) -> None:
    assert add_business_minutes(start, minutes, calendar) == due
    assert business_minutes_between(start, due, calendar) == minutes


@pytest.mark.parametrize(
    ("calendar", "start", "end", "minutes"),
    [
        (CAL, J(2025, 4, 4, 9, 0), J(2025, 4, 7, 9, 0), 525),  # over a weekend
        (CAL, J(2025, 4, 28, 9, 0), J(2025, 4, 30, 9, 0), 525),  # 4/29 昭和の日
        (CAL, J(2025, 12, 26, 8, 30), J(2026, 1, 5, 17, 15), 2 * 525),  # 年末年始
        (OWN_CLOSED, J(2025, 4, 14, 8, 30), J(2025, 4, 16, 17, 15), 2 * 525),
        (CAL, J(2025, 4, 8, 18, 0), J(2025, 4, 9, 8, 0), 0),  # overnight
        (CAL, J(2025, 4, 8, 12, 0), J(2025, 4, 8, 9, 0), 0),  # end before start
        (LUNCH, J(2025, 4, 8, 8, 30), J(2025, 4, 8, 17, 15), 465),
        (CAL, J(2025, 4, 8, 9, 0, 30), J(2025, 4, 8, 9, 2, 0), 1),  # whole minutes
    ],
)
def test_business_minutes_between(calendar, start, end, minutes) -> None:
    assert business_minutes_between(start, end, calendar) == minutes


def test_pauses_are_not_counted() -> None:
    tuesday = J(2025, 4, 8, 9, 0)
    pause = (J(2025, 4, 8, 10, 0), J(2025, 4, 8, 11, 0))
    assert business_minutes_between(tuesday, J(2025, 4, 8, 12, 0), CAL, pauses=[pause]) == 120
    assert add_business_minutes(tuesday, 120, CAL, pauses=[pause]) == J(2025, 4, 8, 12, 0)
    # overlapping pauses count once; a pause begun before the start counts from the start
    overlapping = [
        pause,
        (J(2025, 4, 8, 10, 30), J(2025, 4, 8, 11, 30)),
        (J(2025, 4, 8, 8), tuesday),
    ]
    assert business_minutes_between(tuesday, J(2025, 4, 8, 12, 0), CAL, pauses=overlapping) == 90
    early = [(J(2025, 4, 8, 8, 0), J(2025, 4, 8, 9, 30))]
    assert add_business_minutes(tuesday, 60, CAL, pauses=early) == J(2025, 4, 8, 10, 30)
    # a pause over the weekend costs nothing more than the weekend itself
    weekend = [(J(2025, 4, 4, 17, 15), J(2025, 4, 7, 8, 30))]
    assert add_business_minutes(J(2025, 4, 4, 17, 0), 30, CAL, pauses=weekend) == J(
        2025, 4, 7, 8, 45
    )
    # a target reached inside a pause moves past its end
    assert add_business_minutes(tuesday, 60, CAL, pauses=[pause]) == J(2025, 4, 8, 10, 0)
    assert add_business_minutes(tuesday, 61, CAL, pauses=[pause]) == J(2025, 4, 8, 11, 1)


def test_saturday_hours_do_not_open_a_closed_day() -> None:
    calendar = BusinessCalendar(hours={**business_time.DEFAULT_HOURS, 5: parse_hours("9:00-12:00")})
    assert not calendar.is_open(J(2025, 4, 5, 10, 0))  # 土曜 is closed by DOMAIN.md §3
    assert add_business_minutes(J(2025, 4, 4, 17, 0), 30, calendar) == J(2025, 4, 7, 8, 45)


def test_is_open() -> None:
    assert CAL.is_open(J(2025, 4, 8, 8, 30)) and CAL.is_open(J(2025, 4, 8, 17, 14, 59))
    assert not CAL.is_open(J(2025, 4, 8, 17, 15)) and not CAL.is_open(J(2025, 4, 8, 8, 29))
    assert not CAL.is_open(J(2025, 1, 2, 10, 0)) and not CAL.is_open(J(2025, 11, 3, 10, 0))


def test_one_calendar_for_deadlines_and_business_time() -> None:
    assert deadlines.is_closed_day is is_closed_day
    closed = ClosedDays(extra=frozenset({dt.date(2025, 4, 15)}))
    assert deadlines.deadline(dt.date(2025, 4, 1), 14, closed_days=closed) == dt.date(2025, 4, 16)
    day = dt.date(2024, 1, 1)
    while day < dt.date(2027, 1, 1):
        assert OWN_CLOSED.is_open_day(day) == (not is_closed_day(day, closed_days=closed)), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: add_business_minutes(dt.datetime(2025, 4, 8, 9), 10, CAL), "aware"),
        (lambda: business_minutes_between(dt.datetime(2025, 4, 8), J(2025, 4, 9), CAL), "aware"),
        (lambda: add_business_minutes(J(2025, 4, 8), -1, CAL), "≥ 0"),
        (lambda: parse_hours("8:30"), "8:30-17:15"),
        (lambda: parse_hours("17:15-8:30"), "end after"),
        (lambda: parse_hours("8:30-12:00,11:00-13:00"), "overlap"),
        (lambda: BusinessCalendar(hours={7: ()}), "weekday"),
        (lambda: add_business_minutes(J(2025, 4, 8), 1, BusinessCalendar(hours={})), "not open"),
    ],
)
def test_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
    with pytest.raises(TypeError):
        add_business_minutes(J(2025, 4, 8), 1.5, CAL)  # type: ignore[arg-type]


def test_docstring_examples() -> None:
    assert doctest.testmod(business_time, optionflags=doctest.ELLIPSIS).failed == 0


def test_counting_backwards_in_time_grows_the_table_consistently() -> None:
    calendar = BusinessCalendar()
    later = business_minutes_between(J(2030, 4, 8, 9), J(2030, 4, 9, 9), calendar)
    earlier = business_minutes_between(J(2001, 4, 9, 9), J(2001, 4, 10, 9), calendar)
    assert later == earlier == 525
    assert add_business_minutes(J(2030, 4, 8, 9), 525, calendar) == J(2030, 4, 9, 9)


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(JST)
)


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=st.integers(0, 30_000), more=st.integers(0, 3_000))
def test_add_then_measure_gives_the_minutes_back(start, minutes, more) -> None:
    due = add_business_minutes(start, minutes, CAL)
    assert business_minutes_between(start, due, CAL) == minutes
    assert due >= start.replace(microsecond=0)
    assert add_business_minutes(start, minutes + more, CAL) >= due  # monotonic


@settings(max_examples=200, deadline=None)
@given(
    start=moments,
    minutes=st.integers(1, 10_000),
    pauses=st.lists(st.tuples(moments, st.integers(0, 7 * 24 * 3600)), max_size=4),
)
def test_with_pauses_add_then_measure_gives_the_minutes_back(start, minutes, pauses) -> None:
    intervals = [(a, a + dt.timedelta(seconds=s)) for a, s in pauses]
    due = add_business_minutes(start, minutes, OWN_CLOSED, pauses=intervals)
    assert business_minutes_between(start, due, OWN_CLOSED, pauses=intervals) == minutes
    assert business_seconds_between(start, due, OWN_CLOSED, pauses=intervals) == minutes * 60


@settings(max_examples=200, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_measure_is_monotonic_and_additive(a, b, c) -> None:
    a, b, c = sorted((a, b, c))
    ab, bc = business_seconds_between(a, b, LUNCH), business_seconds_between(b, c, LUNCH)
    assert business_seconds_between(a, c, LUNCH) == ab + bc
    assert 0 <= ab <= business_seconds_between(a, c, LUNCH)

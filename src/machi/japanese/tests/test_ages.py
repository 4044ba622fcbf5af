"""DOMAIN.md §3: age, legal_age, school years, eligible_child, deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import (
    age,
    deadline,
    eligible_child,
    eligible_child_until,
    is_closed_day,
    legal_age,
    parse_date,
    school_age,
    school_start,
)

D = dt.date


@pytest.mark.parametrize(
    ("birth", "day", "expected"),
    [
        (D(2000, 6, 15), D(2025, 6, 14), 24),  # the day before the birthday
        (D(2000, 6, 15), D(2025, 6, 15), 25),
        (D(2000, 6, 15), D(2000, 6, 15), 0),
        (D(2000, 2, 29), D(2001, 2, 28), 0),  # common year: birthday is 1 March
        (D(2000, 2, 29), D(2001, 3, 1), 1),
        (D(2000, 2, 29), D(2004, 2, 28), 3),
        (D(2000, 2, 29), D(2004, 2, 29), 4),  # leap year: 29 February
        (D(1999, 12, 31), D(2000, 1, 1), 0),
    ],
)
def test_age(birth: dt.date, day: dt.date, expected: int) -> None:
    assert age(birth, day) == expected


@pytest.mark.parametrize(
    ("birth", "day", "expected"),
    [
        (D(2000, 6, 15), D(2025, 6, 14), 25),  # reached at the end of the day before
        (D(2000, 6, 15), D(2025, 6, 13), 24),
        (D(2000, 2, 29), D(2001, 2, 28), 1),
        (D(2000, 2, 29), D(2001, 2, 27), 0),
        (D(2000, 2, 29), D(2004, 2, 28), 4),
    ],
)
def test_legal_age(birth: dt.date, day: dt.date, expected: int) -> None:
    assert legal_age(birth, day) == expected


@pytest.mark.parametrize(
    ("birth", "start"),
    [
        (D(2008, 4, 1), D(2014, 4, 1)),
        (D(2008, 4, 2), D(2015, 4, 1)),
        (D(2008, 3, 31), D(2014, 4, 1)),
        (D(2008, 2, 29), D(2014, 4, 1)),
        (D(2008, 12, 31), D(2015, 4, 1)),
    ],
)
def test_school_start(birth: dt.date, start: dt.date) -> None:
    assert school_start(birth) == start


@pytest.mark.parametrize(
    ("birth", "day", "expected"),
    [
        (D(2008, 4, 1), D(2014, 3, 31), "preschool"),
        (D(2008, 4, 1), D(2014, 4, 1), "elementary"),
        (D(2008, 4, 2), D(2014, 4, 1), "preschool"),
        (D(2008, 4, 2), D(2015, 4, 1), "elementary"),
        (D(2008, 4, 1), D(2020, 3, 31), "elementary"),
        (D(2008, 4, 1), D(2020, 4, 1), "junior_high"),
        (D(2008, 4, 1), D(2023, 3, 31), "junior_high"),
        (D(2008, 4, 1), D(2023, 4, 1), "none"),
        (D(2008, 4, 2), D(2024, 3, 31), "junior_high"),
        (D(2008, 4, 2), D(2024, 4, 1), "none"),
    ],
)
def test_school_age(birth: dt.date, day: dt.date, expected: str) -> None:
    assert school_age(birth, day) == expected


@pytest.mark.parametrize(
    ("birth", "until"),
    [
        (D(2008, 4, 1), D(2026, 3, 31)),
        (D(2008, 4, 2), D(2027, 3, 31)),
        (D(2008, 3, 31), D(2026, 3, 31)),
        (D(2008, 2, 29), D(2026, 3, 31)),
    ],
)
def test_eligible_child(birth: dt.date, until: dt.date) -> None:
    assert eligible_child_until(birth) == until
    assert eligible_child(birth, until)
    assert not eligible_child(birth, until + dt.timedelta(days=1))
    assert eligible_child(birth, birth)


def test_japanese_date_inputs_use_the_approximate_date() -> None:
    birth = parse_date("平成20年4月1日")
    assert age(birth, parse_date("R7.4.1")) == 17
    assert school_start(parse_date("平成20年4月日不詳")) == D(2014, 4, 1)  # approx 2008-04-01
    assert age(parse_date("平成3年2月30日"), D(1992, 2, 28)) == 1  # approx 1991-02-28
    with pytest.raises(ValueError):
        age(parse_date("年月日不詳"), D(2025, 1, 1))


def test_day_before_birth_rejected() -> None:
    with pytest.raises(ValueError):
        age(D(2000, 1, 2), D(2000, 1, 1))


@given(st.dates(D(1900, 1, 1), D(2090, 12, 31)), st.integers(0, 36500))
def test_age_properties(birth: dt.date, offset: int) -> None:
    day = birth + dt.timedelta(days=offset)
    a = age(birth, day)
    assert 0 <= a <= offset // 365 + 1
    assert legal_age(birth, day) in (a, a + 1)
    assert age(birth, day + dt.timedelta(days=366)) >= a + 1  # a birthday every ≤ 366 days
    assert age(birth, day + dt.timedelta(days=364)) <= a + 1
    start = school_start(birth)
    assert (start.month, start.day) == (4, 1)
    assert age(birth, start) == 6  # entering school aged 6
    assert school_age(birth, start) == "elementary"
    assert school_age(birth, start - dt.timedelta(days=1)) == "preschool"
    until = eligible_child_until(birth)
    assert (until.month, until.day) == (3, 31)
    assert legal_age(birth, until) in (18, 19)
    assert legal_age(birth, until.replace(year=until.year - 1)) <= 18


# ---------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("event", "days", "due"),
    [
        (D(2025, 4, 1), 14, D(2025, 4, 15)),  # an ordinary Tuesday
        (D(2025, 4, 20), 14, D(2025, 5, 7)),  # 5/4 Sun → 5/5 こどもの日 → 5/6 振替休日 → 5/7
        (D(2025, 4, 15), 14, D(2025, 4, 30)),  # 4/29 昭和の日 → 4/30
        (D(2025, 4, 19), 14, D(2025, 5, 7)),  # 5/3 Sat (憲法記念日) → … → 5/7
        (D(2025, 12, 15), 14, D(2026, 1, 5)),  # 12/29 → 年末年始 → 1/4 Sun → 1/5
        (D(2025, 12, 20), 14, D(2026, 1, 5)),  # 1/3 → 1/4 Sun → 1/5
        (D(2026, 12, 14), 14, D(2026, 12, 28)),  # 12/28 Mon is open
        (D(2026, 12, 15), 14, D(2027, 1, 4)),  # 12/29 → 1/4 Mon
        (D(2025, 3, 31), 7, D(2025, 4, 7)),  # Monday
        (D(2025, 4, 5), 0, D(2025, 4, 7)),  # a Saturday itself rolls to Monday
        (D(2025, 9, 1), 14, D(2025, 9, 16)),  # 9/15 敬老の日
    ],
)
def test_deadline(event: dt.date, days: int, due: dt.date) -> None:
    assert deadline(event, days) == due
    assert not is_closed_day(due)


def test_deadline_extra_closed_days() -> None:
    assert deadline(D(2025, 4, 1), 14, closed_days=[D(2025, 4, 15)]) == D(2025, 4, 16)
    assert deadline(D(2025, 4, 1), 14, closed_days={D(2025, 4, 15), D(2025, 4, 16)}) == D(
        2025, 4, 17
    )
    assert deadline(D(2025, 4, 1), 14, closed_days=lambda d: d.day == 15) == D(2025, 4, 16)


def test_closed_days() -> None:
    assert is_closed_day(D(2025, 12, 29)) and is_closed_day(D(2026, 1, 3))
    assert not is_closed_day(D(2025, 12, 26))  # Friday
    assert is_closed_day(D(2025, 11, 3))  # 文化の日
    with pytest.raises(ValueError):
        deadline(D(2025, 4, 1), -1)

"""Ages, school years and child eligibility (DOMAIN.md §3).

Every function takes ``datetime.date`` values or :class:`JapaneseDate` values
(their approximate date is used; a date whose year is unknown raises
``ValueError``). A day before the birth raises ``ValueError``.

>>> import datetime as dt
>>> age(dt.date(2000, 6, 15), dt.date(2025, 6, 14)), age(dt.date(2000, 6, 15), dt.date(2025, 6, 15))
(24, 25)
>>> legal_age(dt.date(2000, 6, 15), dt.date(2025, 6, 14))
25
>>> school_start(dt.date(2008, 4, 1)), school_start(dt.date(2008, 4, 2))
(datetime.date(2014, 4, 1), datetime.date(2015, 4, 1))
>>> eligible_child_until(dt.date(2008, 4, 1))
datetime.date(2026, 3, 31)
"""

from __future__ import annotations

import calendar
import datetime
from typing import Literal

from machi.japanese.dates import JapaneseDate

__all__ = [
    "DateLike",
    "SchoolAge",
    "age",
    "as_date",
    "birthday_in",
    "eligible_child",
    "eligible_child_until",
    "legal_age",
    "school_age",
    "school_start",
]

DateLike = datetime.date | JapaneseDate
SchoolAge = Literal["preschool", "elementary", "junior_high", "none"]

_ONE_DAY = datetime.timedelta(days=1)


def as_date(value: DateLike) -> datetime.date:
    """A plain date: a ``datetime`` loses its time, a :class:`JapaneseDate`
    gives its approximate date."""
    if isinstance(value, JapaneseDate):
        if value.approx is None:
            raise ValueError(f"年が不詳の日付（{value.text}）では計算できません")
        return value.approx
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise TypeError(f"expected a date or JapaneseDate, not {type(value).__name__}")


def _dates(birth: DateLike, day: DateLike) -> tuple[datetime.date, datetime.date]:
    p, d = as_date(birth), as_date(day)
    if d < p:
        raise ValueError(f"{d.isoformat()} は生年月日 {p.isoformat()} より前です")
    return p, d


def birthday_in(birth: DateLike, year: int) -> datetime.date:
    """The birthday in *year*; 29 February births have it on 1 March in common years."""
    p = as_date(birth)
    if p.month == 2 and p.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 3, 1)
    return p.replace(year=year)


def age(birth: DateLike, day: DateLike) -> int:
    """Completed years on *day*.

    >>> import datetime as dt
    >>> leap = dt.date(2004, 2, 29)
    >>> age(leap, dt.date(2005, 2, 28)), age(leap, dt.date(2005, 3, 1))
    (0, 1)
    """
    p, d = _dates(birth, day)
    years = d.year - p.year
    if d < birthday_in(p, d.year):
        years -= 1
    return years


def legal_age(birth: DateLike, day: DateLike) -> int:
    """The age reached on *day* under the law on counting age: ``age(p, d + 1 day)``.

    A person reaches age N at the end of the day before the birthday.
    """
    p, d = _dates(birth, day)
    return age(p, d + _ONE_DAY)


def _first_on_or_after(day: datetime.date, month: int, dom: int) -> datetime.date:
    candidate = datetime.date(day.year, month, dom)
    return candidate if day <= candidate else datetime.date(day.year + 1, month, dom)


def school_start(birth: DateLike) -> datetime.date:
    """The first 1 April on or after the 6th birthday (entry to elementary school).

    Born 1 April → enters with the children born the year before.
    """
    p = as_date(birth)
    return _first_on_or_after(birthday_in(p, p.year + 6), 4, 1)


def school_age(birth: DateLike, day: DateLike) -> SchoolAge:
    """``"preschool"``, ``"elementary"``, ``"junior_high"`` or ``"none"`` on *day*.

    Elementary: school_start ≤ d < school_start + 6 years; junior high:
    school_start + 6 years ≤ d < school_start + 9 years ("compulsory school
    age" is either); preschool: d < school_start.
    """
    p, d = _dates(birth, day)
    start = school_start(p)
    if d < start:
        return "preschool"
    if d < start.replace(year=start.year + 6):
        return "elementary"
    if d < start.replace(year=start.year + 9):
        return "junior_high"
    return "none"


def eligible_child_until(birth: DateLike) -> datetime.date:
    """The last day of eligibility: the first 31 March on or after the day the
    person reaches 18 (the day before the 18th birthday)."""
    p = as_date(birth)
    reaches_18 = birthday_in(p, p.year + 18) - _ONE_DAY
    return _first_on_or_after(reaches_18, 3, 31)


def eligible_child(birth: DateLike, day: DateLike) -> bool:
    """``True`` while d ≤ :func:`eligible_child_until` (児童手当, 子ども医療費…).

    >>> import datetime as dt
    >>> eligible_child(dt.date(2008, 4, 2), dt.date(2027, 3, 31))
    True
    """
    p, d = _dates(birth, day)
    return d <= eligible_child_until(p)

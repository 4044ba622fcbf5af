"""Filing deadlines counted in days, rolled past closed days (DOMAIN.md §3).

>>> import datetime as dt
>>> deadline(dt.date(2025, 4, 20), 14)  # 5/4 みどりの日 → 5/5 → 5/6 振替休日 → 5/7
datetime.date(2025, 5, 7)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

import jpholiday

__all__ = ["deadline", "is_closed_day", "is_year_end_holiday"]

_MAX_ROLL = 366


def is_year_end_holiday(day: datetime.date) -> bool:
    """29 December – 3 January (年末年始)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def _closed_predicate(
    closed_days: Iterable[datetime.date] | Callable[[datetime.date], bool],
) -> Callable[[datetime.date], bool]:
    if callable(closed_days):
        return closed_days
    extra = frozenset(closed_days)
    return extra.__contains__


def is_closed_day(
    day: datetime.date,
    *,
    closed_days: Iterable[datetime.date] | Callable[[datetime.date], bool] = (),
) -> bool:
    """``True`` when the office is closed on *day*: Saturday, Sunday, a national
    holiday (``jpholiday``, including 振替休日 and 国民の休日), 29 Dec – 3 Jan, or
    one of the municipality's extra *closed_days* (dates, or a predicate)."""
    return (
        day.weekday() >= 5
        or is_year_end_holiday(day)
        or jpholiday.is_holiday(day)
        or _closed_predicate(closed_days)(day)
    )


def deadline(
    event_date: datetime.date,
    days: int,
    *,
    closed_days: Iterable[datetime.date] | Callable[[datetime.date], bool] = (),
) -> datetime.date:
    """The deadline *days* days after *event_date* (the first day is not counted:
    D + N), moved to the next open day when the office is closed.

    >>> import datetime as dt
    >>> deadline(dt.date(2025, 12, 15), 14)  # 12/29 → 年末年始 → 1/4 Sun → 1/5
    datetime.date(2026, 1, 5)
    """
    if isinstance(event_date, datetime.datetime):
        event_date = event_date.date()
    if days < 0:
        raise ValueError("days must be ≥ 0")
    closed = _closed_predicate(closed_days)
    due = event_date + datetime.timedelta(days=days)
    for _ in range(_MAX_ROLL):
        if not is_closed_day(due, closed_days=closed):
            return due
        due += datetime.timedelta(days=1)
    raise ValueError(f"no open day within {_MAX_ROLL} days after {event_date.isoformat()}")

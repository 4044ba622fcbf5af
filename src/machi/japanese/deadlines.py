"""Filing deadlines counted in days, rolled past closed days (DOMAIN.md §3).

The closed days are those of :mod:`machi.japanese.business_time`, the one calendar
that the contact center's SLA timers count on too.

>>> import datetime as dt
>>> deadline(dt.date(2025, 4, 20), 14)  # 5/4 みどりの日 → 5/5 → 5/6 振替休日 → 5/7
datetime.date(2025, 5, 7)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from machi.japanese.business_time import ClosedDays, is_closed_day, is_year_end_holiday

__all__ = ["deadline", "is_closed_day", "is_year_end_holiday"]

_MAX_ROLL = 366


def deadline(
    event_date: datetime.date,
    days: int,
    *,
    closed_days: ClosedDays | Iterable[datetime.date] | Callable[[datetime.date], bool] = (),
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
    closed = ClosedDays.of(closed_days)
    due = event_date + datetime.timedelta(days=days)
    for _ in range(_MAX_ROLL):
        if not closed(due):
            return due
        due += datetime.timedelta(days=1)
    raise ValueError(f"no open day within {_MAX_ROLL} days after {event_date.isoformat()}")

"""The calendar facts that drive a Japanese counter, shared by the synthetic process and
the model (pure Python, no Django).

A day is *open* when the office's business calendar (:mod:`machi.japanese.business_time`:
Saturday, Sunday, national holidays with 振替休日 and 国民の休日, 29 Dec – 3 Jan and the
municipality's own closed days) does not close it. On open days:

* ``month_start`` — one of the first two open days of the month (月初);
* ``month_end`` — one of the last two open days of the month (月末);
* ``move_march`` — 20–31 March, ``move_april`` — 1–10 April (転入転出期: 異動・進学・就職);
* ``after_holiday`` — the first open day after a closed run that holds a closed day other
  than a Saturday or Sunday (祝日の翌日: the Tuesday after a Monday holiday, 4 January,
  the day after Golden Week).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator

from machi.japanese.business_time import ClosedDays, ClosedDaysLike

DAY = datetime.timedelta(days=1)
MOVE_MARCH = (3, 20, 31)
MOVE_APRIL = (4, 1, 10)
FLAGS = ("month_start", "month_end", "move_march", "move_april", "after_holiday")


class Calendar:
    """Open days and the calendar flags of one municipality (cached per month)."""

    def __init__(self, closed_days: ClosedDaysLike = ()) -> None:
        self.closed = ClosedDays.of(closed_days)
        self._month = functools.lru_cache(maxsize=512)(self._month_open_days)

    def is_open(self, day: datetime.date) -> bool:
        return not self.closed(day)

    def open_days(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        """The open days from ``first`` to ``last``, both included."""
        return [d for d in _days(first, last) if self.is_open(d)]

    def _month_open_days(self, year: int, month: int) -> tuple[datetime.date, ...]:
        first = datetime.date(year, month, 1)
        last = (first + datetime.timedelta(days=32)).replace(day=1) - DAY
        return tuple(self.open_days(first, last))

    def flags(self, day: datetime.date) -> dict[str, bool]:
        """The calendar flags of an open day (all False on a closed day)."""
        if not self.is_open(day):
            return dict.fromkeys(FLAGS, False)
        month = self._month(day.year, day.month)
        index = month.index(day)
        return {
            "month_start": index < 2,
            "month_end": index >= len(month) - 2,
            "move_march": day.month == MOVE_MARCH[0] and MOVE_MARCH[1] <= day.day <= MOVE_MARCH[2],
            "move_april": day.month == MOVE_APRIL[0] and MOVE_APRIL[1] <= day.day <= MOVE_APRIL[2],
            "after_holiday": self.after_holiday(day),
        }

    def after_holiday(self, day: datetime.date) -> bool:
        """Whether the open ``day`` follows a closed run with a non-weekend closed day."""
        previous = day - DAY
        while self.closed(previous):
            if previous.weekday() < 5:
                return True
            previous -= DAY
        return False


def _days(first: datetime.date, last: datetime.date) -> Iterator[datetime.date]:
    day = first
    while day <= last:
        yield day
        day += DAY

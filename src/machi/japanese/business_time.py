"""Business time: the office's closed days and opening hours (DOMAIN.md §3).

One calendar serves every business-time computation: filing deadlines
(:mod:`machi.japanese.deadlines`) and the contact center's SLA timers.

* :class:`ClosedDays` — the office is closed on Saturday, Sunday, a national holiday
  (``jpholiday``: 振替休日 and 国民の休日 included), 29 December – 3 January, and on
  the municipality's own closed days.
* :class:`BusinessCalendar` — the closed days plus opening hours per weekday
  (8:30–17:15 by default) in Japan Standard Time, which has no daylight saving time.
* :func:`business_minutes_between` / :func:`add_business_minutes` — time counted only
  while the office is open, less any pauses (an SLA timer stopped while the office
  waits for the resident).

>>> import datetime as dt
>>> cal = BusinessCalendar()
>>> friday = dt.datetime(2025, 5, 2, 16, 45, tzinfo=JST)  # 5/3–5/6 are closed
>>> add_business_minutes(friday, 60, cal)
datetime.datetime(2025, 5, 7, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Tokyo'))
>>> business_minutes_between(friday, dt.datetime(2025, 5, 7, 9, 0, tzinfo=JST), cal)
60
"""

from __future__ import annotations

import bisect
import datetime
import functools
import itertools
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import jpholiday

__all__ = [
    "DEFAULT_HOURS",
    "JST",
    "BusinessCalendar",
    "ClosedDays",
    "add_business_minutes",
    "business_minutes_between",
    "business_seconds_between",
    "is_closed_day",
    "is_year_end_holiday",
    "parse_hours",
]

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
_DAY = 86_400
# A calendar open on no day at all would make add_business_minutes search forever.
_MAX_YEARS = 20

Interval = tuple[datetime.time, datetime.time]
Pause = tuple[datetime.datetime, datetime.datetime]

_WEEKDAY_HOURS: tuple[Interval, ...] = ((datetime.time(8, 30), datetime.time(17, 15)),)
DEFAULT_HOURS: Mapping[int, tuple[Interval, ...]] = {d: _WEEKDAY_HOURS for d in range(5)}


def is_year_end_holiday(day: datetime.date) -> bool:
    """29 December – 3 January (年末年始)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


@functools.lru_cache(maxsize=8192)
def _closed_everywhere(day: datetime.date) -> bool:
    # jpholiday walks its rules on every call; deadlines and SLA timers ask for the same
    # few hundred days over and over.
    return day.weekday() >= 5 or is_year_end_holiday(day) or jpholiday.is_holiday(day)


DayPredicate = Callable[[datetime.date], bool]


@dataclass(frozen=True)
class ClosedDays:
    """The days the office is closed: the national rule plus the municipality's own
    ``extra`` dates (or a predicate ``extra_rule`` for rules such as "the 3rd
    Wednesday")."""

    extra: frozenset[datetime.date] = frozenset()
    extra_rule: DayPredicate | None = None

    @classmethod
    def of(
        cls, closed_days: ClosedDays | Iterable[datetime.date] | DayPredicate = ()
    ) -> ClosedDays:
        """A calendar from what callers hold: one already made, dates, or a predicate."""
        if isinstance(closed_days, ClosedDays):
            return closed_days
        if callable(closed_days):
            return cls(extra_rule=closed_days)
        return cls(extra=frozenset(closed_days))

    def __call__(self, day: datetime.date) -> bool:
        return (
            _closed_everywhere(day)
            or day in self.extra
            or (self.extra_rule is not None and bool(self.extra_rule(day)))
        )


ClosedDaysLike = ClosedDays | Iterable[datetime.date] | DayPredicate


def is_closed_day(day: datetime.date, *, closed_days: ClosedDaysLike = ()) -> bool:
    """``True`` when the office is closed on *day*: Saturday, Sunday, a national
    holiday (``jpholiday``, including 振替休日 and 国民の休日), 29 Dec – 3 Jan, or
    one of the municipality's extra *closed_days* (dates, a predicate or a
    :class:`ClosedDays`)."""
    return ClosedDays.of(closed_days)(day)


def _seconds(t: datetime.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _normalise_hours(
    hours: Mapping[int, Sequence[Interval]],
) -> dict[int, tuple[tuple[int, int], ...]]:
    """Weekday → sorted, non-overlapping (start, end) seconds after midnight."""
    result: dict[int, tuple[tuple[int, int], ...]] = {}
    for weekday, intervals in hours.items():
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), not {weekday!r}")
        spans = sorted((_seconds(a), _seconds(b)) for a, b in intervals)
        for a, b in spans:
            if b <= a:
                raise ValueError(f"opening hours must end after they start: {weekday}: {a}–{b}")
        for (_, b1), (a2, _) in itertools.pairwise(spans):
            if a2 < b1:
                raise ValueError(f"opening hours overlap on weekday {weekday}")
        result[weekday] = tuple(spans)
    return result


def parse_hours(text: str) -> tuple[Interval, ...]:
    """``"8:30-12:00, 13:00-17:15"`` → intervals ('' → closed all day).

    >>> parse_hours("8:30-17:15")
    ((datetime.time(8, 30), datetime.time(17, 15)),)
    """
    intervals = []
    for part in text.replace("、", ",").replace("～", "-").replace("〜", "-").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            start, end = (s.strip() for s in part.split("-"))
            a = datetime.time.fromisoformat(start.zfill(5))
            b = datetime.time.fromisoformat(end.zfill(5))
        except ValueError as exc:
            raise ValueError(f"opening hours must look like 8:30-17:15, not {part!r}") from exc
        intervals.append((a, b))
    _normalise_hours({0: intervals})
    return tuple(intervals)


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Closed days and opening hours (weekday 0 = Monday → intervals in local time).

    Counting uses a table of open seconds per day, with running totals, built a year at
    a time on first use: measuring or adding business time is then two binary searches,
    whatever the distance. A calendar is immutable; make a new one when the
    municipality's settings change.
    """

    closed: ClosedDays = field(default_factory=ClosedDays)
    hours: Mapping[int, Sequence[Interval]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    tz: datetime.tzinfo = JST

    def __post_init__(self) -> None:
        object.__setattr__(self, "_spans", _normalise_hours(self.hours))
        # (ordinal of the first day, open seconds before each day). One tuple, replaced
        # whole, so a reader in another thread never sees half a table.
        object.__setattr__(self, "_table", (0, [0]))

    # ---------------------------------------------------------------- per day
    def spans(self, day: datetime.date) -> tuple[tuple[int, int], ...]:
        """The day's open intervals in seconds after midnight (empty when closed)."""
        if self.closed(day):
            return ()
        return self._spans.get(day.weekday(), ())

    def is_open_day(self, day: datetime.date) -> bool:
        return bool(self.spans(day))

    def is_open(self, moment: datetime.datetime) -> bool:
        local = self._local(moment)
        s = local.hour * 3600 + local.minute * 60 + local.second
        return any(a <= s < b for a, b in self.spans(local.date()))

    # ---------------------------------------------------------------- table
    def _cover(self, first: int, last: int) -> tuple[int, list[int]]:
        """The table, grown (by whole years) to cover day ordinals first…last.

        Totals keep their values when the table grows at its start (earlier days get
        negative totals), so a position taken before stays valid.
        """
        table_first, totals = self._table
        table_last = table_first + len(totals) - 2  # the last day with a total after it
        if len(totals) > 1 and table_first <= first and last <= table_last:
            return table_first, totals
        new_first = datetime.date(datetime.date.fromordinal(first).year, 1, 1).toordinal()
        new_end = datetime.date(datetime.date.fromordinal(last).year + 1, 1, 1).toordinal()
        if len(totals) > 1:
            new_first, new_end = min(new_first, table_first), max(new_end, table_last + 1)
        if new_end - new_first > 366 * 400:
            raise ValueError("business time is counted within 400 years")
        table = [0]
        for ordinal in range(new_first, new_end):
            day = datetime.date.fromordinal(ordinal)
            table.append(table[-1] + sum(b - a for a, b in self.spans(day)))
        if len(totals) > 1:
            shift = table[table_first - new_first] - totals[0]
            table = [t - shift for t in table]
        object.__setattr__(self, "_table", (new_first, table))
        return new_first, table

    def _local(self, moment: datetime.datetime) -> datetime.datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("business time needs aware datetimes (a time zone)")
        return moment.astimezone(self.tz)

    def position(self, moment: datetime.datetime) -> int:
        """Open seconds from a fixed origin to *moment*: a clock that only moves while
        the office is open. Only differences of positions mean anything."""
        local = self._local(moment)
        ordinal = local.toordinal()
        table_first, totals = self._cover(ordinal, ordinal)
        s = local.hour * 3600 + local.minute * 60 + local.second
        within = 0
        for a, b in self.spans(local.date()):
            if s <= a:
                break
            within += min(s, b) - a
        return totals[ordinal - table_first] + within

    def moment_at(self, position: int) -> datetime.datetime:
        """The earliest moment whose :meth:`position` is *position* (a target reached at
        closing time is that closing time, not the next opening)."""
        table_first, totals = self._table
        years = 0
        while len(totals) < 2 or totals[-1] < position:
            years += 1
            if years > _MAX_YEARS:
                raise ValueError(f"the calendar is not open for {_MAX_YEARS} years")
            last = table_first + len(totals) - 1
            table_first, totals = self._cover(last, last + 366)
        if position <= totals[0]:
            table_first, totals = self._cover(table_first - 366, table_first)
        index = bisect.bisect_left(totals, position) - 1  # the day the target is reached in
        remaining = position - totals[index]
        day = datetime.date.fromordinal(table_first + index)
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=self.tz)
        for a, b in self.spans(day):
            if remaining <= b - a:
                return midnight + datetime.timedelta(seconds=a + remaining)
            remaining -= b - a
        raise AssertionError("unreachable: the day's open seconds hold the target")


def _merged(pauses: Iterable[Pause]) -> list[Pause]:
    ordered = sorted((a, b) for a, b in pauses if b > a)
    merged: list[Pause] = []
    for a, b in ordered:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _truncate(moment: datetime.datetime) -> datetime.datetime:
    # Business time is counted in whole seconds, between aware moments only.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs aware datetimes (a time zone)")
    return moment.replace(microsecond=0)


def business_seconds_between(
    start: datetime.datetime,
    end: datetime.datetime,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> int:
    """Open seconds from *start* to *end* (0 when *end* is not after *start*), less the
    open seconds inside *pauses* (intervals of aware datetimes; overlaps count once)."""
    start, end = _truncate(start), _truncate(end)
    if end <= start:
        return 0
    total = calendar.position(end) - calendar.position(start)
    for a, b in _merged(pauses):
        a, b = max(_truncate(a), start), min(_truncate(b), end)
        if b > a:
            total -= calendar.position(b) - calendar.position(a)
    return total


def business_minutes_between(
    start: datetime.datetime,
    end: datetime.datetime,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> int:
    """Whole open minutes from *start* to *end*, less *pauses* (see
    :func:`business_seconds_between`)."""
    return business_seconds_between(start, end, calendar, pauses=pauses) // 60


def add_business_minutes(
    start: datetime.datetime,
    minutes: int,
    calendar: BusinessCalendar,
    *,
    pauses: Iterable[Pause] = (),
) -> datetime.datetime:
    """The earliest moment at which *minutes* open minutes have passed since *start*,
    not counting *pauses*. A target reached exactly at closing time is that closing
    time (a Friday 17:15, not the next Monday 8:30). ``minutes == 0`` → *start*."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError("minutes must be an integer")
    if minutes < 0:
        raise ValueError("minutes must be ≥ 0")
    position_of = calendar.position
    pos = _truncate(start)
    remaining = minutes * 60
    if remaining == 0:
        return pos
    here = position_of(pos)
    for a, b in _merged(pauses):
        a, b = _truncate(a), _truncate(b)
        if b <= pos:
            continue
        if a > pos:
            available = position_of(a) - here
            if available >= remaining:
                break
            remaining -= available
        pos = b
        here = position_of(pos)
    return max(calendar.moment_at(here + remaining), pos)

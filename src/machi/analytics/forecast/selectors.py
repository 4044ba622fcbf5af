"""Reads for the counter-demand forecast: the municipality's demand history (counter
tickets issued per open day and hour, in JST), its calendar events, and
:func:`forecast_for`, which fits the model (:mod:`machi.analytics.forecast.model`),
forecasts the next weeks, backtests the model against both baselines on the same
history and turns the hourly forecast into counters needed (:mod:`…staffing`).

Demand is *tickets issued* (整理券): every resident who came to a counter draws one,
whatever happened afterwards (served, cancelled, gone). Only aggregates are read (one
``GROUP BY`` over ``counter_ticket``: day and JST hour → count); nothing personal.
Reads only; nothing is written.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from django.db import connections
from django.db.models import Count, IntegerField, Max
from django.db.models.functions import Cast, ExtractHour, Substr

from machi.analytics.forecast import model as fmodel
from machi.analytics.forecast.calendar import Calendar
from machi.analytics.forecast.staffing import hour_staffing
from machi.analytics.forecast.synthetic import HOURS, OPEN_MINUTES, DayVisits, Event
from machi.tenancy.context import current_lg_code, current_tenant_alias, tenant_context

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
DEFAULT_WEEKS = 8
MAX_WEEKS = 26
DEFAULT_TARGET_MINUTES = 15
DEFAULT_SERVICE_MINUTES = 10.0  # when the history has no finished tickets
HISTORY_DAYS = 3 * 365  # the most history read
SERVICE_SAMPLE = 5000  # finished tickets the mean handling time is taken from
CACHE_SIZE = 64

_lock = threading.Lock()
_cache: OrderedDict[tuple, tuple] = OrderedDict()
_history_cache: OrderedDict[tuple, list[DayVisits]] = OrderedDict()
JST_OFFSET_HOURS = 9  # Japan has no daylight saving time


# --- history -----------------------------------------------------------------------------


def municipality_calendar() -> Calendar:
    """The office calendar of the municipality in force: the national rule plus the
    procedure catalogue's ``closed_days``."""
    from machi.procedures.selectors import catalogue_effective

    try:
        closed = tuple(catalogue_effective().catalogue.closed_days)
    except Exception:  # no catalogue yet: the national calendar alone
        closed = ()
    return Calendar(closed)


def _bucket(hour: int) -> int:
    """A JST hour as one of :data:`HOURS` (a ticket before 8:30 counts in 8時台, after
    17:15 in 17時台)."""
    return min(max(hour, HOURS[0]), HOURS[-1])


def _hour_counts(first: datetime.date, today: datetime.date):
    """(issued_on, JST hour, count) rows. SQLite keeps datetimes as UTC text
    (``YYYY-MM-DD HH:MM:SS…``): its hour is cut out of the text and shifted by nine
    hours in Python, which is many times faster than Django's per-row time zone
    function; PostgreSQL converts natively (``AT TIME ZONE``)."""
    from machi.counter.models import Ticket

    tickets = Ticket.objects.filter(issued_on__gte=first, issued_on__lt=today)
    if connections[current_tenant_alias()].vendor == "sqlite":
        hour = Cast(Substr("issued_at", 12, 2), IntegerField())
        rows = tickets.annotate(hour=hour).values("issued_on", "hour").annotate(n=Count("id"))
        for row in rows.order_by():
            yield row["issued_on"], (int(row["hour"]) + JST_OFFSET_HOURS) % 24, int(row["n"])
        return
    rows = (
        tickets.annotate(hour=ExtractHour("issued_at", tzinfo=JST))
        .values("issued_on", "hour")
        .annotate(n=Count("id"))
    )
    for row in rows.order_by():
        yield row["issued_on"], int(row["hour"]), int(row["n"])


def demand_history(
    *, today: datetime.date, calendar: Calendar | None = None, days: int = HISTORY_DAYS
) -> list[DayVisits]:
    """Tickets issued per open day before ``today`` (at most ``days`` back), with their
    split over the hours of :data:`HOURS` (JST). The history runs from the first to the
    last day with tickets; open days in between without a ticket count as zero, closed
    days are left out (the model forecasts open days).

    Cached per municipality and day while the tickets before ``today`` stay the same
    (their count, highest id and latest issue time: a new, late or removed ticket
    makes a new entry)."""
    from machi.counter.models import Ticket

    calendar = calendar or municipality_calendar()
    first = today - datetime.timedelta(days=days)
    alias = current_tenant_alias()
    fingerprint = Ticket.objects.filter(issued_on__gte=first, issued_on__lt=today).aggregate(
        n=Count("id"), last_id=Max("id"), last_at=Max("issued_at")
    )
    key = (
        alias, str(connections[alias].settings_dict["NAME"]), first, today, calendar.closed,
        tuple(fingerprint.values()),
    )  # fmt: skip
    with _lock:
        hit = _history_cache.get(key)
        if hit is not None:
            _history_cache.move_to_end(key)
            return list(hit)
    counts: dict[datetime.date, list[int]] = {}
    empty = (0,) * len(HOURS)
    for day, hour, n in _hour_counts(first, today):
        counts.setdefault(day, [0] * len(HOURS))[HOURS.index(_bucket(hour))] += n
    days_seen = [d for d in counts if calendar.is_open(d)]
    history = (
        [
            DayVisits(day=d, total=sum(counts.get(d, ())), hourly=tuple(counts.get(d, empty)))
            for d in calendar.open_days(min(days_seen), max(days_seen))
        ]
        if days_seen
        else []
    )
    with _lock:
        _history_cache[key] = history
        while len(_history_cache) > CACHE_SIZE:
            _history_cache.popitem(last=False)
    return list(history)


def daily_demand(*, today: datetime.date) -> list[tuple[datetime.date, int]]:
    """(day, tickets issued) per open day of the history."""
    return [(r.day, r.total) for r in demand_history(today=today)]


def hourly_demand(*, today: datetime.date) -> list[tuple[datetime.date, int, int]]:
    """(day, hour, tickets issued) per open day and hour of the history."""
    return [
        (r.day, hour, count)
        for r in demand_history(today=today)
        for hour, count in zip(HOURS, r.hourly, strict=True)
    ]


def forecast_events() -> list[Event]:
    """The municipality's calendar events (給付金の締切 …) as model events."""
    from machi.analytics.forecast.models import ForecastEvent

    return [
        Event(day=e.day, name=e.name, effect=e.effect_percent / 100)
        for e in ForecastEvent.objects.order_by("day", "id")
    ]


def service_minutes(*, today: datetime.date) -> float:
    """The mean handling time (受付開始 → 終了) of the latest finished tickets, minutes."""
    from machi.counter.models import Ticket

    pairs = (
        Ticket.objects.filter(
            issued_on__lt=today, served_at__isnull=False, finished_at__isnull=False
        )
        .order_by("-issued_on", "-number")
        .values_list("served_at", "finished_at")[:SERVICE_SAMPLE]
    )
    minutes = [(f - s).total_seconds() / 60 for s, f in pairs if f > s]
    if not minutes:
        return DEFAULT_SERVICE_MINUTES
    return max(float(np.mean(minutes)), 0.5)


# --- the forecast ------------------------------------------------------------------------


@dataclass(frozen=True)
class HourRow:
    """One hour of one forecast day, with the staffing suggestion."""

    hour: int
    mean: float
    lower: float
    upper: float
    counters: int | None  # counters needed at the forecast (None: more than the maximum)
    counters_upper: int | None  # … if demand reaches the interval's upper bound
    p90_wait_minutes: float | None  # the forecast p90 wait with ``counters``


@dataclass(frozen=True)
class MonthSummary:
    year: int
    month: int
    open_days: int
    total: float
    busiest: list[fmodel.DailyPoint]


@dataclass
class ForecastReport:
    lg_code: str
    today: datetime.date
    weeks: int
    target_minutes: float
    service_minutes: float
    history_first: datetime.date
    history_last: datetime.date
    history_days: int
    forecast: fmodel.Forecast
    backtest: fmodel.Backtest | None
    backtest_error: str | None
    events: list[Event]
    hours: dict[datetime.date, list[HourRow]] = field(default_factory=dict)

    @property
    def horizon(self) -> list[fmodel.DailyPoint]:
        """The daily points of the next ``weeks`` weeks."""
        end = self.today + datetime.timedelta(days=7 * self.weeks)
        return [p for p in self.forecast.daily if p.day <= end]

    @property
    def open_days(self) -> list[datetime.date]:
        return [p.day for p in self.forecast.daily]

    def next_month(self) -> MonthSummary:
        first = (self.today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        points = [
            p for p in self.forecast.daily if (p.day.year, p.day.month) == (first.year, first.month)
        ]
        busiest = sorted(points, key=lambda p: (-p.mean, p.day))[:5]
        return MonthSummary(
            year=first.year, month=first.month, open_days=len(points),
            total=float(sum(p.mean for p in points)), busiest=busiest,
        )  # fmt: skip


def _horizon_end(today: datetime.date, weeks: int) -> datetime.date:
    """The forecast runs ``weeks`` weeks from tomorrow, and at least to the end of next
    month (the page shows next month whole)."""
    end = today + datetime.timedelta(days=7 * weeks)
    after_next = (today.replace(day=1) + datetime.timedelta(days=62)).replace(day=1)
    return max(end, after_next - datetime.timedelta(days=1))


def backtest_plan(span_days: int) -> dict[str, int]:
    """The rolling-origin plan for a history of ``span_days`` calendar days: an 8-week
    horizon when the history allows (else 4 weeks), origins weekly over the last half
    year at most, each trained on at least 12 weeks (a year when there is room)."""
    horizon = fmodel.HORIZON_DAYS if span_days >= fmodel.HORIZON_DAYS + 84 + 28 else 28
    min_train = max(84, min(364, span_days - horizon - 182))
    step = 7
    return {"horizon": horizon, "min_train": min_train, "step": step}


def _digest(history: list[DayVisits], events: list[Event]) -> str:
    h = hashlib.sha256()
    for r in history:
        h.update(f"{r.day}:{r.hourly}".encode())
    for e in events:
        h.update(f"{e.day}:{e.name}:{e.effect}".encode())
    return h.hexdigest()


def _fitted(
    lg_code: str, today: datetime.date, end: datetime.date, history: list[DayVisits],
    events: list[Event], calendar: Calendar, with_backtest: bool,
) -> tuple[fmodel.Forecast, fmodel.Backtest | None, str | None]:  # fmt: skip
    """The forecast and the backtest, cached per municipality, day and content of the
    history and the events (a new ticket or event makes a new entry)."""
    key = (lg_code, today, end, with_backtest, _digest(history, events))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    data = fmodel.History.of(history)
    result = fmodel.forecast(
        data, calendar=calendar, first=today + datetime.timedelta(days=1), last=end,
        events=events,
    )  # fmt: skip
    backtest, error = None, None
    if with_backtest:
        try:
            span = (history[-1].day - history[0].day).days + 1
            backtest = fmodel.backtest(
                data, calendar=calendar, events=events, **backtest_plan(span)
            )
        except fmodel.NotEnoughHistory as exc:
            error = str(exc)
    value = (result, backtest, error)
    with _lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _arrival_rate(hour: int, count: float) -> float:
    """Visits per hour from the visits in an hour bucket (8時台 is open 30 minutes,
    17時台 15 minutes)."""
    low, high = OPEN_MINUTES.get(hour, (0, 60))
    return count * 60 / (high - low)


def _staffing(
    hour: int, value: float, *, service: float, target: float
) -> tuple[int | None, float | None]:
    try:
        s = hour_staffing(
            hour=hour, arrivals_per_hour=_arrival_rate(hour, value), service_minutes=service,
            target_minutes=target,
        )  # fmt: skip
    except ValueError:
        return None, None
    return s.counters, s.p90_wait_minutes


def hour_rows(
    forecast: fmodel.Forecast, *, service: float, target: float
) -> dict[datetime.date, list[HourRow]]:
    """The hourly forecast per day with the counters needed to keep the forecast p90
    wait within ``target`` minutes (M/M/c, :mod:`…staffing`)."""
    out: dict[datetime.date, list[HourRow]] = {}
    for p in forecast.hourly:
        counters, wait = _staffing(p.hour, p.mean, service=service, target=target)
        upper, _wait = _staffing(p.hour, p.upper, service=service, target=target)
        out.setdefault(p.day, []).append(
            HourRow(
                hour=p.hour, mean=p.mean, lower=p.lower, upper=p.upper, counters=counters,
                counters_upper=upper, p90_wait_minutes=wait,
            )
        )  # fmt: skip
    return out


def forecast_for(
    *,
    lg_code: str | None = None,
    today: datetime.date | None = None,
    weeks: int = DEFAULT_WEEKS,
    target_minutes: float = DEFAULT_TARGET_MINUTES,
    with_backtest: bool = True,
) -> ForecastReport:
    """The forecast of municipality ``lg_code`` (default: the one in force) from the day
    after ``today`` (default: today in JST): daily for ``weeks`` weeks (and to the end of
    next month) with its interval, hourly with the counters needed, and the backtest.

    Raises :class:`machi.analytics.forecast.model.NotEnoughHistory` when the history
    is too short for a forecast."""
    lg_code = lg_code or current_lg_code()
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1 … {MAX_WEEKS}")
    if target_minutes < 0:
        raise ValueError("the target must not be negative")
    with tenant_context(lg_code):
        today = today or datetime.datetime.now(JST).date()
        calendar = municipality_calendar()
        history = demand_history(today=today, calendar=calendar)
        events = forecast_events()
        if len(history) < fmodel.MIN_HISTORY_DAYS:
            raise fmodel.NotEnoughHistory(
                f"予測には {fmodel.MIN_HISTORY_DAYS} 開庁日以上の発券の記録が要ります"
                f"（今は {len(history)} 日分）。"
            )
        service = service_minutes(today=today)
    end = _horizon_end(today, weeks)
    result, backtest, error = _fitted(lg_code, today, end, history, events, calendar, with_backtest)
    return ForecastReport(
        lg_code=lg_code, today=today, weeks=weeks, target_minutes=target_minutes,
        service_minutes=service, history_first=history[0].day, history_last=history[-1].day,
        history_days=len(history), forecast=result, backtest=backtest, backtest_error=error,
        events=events,
        hours=hour_rows(result, service=service, target=target_minutes),
    )  # fmt: skip

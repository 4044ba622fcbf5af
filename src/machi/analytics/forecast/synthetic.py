"""A documented, seeded process of counter visits (pure Python, no Django).

Daily visits on an open day ``d`` (closed days have none) are drawn as

    mean(d) = base · growth^(years since start) · weekday[d] · annual(d)
              · Π calendar factors of d · Π event factors of d
    visits(d) ~ NegativeBinomial(mean(d), dispersion)   (Gamma–Poisson mixture)

with

* ``weekday`` — Monday 1.25, Tuesday 1.0, Wednesday 0.92, Thursday 0.95, Friday 1.12;
* ``annual`` — a mild yearly wave, 1 + 0.06·cos(2π(doy − 15)/365.25) (busier in winter);
* calendar factors (:mod:`machi.analytics.forecast.calendar`): 月初 ×1.20, 月末 ×1.25,
  3月20–31日 ×1.70, 4月1–10日 ×1.55 (転入転出期), 祝日の翌日 ×1.35;
* events — staff-added days such as 給付金の締切: ×(1 + effect) on the day;
* noise — the Gamma–Poisson mixture: variance = mean + mean²/dispersion (dispersion 60
  gives about 14 % on a day of 180 visits, a little over Poisson's 7 %).

Each day's visits are spread over the opening hours 8:30–17:15 (hours 8…17) by a
multinomial draw with the hourly profile below (a morning peak at 9–11, a lunch dip and
an afternoon peak at 13–15; Mondays and the move season lean to the morning), and
each visit gets a uniform minute within its hour (within 8:30–17:15).

The same seed always gives the same history (``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from machi.analytics.forecast.calendar import Calendar
from machi.japanese.business_time import ClosedDaysLike

HOURS = tuple(range(8, 18))  # the hour buckets of 8:30–17:15
# Minutes of each hour bucket the office is open (8:30–9:00 … 17:00–17:15).
OPEN_MINUTES = {8: (30, 60), 17: (0, 15)}
HOURLY_PROFILE = (0.045, 0.135, 0.140, 0.120, 0.075, 0.110, 0.125, 0.110, 0.095, 0.045)
MORNING_LEAN = (0.3, 0.25, 0.15, 0.05, 0.0, -0.05, -0.1, -0.15, -0.2, -0.25)
WEEKDAY = (1.25, 1.0, 0.92, 0.95, 1.12, 0.6, 0.6)
CALENDAR_FACTORS = {
    "month_start": 1.20,
    "month_end": 1.25,
    "move_march": 1.70,
    "move_april": 1.55,
    "after_holiday": 1.35,
}


@dataclass(frozen=True)
class Event:
    """A staff-added day (給付金の締切 …) and its expected effect (+0.6 = 60 % more)."""

    day: datetime.date
    name: str
    effect: float


@dataclass(frozen=True)
class DayVisits:
    day: datetime.date
    total: int
    hourly: tuple[int, ...]  # per hour of HOURS


@dataclass(frozen=True)
class CounterProcess:
    """The parameters of the process (see the module's docstring)."""

    base: float = 180.0
    growth: float = 1.03  # per year
    dispersion: float = 60.0
    annual_amplitude: float = 0.06
    weekday: Sequence[float] = WEEKDAY
    calendar_factors: dict[str, float] = field(default_factory=lambda: dict(CALENDAR_FACTORS))

    def mean(
        self, day: datetime.date, *, start: datetime.date, calendar: Calendar,
        events: dict[datetime.date, float],
    ) -> float:  # fmt: skip
        if not calendar.is_open(day):
            return 0.0
        years = (day - start).days / 365.25
        doy = day.timetuple().tm_yday
        value = self.base * self.growth**years * self.weekday[day.weekday()]
        value *= 1 + self.annual_amplitude * math.cos(2 * math.pi * (doy - 15) / 365.25)
        for flag, on in calendar.flags(day).items():
            if on:
                value *= self.calendar_factors[flag]
        return value * (1 + events.get(day, 0.0))


def hourly_profile(day: datetime.date, flags: dict[str, bool]) -> np.ndarray:
    """The shares of a day's visits per hour of :data:`HOURS` (they sum to 1)."""
    lean = 0.0
    if day.weekday() == 0:
        lean += 1.0
    if flags.get("move_march") or flags.get("move_april") or flags.get("after_holiday"):
        lean += 0.6
    shares = np.array(HOURLY_PROFILE) * (1 + lean * np.array(MORNING_LEAN))
    return shares / shares.sum()


def demo_events(first: datetime.date, last: datetime.date) -> list[Event]:
    """給付金の締切 three times a year (30 June +60 %, 15 September +40 %, 10 December
    +50 %), the kind of day a municipality enters as an event."""
    events = []
    for year in range(first.year, last.year + 1):
        for month, day, effect in ((6, 30, 0.6), (12, 10, 0.5), (9, 15, 0.4)):
            date = datetime.date(year, month, day)
            if first <= date <= last:
                events.append(Event(day=date, name="給付金の締切", effect=effect))
    return events


def generate(
    *,
    start: datetime.date,
    days: int,
    seed: int = 2026,
    process: CounterProcess | None = None,
    events: Iterable[Event] = (),
    closed_days: ClosedDaysLike = (),
) -> list[DayVisits]:
    """``days`` calendar days of history from ``start``: one :class:`DayVisits` per open
    day (closed days are left out: the office had no visits)."""
    process = process or CounterProcess()
    calendar = Calendar(closed_days)
    rng = np.random.default_rng(seed)
    effects: dict[datetime.date, float] = {}
    for event in events:
        effects[event.day] = effects.get(event.day, 0.0) + event.effect
    result = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        mean = process.mean(day, start=start, calendar=calendar, events=effects)
        if mean <= 0:
            continue
        # Gamma–Poisson: a Gamma(shape=k, scale=mean/k) rate, then Poisson.
        rate = rng.gamma(process.dispersion, mean / process.dispersion)
        total = int(rng.poisson(rate))
        hourly = rng.multinomial(total, hourly_profile(day, calendar.flags(day)))
        result.append(DayVisits(day=day, total=total, hourly=tuple(int(x) for x in hourly)))
    return result


def arrival_minutes(rng: np.random.Generator, hour: int, count: int) -> np.ndarray:
    """``count`` uniform minutes within the open part of ``hour``, sorted."""
    low, high = OPEN_MINUTES.get(hour, (0, 60))
    return np.sort(rng.uniform(low, high, size=count))

"""The counter-demand model, its forecasts and its rolling-origin backtest (pure Python,
no Django).

**Model.** A log-linear regression fitted by ordinary least squares (statsmodels
``OLS``) on the open days of the history::

    log(1 + visits_d) − log(1 + event_d) = β·x_d + ε_d

with ``x_d``: a constant, weekday dummies (Monday is the reference), the calendar flags
of :mod:`machi.analytics.forecast.calendar` (月初, 月末, 3月末, 4月初め, 祝日の翌日)
and, once the history spans a year, a linear trend and one yearly Fourier pair. A
staff-added event (給付金の締切 …) enters as a known offset ``log(1 + effect)``: its
days are deflated in the fit and inflated in the forecast by the effect staff
expect. Columns that do not vary in the training window (no 3月末 in it yet) are left
out. The point forecast is ``exp(β·x + offset) − 1`` (the median on the count scale, the
right point for MAE), the interval statsmodels' prediction interval of a new
observation (80 %: p10–p90 by default) mapped the same way.

**Hours.** Each day's forecast is spread over the hours by the share of visits per hour
observed in the history for that weekday (the move season and the days after a holiday
are a profile of their own, where there are enough of them).

**Backtest.** Rolling origin: from the first origin (``min_train`` days after the
history starts) every ``step`` days, the model is fitted on the history before the
origin only and forecasts the open days of the next ``horizon`` days; the baselines
forecast the same days from the same history: *seasonal naive* (the value of the same
weekday in the last week before the origin) and *weekday mean 4* (the mean of the last
four same weekdays before the origin). Both look at open days only (a holiday's zero is
not copied forward). MAE and MAPE (over days with visits) are pooled over all origins.
"""

from __future__ import annotations

import datetime
import math
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm

from machi.analytics.forecast.calendar import FLAGS, Calendar
from machi.analytics.forecast.synthetic import HOURS, DayVisits, Event

HORIZON_DAYS = 56  # 8 weeks
INTERVAL = 0.8  # the prediction interval's coverage (p10–p90)
MIN_HISTORY_DAYS = 20  # open days
SPECIAL = ("move_march", "move_april", "after_holiday")
YEAR = 365.25


class NotEnoughHistory(ValueError):
    """Fewer open days of history than a forecast needs."""


@dataclass(frozen=True)
class History:
    """Visits per open day (ascending) with their split over :data:`HOURS`."""

    days: tuple[datetime.date, ...]
    totals: np.ndarray  # (n,)
    hourly: np.ndarray  # (n, len(HOURS))

    @classmethod
    def of(cls, rows: Iterable[DayVisits]) -> History:
        rows = sorted(rows, key=lambda r: r.day)
        days = tuple(r.day for r in rows)
        if len(set(days)) != len(days):
            raise ValueError("one row per day")
        totals = np.array([r.total for r in rows], dtype=float)
        hourly = np.array([r.hourly for r in rows], dtype=float).reshape(len(rows), len(HOURS))
        return cls(days=days, totals=totals, hourly=hourly)

    def before(self, day: datetime.date) -> History:
        n = int(np.searchsorted(np.array([d.toordinal() for d in self.days]), day.toordinal()))
        return History(days=self.days[:n], totals=self.totals[:n], hourly=self.hourly[:n])

    def __len__(self) -> int:
        return len(self.days)


# --- features ------------------------------------------------------------------------------


def calendar_features(
    days: Sequence[datetime.date], *, calendar: Calendar, origin: datetime.date
) -> tuple[np.ndarray, list[str]]:
    """The design matrix of ``days`` (rows) and its column names. ``origin`` is where
    the trend counts from (in years)."""
    names = ["const"] + [f"weekday_{w}" for w in range(1, 7)] + list(FLAGS)
    names += ["trend", "annual_cos", "annual_sin"]
    rows = []
    for day in days:
        flags = calendar.flags(day)
        doy = day.timetuple().tm_yday
        rows.append(
            [1.0]
            + [float(day.weekday() == w) for w in range(1, 7)]
            + [float(flags[f]) for f in FLAGS]
            + [
                (day - origin).days / YEAR,
                math.cos(2 * math.pi * doy / YEAR),
                math.sin(2 * math.pi * doy / YEAR),
            ]
        )
    return np.array(rows, dtype=float).reshape(len(days), len(names)), names


def _event_offsets(days: Sequence[datetime.date], events: Iterable[Event]) -> np.ndarray:
    effects: dict[datetime.date, float] = {}
    for event in events:
        effects[event.day] = effects.get(event.day, 0.0) + event.effect
    # An effect of −100 % or less would mean no visits at all: clamp to −90 %.
    return np.array([math.log1p(max(effects.get(d, 0.0), -0.9)) for d in days])


# --- the model ---------------------------------------------------------------------------


@dataclass
class FittedModel:
    calendar: Calendar
    origin: datetime.date
    columns: list[int]
    names: list[str]
    result: object  # statsmodels RegressionResults
    profiles: dict[tuple[int, bool], np.ndarray]
    fallback_profile: np.ndarray

    def predict(
        self, days: Sequence[datetime.date], *, events: Iterable[Event] = (),
        interval: float = INTERVAL,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Point forecast, lower and upper bound of the visits on ``days``."""
        if not days:
            empty = np.zeros(0)
            return empty, empty, empty
        x, _names = calendar_features(days, calendar=self.calendar, origin=self.origin)
        x = x[:, self.columns]
        offset = _event_offsets(days, events)
        frame = self.result.get_prediction(x).summary_frame(alpha=1 - interval)
        mean = np.expm1(frame["mean"].to_numpy() + offset)
        lower = np.expm1(frame["obs_ci_lower"].to_numpy() + offset)
        upper = np.expm1(frame["obs_ci_upper"].to_numpy() + offset)
        return np.maximum(mean, 0), np.maximum(lower, 0), np.maximum(upper, 0)

    def profile(self, day: datetime.date) -> np.ndarray:
        flags = self.calendar.flags(day)
        special = any(flags[f] for f in SPECIAL)
        usual = self.profiles.get((day.weekday(), False), self.fallback_profile)
        return self.profiles.get((day.weekday(), special), usual)

    def coefficients(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.names, self.result.params, strict=True)}


def fit(history: History, *, calendar: Calendar, events: Iterable[Event] = ()) -> FittedModel:
    """Fit the model on the whole of ``history`` (see the module's docstring)."""
    if len(history) < MIN_HISTORY_DAYS:
        raise NotEnoughHistory(
            f"a forecast needs at least {MIN_HISTORY_DAYS} open days of history, "
            f"there are {len(history)}"
        )
    events = list(events)
    origin = history.days[0]
    x, names = calendar_features(history.days, calendar=calendar, origin=origin)
    span = (history.days[-1] - history.days[0]).days
    keep = []
    for j, name in enumerate(names):
        if name == "const":
            keep.append(j)
        elif name in ("trend", "annual_cos", "annual_sin") and span < 365:
            continue  # a trend or a yearly wave needs a year to be told apart
        elif np.ptp(x[:, j]) > 0:
            keep.append(j)
    y = np.log1p(history.totals) - _event_offsets(history.days, events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.OLS(y, x[:, keep]).fit()
    return FittedModel(
        calendar=calendar, origin=origin, columns=keep, names=[names[j] for j in keep],
        result=result, **_profiles(history, calendar),
    )  # fmt: skip


def _profiles(history: History, calendar: Calendar) -> dict:
    sums: dict[tuple[int, bool], np.ndarray] = {}
    counts: dict[tuple[int, bool], int] = {}
    for day, hours in zip(history.days, history.hourly, strict=True):
        flags = calendar.flags(day)
        key = (day.weekday(), any(flags[f] for f in SPECIAL))
        sums[key] = sums.get(key, 0) + hours
        counts[key] = counts.get(key, 0) + 1
    total = history.hourly.sum(axis=0)
    fallback = total / total.sum() if total.sum() else np.full(len(HOURS), 1 / len(HOURS))
    profiles = {
        key: values / values.sum()
        for key, values in sums.items()
        if values.sum() > 0 and counts[key] >= 3
    }
    return {"profiles": profiles, "fallback_profile": fallback}


# --- forecasts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyPoint:
    day: datetime.date
    mean: float
    lower: float
    upper: float
    flags: tuple[str, ...]
    events: tuple[str, ...]


@dataclass(frozen=True)
class HourlyPoint:
    day: datetime.date
    hour: int
    mean: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Forecast:
    first: datetime.date
    last: datetime.date
    interval: float
    daily: list[DailyPoint]
    hourly: list[HourlyPoint]
    coefficients: dict[str, float] = field(default_factory=dict)


def forecast(
    history: History, *, calendar: Calendar, first: datetime.date, last: datetime.date,
    events: Iterable[Event] = (), interval: float = INTERVAL,
) -> Forecast:  # fmt: skip
    """Daily and hourly forecasts of the open days from ``first`` to ``last``."""
    events = list(events)
    model = fit(history, calendar=calendar, events=events)
    days = calendar.open_days(first, last)
    mean, lower, upper = model.predict(days, events=events, interval=interval)
    names: dict[datetime.date, list[str]] = {}
    for event in events:
        names.setdefault(event.day, []).append(event.name)
    daily, hourly = [], []
    for i, day in enumerate(days):
        flags = calendar.flags(day)
        daily.append(
            DailyPoint(
                day=day, mean=float(mean[i]), lower=float(lower[i]), upper=float(upper[i]),
                flags=tuple(f for f in FLAGS if flags[f]), events=tuple(names.get(day, ())),
            )
        )  # fmt: skip
        share = model.profile(day)
        for h, hour in enumerate(HOURS):
            hourly.append(
                HourlyPoint(
                    day=day, hour=hour, mean=float(mean[i] * share[h]),
                    lower=float(lower[i] * share[h]), upper=float(upper[i] * share[h]),
                )
            )  # fmt: skip
    return Forecast(
        first=first, last=last, interval=interval, daily=daily, hourly=hourly,
        coefficients=model.coefficients(),
    )  # fmt: skip


# --- backtest ----------------------------------------------------------------------------

METHODS = ("model", "seasonal_naive", "weekday_mean_4")


def _errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    if actual.size == 0:
        return {"mae": None, "mape": None}
    error = np.abs(actual - predicted)
    positive = actual > 0
    mape = float(np.mean(error[positive] / actual[positive]) * 100) if positive.any() else None
    return {"mae": float(error.mean()), "mape": mape}


def _weekday_baselines(
    train: History, days: Sequence[datetime.date]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Seasonal naive and weekday mean 4 for ``days``: (daily, hourly) each."""
    by_weekday: dict[int, list[int]] = {}
    for i, day in enumerate(train.days):
        by_weekday.setdefault(day.weekday(), []).append(i)
    naive_d, naive_h, mean_d, mean_h = [], [], [], []
    overall_d = train.totals[-5:].mean()
    overall_h = train.hourly[-5:].mean(axis=0)
    for day in days:
        rows = by_weekday.get(day.weekday(), [])
        if rows:
            naive_d.append(train.totals[rows[-1]])
            naive_h.append(train.hourly[rows[-1]])
            mean_d.append(train.totals[rows[-4:]].mean())
            mean_h.append(train.hourly[rows[-4:]].mean(axis=0))
        else:  # a weekday never seen (a new Saturday opening): the last week's mean
            naive_d.append(overall_d)
            naive_h.append(overall_h)
            mean_d.append(overall_d)
            mean_h.append(overall_h)
    return {
        "seasonal_naive": (np.array(naive_d), np.array(naive_h)),
        "weekday_mean_4": (np.array(mean_d), np.array(mean_h)),
    }


@dataclass(frozen=True)
class Backtest:
    origins: list[datetime.date]
    horizon_days: int
    points: int
    daily: dict[str, dict[str, float | None]]
    hourly: dict[str, dict[str, float | None]]
    interval_coverage: float | None
    seconds: float

    def beats_baselines(self) -> bool:
        """The model's daily MAE and MAPE are below both baselines'."""
        model = self.daily["model"]
        return all(
            model[m] is not None and model[m] < self.daily[b][m]
            for b in METHODS[1:]
            for m in ("mae", "mape")
        )

    def as_dict(self) -> dict:
        return {
            "method": "rolling origin",
            "origins": len(self.origins),
            "first_origin": self.origins[0].isoformat() if self.origins else None,
            "last_origin": self.origins[-1].isoformat() if self.origins else None,
            "horizon_days": self.horizon_days,
            "points": self.points,
            "daily": self.daily,
            "hourly": self.hourly,
            "interval_coverage": self.interval_coverage,
            "model_beats_baselines": self.beats_baselines(),
            "seconds": round(self.seconds, 3),
        }


def backtest(
    history: History, *, calendar: Calendar, events: Iterable[Event] = (),
    horizon: int = HORIZON_DAYS, step: int = 28, min_train: int = 364,
    interval: float = INTERVAL,
) -> Backtest:  # fmt: skip
    """Rolling-origin backtest of the model and both baselines (see the module's
    docstring). ``min_train``, ``horizon`` and ``step`` are calendar days."""
    started = time.perf_counter()
    events = list(events)
    if not history.days:
        raise NotEnoughHistory("a backtest needs history")
    first, last = history.days[0], history.days[-1]
    origins = []
    origin = first + datetime.timedelta(days=min_train)
    while origin + datetime.timedelta(days=horizon - 1) <= last:
        origins.append(origin)
        origin += datetime.timedelta(days=step)
    if not origins:
        raise NotEnoughHistory(
            f"a backtest needs {min_train + horizon} days of history, "
            f"there are {(last - first).days + 1}"
        )
    ordinals = np.array([d.toordinal() for d in history.days])
    actual_d: list[np.ndarray] = []
    actual_h: list[np.ndarray] = []
    predicted: dict[str, tuple[list, list]] = {m: ([], []) for m in METHODS}
    inside = 0
    for origin in origins:
        train = history.before(origin)
        model = fit(train, calendar=calendar, events=events)
        end = origin + datetime.timedelta(days=horizon)
        test = np.nonzero((ordinals >= origin.toordinal()) & (ordinals < end.toordinal()))[0]
        days = [history.days[i] for i in test]
        mean, lower, upper = model.predict(days, events=events, interval=interval)
        actual = history.totals[test]
        inside += int(np.sum((actual >= lower) & (actual <= upper)))
        actual_d.append(actual)
        actual_h.append(history.hourly[test].reshape(-1))
        shares = np.array([model.profile(d) for d in days]).reshape(len(days), len(HOURS))
        predicted["model"][0].append(mean)
        predicted["model"][1].append((mean[:, None] * shares).reshape(-1))
        for name, (daily, hourly) in _weekday_baselines(train, days).items():
            predicted[name][0].append(daily)
            predicted[name][1].append(hourly.reshape(-1))
    all_d = np.concatenate(actual_d)
    all_h = np.concatenate(actual_h)
    return Backtest(
        origins=origins,
        horizon_days=horizon,
        points=int(all_d.size),
        daily={m: _errors(all_d, np.concatenate(predicted[m][0])) for m in METHODS},
        hourly={m: _errors(all_h, np.concatenate(predicted[m][1])) for m in METHODS},
        interval_coverage=float(inside / all_d.size) if all_d.size else None,
        seconds=time.perf_counter() - started,
    )

"""The model on a short synthetic history: it beats both baselines, its interval covers
about what it says, events move the forecast, and the calendar flags are right."""

import datetime

import pytest

from machi.analytics.forecast import model
from machi.analytics.forecast.calendar import Calendar
from machi.analytics.forecast.synthetic import HOURS, Event, demo_events, generate

START = datetime.date(2025, 1, 6)
DAYS = 240  # about 160 open days: short, so the backtest stays fast in CI
CAL = Calendar()


@pytest.fixture(scope="module")
def history():
    events = demo_events(START, START + datetime.timedelta(days=DAYS))
    return model.History.of(generate(start=START, days=DAYS, seed=11, events=events)), events


def test_backtest_on_short_history_beats_both_baselines(history):
    data, events = history
    result = model.backtest(data, calendar=CAL, events=events, min_train=84, horizon=28, step=14)
    assert result.origins and result.points > 50
    for metric in ("mae", "mape"):
        assert result.daily["model"][metric] < result.daily["seasonal_naive"][metric]
        assert result.daily["model"][metric] < result.daily["weekday_mean_4"][metric]
    assert result.hourly["model"]["mae"] < result.hourly["seasonal_naive"]["mae"]
    assert result.beats_baselines()
    assert 0.6 <= result.interval_coverage <= 0.97
    assert result.as_dict()["model_beats_baselines"] is True


def test_backtest_refuses_too_short_history(history):
    data, _events = history
    with pytest.raises(model.NotEnoughHistory):
        model.backtest(data, calendar=CAL, min_train=364)


def test_forecast_open_days_interval_and_hours(history):
    data, events = history
    first = data.days[-1] + datetime.timedelta(days=1)
    last = first + datetime.timedelta(days=55)
    result = model.forecast(data, calendar=CAL, first=first, last=last, events=events)
    assert [p.day for p in result.daily] == CAL.open_days(first, last)
    for p in result.daily:
        assert 0 <= p.lower <= p.mean <= p.upper
    assert len(result.hourly) == len(result.daily) * len(HOURS)
    # the hours of a day add up to the day
    day = result.daily[0]
    assert sum(h.mean for h in result.hourly if h.day == day.day) == pytest.approx(day.mean)


def test_event_raises_its_day_only(history):
    data, _events = history
    first = data.days[-1] + datetime.timedelta(days=1)
    last = first + datetime.timedelta(days=27)
    day = CAL.open_days(first, last)[5]
    plain = model.forecast(data, calendar=CAL, first=first, last=last)
    boosted = model.forecast(
        data, calendar=CAL, first=first, last=last,
        events=[Event(day=day, name="給付金の締切", effect=0.5)],
    )  # fmt: skip
    before = {p.day: p.mean for p in plain.daily}
    after = {p.day: p for p in boosted.daily}
    assert after[day].mean > before[day] * 1.3
    assert after[day].events == ("給付金の締切",)
    other = CAL.open_days(first, last)[6]
    assert after[other].mean == pytest.approx(before[other], rel=0.15)


def test_not_enough_history():
    rows = generate(start=START, days=14, seed=1)
    with pytest.raises(model.NotEnoughHistory):
        model.fit(model.History.of(rows), calendar=CAL)


@pytest.mark.parametrize(
    ("day", "flag", "expected"),
    [
        (datetime.date(2026, 12, 1), "month_start", True),  # Tuesday, first open day
        (datetime.date(2026, 12, 2), "month_start", True),
        (datetime.date(2026, 12, 3), "month_start", False),
        (datetime.date(2026, 11, 30), "month_end", True),
        (datetime.date(2026, 11, 27), "month_end", True),
        (datetime.date(2026, 11, 26), "month_end", False),
        (datetime.date(2026, 3, 23), "move_march", True),
        (datetime.date(2026, 3, 19), "move_march", False),
        (datetime.date(2026, 4, 10), "move_april", True),
        (datetime.date(2026, 1, 13), "after_holiday", True),  # after 成人の日
        (datetime.date(2026, 1, 5), "after_holiday", True),  # after 年末年始
        (datetime.date(2026, 1, 19), "after_holiday", False),  # a plain Monday
        (datetime.date(2026, 1, 10), "month_start", False),  # Saturday: closed
    ],
)
def test_calendar_flags(day, flag, expected):
    assert CAL.flags(day)[flag] is expected

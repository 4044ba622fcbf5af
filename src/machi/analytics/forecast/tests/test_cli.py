"""`machi analytics forecast`: text and JSON output, options and errors."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from machi.analytics.forecast.tests.conftest import TODAY, A, B

pytestmark = pytest.mark.django_db(databases="__all__")

KEYS = {
    "lg_code", "today", "weeks", "interval", "target_minutes", "service_minutes", "history",
    "daily", "hourly", "next_month", "backtest", "backtest_error", "events",
}  # fmt: skip


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("analytics", "forecast", *args, stdout=out)
    return out.getvalue()


def test_json_keys_and_backtest(history_a):
    data = json.loads(run("--tenant", A, "--json", "--today", TODAY.isoformat()))
    assert set(data) == KEYS
    assert data["lg_code"] == A and data["today"] == TODAY.isoformat()
    assert data["history"]["open_days"] > 90
    assert data["service_minutes"] == 8.0  # the fixture serves every ticket in 8 minutes
    days = [p["day"] for p in data["daily"]]
    assert days == sorted(days) and days[0] > TODAY.isoformat()
    assert len(days) >= 35  # 8 weeks of open days
    point = data["daily"][0]
    assert set(point) == {"day", "weekday", "mean", "lower", "upper", "flags", "events"}
    assert point["lower"] <= point["mean"] <= point["upper"]
    assert len(data["hourly"]) == 5
    hour = data["hourly"][0]["hours"][1]
    assert set(hour) == {
        "hour", "mean", "lower", "upper", "counters", "counters_upper", "p90_wait_minutes",
    }  # fmt: skip
    assert hour["counters"] >= 1 and hour["counters_upper"] >= hour["counters"]
    backtest = data["backtest"]
    assert backtest["origins"] >= 1
    assert set(backtest["daily"]) == {"model", "seasonal_naive", "weekday_mean_4"}
    assert set(backtest["daily"]["model"]) == {"mae", "mape"}
    assert isinstance(backtest["model_beats_baselines"], bool)


def test_options_change_the_result(history_a):
    base = json.loads(run("--tenant", A, "--json", "--today", TODAY.isoformat()))
    strict = json.loads(
        run("--tenant", A, "--json", "--today", TODAY.isoformat(), "--target-minutes", "0",
            "--no-backtest", "--weeks", "2")
    )  # fmt: skip
    assert strict["backtest"] is None and strict["weeks"] == 2
    assert len(strict["daily"]) < len(base["daily"])
    hours = zip(base["hourly"][0]["hours"], strict["hourly"][0]["hours"], strict=True)
    assert all(s["counters"] >= b["counters"] for b, s in hours)
    assert any(
        s["counters"] > b["counters"]
        for b, s in zip(base["hourly"][0]["hours"], strict["hourly"][0]["hours"], strict=True)
    )


def test_text_output(history_a):
    text = run("--tenant", A, "--today", TODAY.isoformat())
    assert "日別の予測" in text and "必要な窓口数" in text
    assert "バックテスト" in text and "季節ナイーブ" in text and "4週平均" in text


def test_unknown_tenant():
    with pytest.raises(CommandError, match="999999"):
        run("--tenant", "999999", "--json")


def test_not_enough_history(municipality_b):
    with pytest.raises(CommandError, match="開庁日以上"):
        run("--tenant", B, "--json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--today", "2026-13-01"), "YYYY-MM-DD"),
        (("--weeks", "0"), "--weeks"),
        (("--target-minutes", "-1"), "--target-minutes"),
    ],
)
def test_bad_options(municipality_a, args, message):
    with pytest.raises(CommandError, match=message):
        run("--tenant", A, *args)

"""The counter-demand forecast's full backtest, and the demo history it runs on.

Run by hand::

    .venv/bin/python benchmarks/forecast.py [--days 820] [--database sqlite|postgres|none]

1. **Backtest over a full year** (pure Python, no database): ``--days`` days of the
   documented synthetic process (machi.analytics.forecast.synthetic, with the
   給付金の締切 demo events), rolling origin from day 364 every 7 days with an 8-week
   horizon, so the origins cover a year (820 days: 52 origins). Reported for the
   model and both baselines (seasonal naive, weekday mean of 4 weeks): daily MAE and
   MAPE, hourly MAE, the 80 % interval's coverage, seconds. Also the 455-day history
   the demo writes, with the plan the page and the CLI use
   (``selectors.backtest_plan``), over several seeds.
2. **The demo history in a database** (unless ``--database none``): a throwaway data
   directory (and PostgreSQL server for ``postgres``), ``counter_history_demo_seed``
   for 455 days timed (and its second, idempotent call), then ``forecast_for`` (the
   page's and the CLI's work: history query, fit, forecast, backtest, staffing) cold
   and warm.

Prints JSON only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

START = datetime.date(2024, 4, 1)


def _round(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def backtest_year(days: int, seed: int) -> dict:
    from machi.analytics.forecast import model
    from machi.analytics.forecast.calendar import Calendar
    from machi.analytics.forecast.synthetic import demo_events, generate

    events = demo_events(START, START + datetime.timedelta(days=days))
    started = time.perf_counter()
    rows = generate(start=START, days=days, seed=seed, events=events)
    generated = time.perf_counter() - started
    history = model.History.of(rows)
    result = model.backtest(
        history, calendar=Calendar(), events=events, min_train=364, step=7, horizon=56
    )
    out = result.as_dict()
    return _round(
        {
            "history_days": days,
            "open_days": len(history),
            "seed": seed,
            "generate_seconds": generated,
            **{k: out[k] for k in ("origins", "first_origin", "last_origin", "points")},
            "daily": out["daily"],
            "hourly_mae": {m: v["mae"] for m, v in out["hourly"].items()},
            "interval_coverage": out["interval_coverage"],
            "model_beats_baselines": out["model_beats_baselines"],
            "seconds": result.seconds,
        }
    )


def backtest_demo_length(seeds: list[int]) -> dict:
    from machi.analytics.forecast import model
    from machi.analytics.forecast.calendar import Calendar
    from machi.analytics.forecast.selectors import backtest_plan
    from machi.analytics.forecast.synthetic import demo_events, generate

    runs = []
    for seed in seeds:
        events = demo_events(START, START + datetime.timedelta(days=455))
        history = model.History.of(generate(start=START, days=455, seed=seed, events=events))
        span = (history.days[-1] - history.days[0]).days + 1
        plan = backtest_plan(span)
        result = model.backtest(history, calendar=Calendar(), events=events, **plan)
        runs.append((plan, result))
    plan = runs[0][0]
    return _round(
        {
            "history_days": 455,
            "plan": plan,
            "seeds": seeds,
            "origins": runs[0][1].as_dict()["origins"],
            "daily_mae": {
                m: statistics.mean(r.daily[m]["mae"] for _p, r in runs) for m in model.METHODS
            },
            "daily_mape": {
                m: statistics.mean(r.daily[m]["mape"] for _p, r in runs) for m in model.METHODS
            },
            "hourly_mae": {
                m: statistics.mean(r.hourly[m]["mae"] for _p, r in runs) for m in model.METHODS
            },
            "interval_coverage": statistics.mean(r.interval_coverage for _p, r in runs),
            "model_beats_baselines_every_seed": all(r.beats_baselines() for _p, r in runs),
            "seconds_per_backtest": statistics.mean(r.seconds for _p, r in runs),
        }
    )


def database_run(database: str) -> dict:
    from registry_import import LG_CODE, configure

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-forecast-"))
    server = None
    try:
        server = configure(database, data_dir)
        from machi.analytics.forecast.demo import counter_history_demo_seed
        from machi.analytics.forecast.selectors import forecast_for
        from machi.counter.models import Task, Visit
        from machi.tenancy.context import tenant_context

        started = time.perf_counter()
        tickets = counter_history_demo_seed(lg_code=LG_CODE, days=455)
        seed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = counter_history_demo_seed(lg_code=LG_CODE, days=455)
        again_seconds = time.perf_counter() - started
        with tenant_context(LG_CODE):
            visits, tasks = Visit.objects.count(), Task.objects.count()
        started = time.perf_counter()
        report = forecast_for(lg_code=LG_CODE)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(5):
            started = time.perf_counter()
            forecast_for(lg_code=LG_CODE)
            warm.append(time.perf_counter() - started)
        backtest = report.backtest.as_dict() if report.backtest else None
        return _round(
            {
                "database": database,
                "seed_days": 455,
                "tickets": tickets,
                "visits": visits,
                "tasks": tasks,
                "seed_seconds": seed_seconds,
                "second_seed_tickets": again,
                "second_seed_seconds": again_seconds,
                "forecast_for_cold_seconds": cold,
                "forecast_for_warm_seconds_median": statistics.median(warm),
                "history_open_days": report.history_days,
                "service_minutes": report.service_minutes,
                "page_backtest": {
                    k: backtest[k]
                    for k in ("origins", "horizon_days", "daily", "model_beats_baselines")
                }
                if backtest
                else None,
            }
        )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=820)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", choices=("sqlite", "postgres", "none"), default="sqlite")
    args = parser.parse_args()
    if args.days < 455:
        parser.error("--days: at least 455 (a year of origins needs 364 + 56 more)")
    result = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "full_year": backtest_year(args.days, args.seed),
        "demo_length": backtest_demo_length([1, 2, 3, 2026]),
    }
    if args.database != "none":
        result["database"] = database_run(args.database)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

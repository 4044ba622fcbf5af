"""The `machi analytics forecast` subcommand: the municipality's daily forecast for the
next weeks with its interval, the hourly forecast with the counters needed for the next
open days, and the backtest of the model against both baselines (text, or ``--json``).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import CommandError

from machi.analytics.forecast import model as fmodel
from machi.analytics.forecast.selectors import (
    DEFAULT_TARGET_MINUTES,
    DEFAULT_WEEKS,
    MAX_WEEKS,
    ForecastReport,
    forecast_for,
)

HELP = (
    "the counter-demand forecast (daily with its interval, hourly with the counters "
    "needed) and its backtest against two baselines"
)
HOURLY_DAYS = 5  # open days with an hourly forecast in the output
WEEKDAYS = "月火水木金土日"
FLAG_LABELS = {
    "month_start": "月初",
    "month_end": "月末",
    "move_march": "3月末",
    "move_april": "4月初め",
    "after_holiday": "祝日の翌日",
}
METHOD_LABELS = {
    "model": "モデル",
    "seasonal_naive": "季節ナイーブ（前週の同じ曜日）",
    "weekday_mean_4": "同じ曜日の4週平均",
}


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--today: YYYY-MM-DD の日付ではありません: {text}") from error


def add_arguments(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (keys in docs/data.md)")
    parser.add_argument("--today", help="forecast from the day after YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--target-minutes", type=float, default=DEFAULT_TARGET_MINUTES,
        help="the p90 wait the staffing suggestion keeps to (minutes, default 15)",
    )  # fmt: skip
    parser.add_argument("--no-backtest", action="store_true", help="skip the backtest")
    parser.add_argument(
        "--weeks", type=int, default=DEFAULT_WEEKS, help="weeks to forecast (default 8)"
    )


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def report_dict(report: ForecastReport, *, hourly_days: int = HOURLY_DAYS) -> dict[str, Any]:
    """The report as the JSON the command prints (keys documented in docs/data.md)."""
    month = report.next_month()
    return {
        "lg_code": report.lg_code,
        "today": report.today.isoformat(),
        "weeks": report.weeks,
        "interval": report.forecast.interval,
        "target_minutes": report.target_minutes,
        "service_minutes": _r(report.service_minutes, 2),
        "history": {
            "first": report.history_first.isoformat(),
            "last": report.history_last.isoformat(),
            "open_days": report.history_days,
        },
        "daily": [
            {
                "day": p.day.isoformat(),
                "weekday": WEEKDAYS[p.day.weekday()],
                "mean": _r(p.mean),
                "lower": _r(p.lower),
                "upper": _r(p.upper),
                "flags": list(p.flags),
                "events": list(p.events),
            }
            for p in report.horizon
        ],
        "hourly": [
            {
                "day": day.isoformat(),
                "hours": [
                    {
                        "hour": h.hour,
                        "mean": _r(h.mean),
                        "lower": _r(h.lower),
                        "upper": _r(h.upper),
                        "counters": h.counters,
                        "counters_upper": h.counters_upper,
                        "p90_wait_minutes": _r(h.p90_wait_minutes),
                    }
                    for h in report.hours[day]
                ],
            }
            for day in report.open_days[:hourly_days]
        ],
        "next_month": {
            "month": f"{month.year:04d}-{month.month:02d}",
            "open_days": month.open_days,
            "total": _r(month.total),
            "busiest": [{"day": p.day.isoformat(), "mean": _r(p.mean)} for p in month.busiest],
        },
        "backtest": report.backtest.as_dict() if report.backtest else None,
        "backtest_error": report.backtest_error,
        "events": [
            {"day": e.day.isoformat(), "name": e.name, "effect_percent": round(e.effect * 100)}
            for e in report.events
        ],
    }


def _text(data: dict[str, Any]) -> str:
    lines = [
        f"来庁者数予測 {data['lg_code']}（{data['today']} 時点、"
        f"履歴 {data['history']['first']}〜{data['history']['last']} の "
        f"{data['history']['open_days']} 開庁日）",
        "",
        f"日別の予測（{data['weeks']} 週間、{round(data['interval'] * 100)}% 区間）",
        f"{'日付':<12}{'曜':<3}{'予測':>8}{'下限':>8}{'上限':>8}  暦・行事",
    ]
    for p in data["daily"]:
        notes = "・".join([FLAG_LABELS.get(f, f) for f in p["flags"]] + p["events"])
        lines.append(
            f"{p['day']:<12}{p['weekday']:<3}{p['mean']:>8.1f}{p['lower']:>8.1f}"
            f"{p['upper']:>8.1f}  {notes}"
        )
    lines += [
        "",
        f"時間帯別の予測と必要な窓口数（p90 の待ち時間 ≤ {data['target_minutes']:g} 分、"
        f"平均対応時間 {data['service_minutes']:g} 分、M/M/c）",
    ]
    for day in data["hourly"]:
        lines.append(f"{day['day']}")
        lines.append(
            f"  {'時台':<6}{'予測':>7}{'下限':>7}{'上限':>7}"
            f"{'窓口数':>7}{'上限時':>7}{'p90待ち':>9}"
        )
        for h in day["hours"]:
            counters = "—" if h["counters"] is None else str(h["counters"])
            upper = "—" if h["counters_upper"] is None else str(h["counters_upper"])
            wait = "—" if h["p90_wait_minutes"] is None else f"{h['p90_wait_minutes']:.1f}"
            lines.append(
                f"  {h['hour']:>2}時台 {h['mean']:>7.1f}{h['lower']:>7.1f}{h['upper']:>7.1f}"
                f"{counters:>7}{upper:>7}{wait:>9}"
            )
    lines.append("")
    backtest = data["backtest"]
    if backtest is None:
        lines.append(f"バックテスト: なし（{data['backtest_error'] or '省略'}）")
    else:
        lines.append(
            f"バックテスト（ローリング・オリジン {backtest['origins']} 回、"
            f"{backtest['first_origin']}〜{backtest['last_origin']}、"
            f"各 {backtest['horizon_days']} 日先まで、"
            f"{backtest['points']} 日）"
        )
        lines.append(f"  {'方法':<22}{'日MAE':>9}{'日MAPE%':>9}{'時MAE':>9}")
        for method in fmodel.METHODS:
            d, h = backtest["daily"][method], backtest["hourly"][method]
            lines.append(
                f"  {METHOD_LABELS[method]:<22}{_fmt(d['mae']):>9}{_fmt(d['mape']):>9}"
                f"{_fmt(h['mae']):>9}"
            )
        coverage = backtest["interval_coverage"]
        lines.append(f"  区間の的中率: {_fmt(coverage * 100 if coverage is not None else None)}%")
        lines.append(
            "  モデルは両方の基準より良い。"
            if backtest["model_beats_baselines"]
            else "  モデルは基準のどちらかに及ばない。"
        )
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def handle(options: dict[str, Any], stdout: Any) -> None:
    lg_code = options.get("tenant")
    today = _date(options["today"]) if options.get("today") else None
    weeks = options.get("weeks")
    weeks = DEFAULT_WEEKS if weeks is None else weeks
    if not 1 <= weeks <= MAX_WEEKS:
        raise CommandError(f"--weeks は 1〜{MAX_WEEKS} にしてください。")
    target = options.get("target_minutes")
    target = DEFAULT_TARGET_MINUTES if target is None else target
    if target < 0:
        raise CommandError("--target-minutes は 0 以上にしてください。")
    try:
        report = forecast_for(
            lg_code=lg_code, today=today, weeks=weeks, target_minutes=target,
            with_backtest=not options.get("no_backtest"),
        )  # fmt: skip
    except fmodel.NotEnoughHistory as error:
        raise CommandError(f"{lg_code}: {error}") from error
    data = report_dict(report)
    if options.get("json"):
        stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        stdout.write(_text(data))

"""The `machi analytics accesslog` subcommand: run the five access-log analyses for a day
(default: yesterday, JST) in the municipality, store the findings and print them per
analysis (text, or ``--json``)."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import CommandError

from machi.analytics.accesslog.analyses import ANALYSES
from machi.analytics.accesslog.models import Analysis
from machi.analytics.accesslog.services import DayRun, accesslog_day_run, yesterday
from machi.audit.services import CLI_TERMINAL
from machi.tenancy.context import current_lg_code

HELP = (
    "the five access-log analyses for a day (default: yesterday): findings per analysis "
    "and the users' anomaly scores"
)
TOP_SCORES = 10


def add_arguments(parser: Any) -> None:
    parser.add_argument("--date", help="the day to analyse, YYYY-MM-DD (default: yesterday)")
    parser.add_argument("--json", action="store_true", help="print JSON (keys in docs/data.md)")


def run_dict(run: DayRun, lg_code: str) -> dict[str, Any]:
    return {
        "lg_code": lg_code,
        "date": run.day.isoformat(),
        "findings": {
            name: [
                {
                    "user": h.actor_username,
                    "actor_id": h.actor_id,
                    "subject": h.subject,
                    "count": h.count,
                    "reasons": h.reasons,
                    "evidence": h.evidence,
                }
                for h in run.hits[name]
            ]
            for name in ANALYSES
        },
        "scores": [
            {
                "user": s.actor_username,
                "actor_id": s.actor_id,
                "score": s.score,
                "reasons": s.reasons,
            }
            for s in run.scores[:TOP_SCORES]
        ],
        "stored": {"created": run.created, "kept_reviewed": run.kept},
    }


def handle(options: dict[str, Any], stdout: Any) -> None:
    if options.get("date"):
        try:
            day = datetime.date.fromisoformat(options["date"])
        except ValueError as error:
            message = f"--date: YYYY-MM-DD の日付ではありません: {options['date']}"
            raise CommandError(message) from error
    else:
        day = yesterday()
    lg_code = current_lg_code()
    run = accesslog_day_run(day=day, terminal=CLI_TERMINAL)
    data = run_dict(run, lg_code)
    if options.get("json"):
        stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    labels = dict(Analysis.choices)
    stdout.write(f"{lg_code} {day.isoformat()} の監査ログの分析")
    for name in ANALYSES:
        found = data["findings"][name]
        stdout.write(f"\n{labels[name]}: {len(found)} 件")
        for item in found:
            who = item["user"] or item["subject"]
            reasons = json.dumps(item["reasons"], ensure_ascii=False)
            stdout.write(f"  {who}: {item['count']} 件 {reasons}")
    stdout.write("\nスコアの高い職員:")
    for item in data["scores"]:
        stdout.write(f"  {item['user']}: {item['score']}")
    stdout.write(f"\n記録した検知結果: {run.created} 件（確認済みで残したもの {run.kept} 件）")

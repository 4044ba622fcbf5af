# ruff: noqa: S608 - every statement is built from this file's constants and integers
"""The counter dashboard (分析ダッシュボード「窓口」) over two years of a municipality of
1,000,000 residents: figures computed by DuckDB from the municipality's database, then
the charts (SVG inline and the tables), warm.

Run by hand::

    .venv/bin/python benchmarks/analytics.py [--database sqlite|postgres]
        [--visits 3000000] [--tickets 3000000] [--tasks 10000000] [--runs 20]
        [--long-runs 5]

Sets up its own data: a throwaway data directory (and PostgreSQL server for
``postgres``) with 千代田区 migrated, then generates the history inside the database
itself (one ``INSERT … SELECT`` a table over a recursive CTE on SQLite or
``generate_series`` on PostgreSQL, not timed): ``--visits`` visits and ``--tickets``
tickets on the working days of the last two years (8:30–17:15 JST, busier around
midday), ``--tasks`` tasks spread over the visits (80 % done after 0–29 days, the rest
open with a due date), and pre-applications used at one visit in ten. Every value is a
fixed function of the row number, so two runs build the same database.

Then times ``--runs`` renders (after two warm-up renders) of the counter dashboard for
the default period (the last 12 weeks: what the page shows first), and ``--long-runs``
for the whole two years: ``dashboard_charts("counter", …)`` (the DuckDB pass) plus every
chart's inline SVG and table (cached by content once warm, as on the page). Prints JSON
only: p50/p95 in milliseconds per period (target p95 ≤ 500 ms), the row counts and the set-up time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from registry_import import LG_CODE, configure

JST = dt.timezone(dt.timedelta(hours=9))
OPEN_SECONDS = 31500  # 8:30–17:15
EVENTS = ["move_in", "move_out", "move_within", "birth", "death", "marriage", "other"]
PURPOSES = ["move", "family", "certificate", "insurance_pension", "childcare", "other"]
DEPARTMENTS = [
    ("shimin", "市民課"),
    ("hoken_nenkin", "保険年金課"),
    ("kaigo", "介護保険課"),
    ("kosodate", "子育て支援課"),
    ("kenko", "健康推進課"),
    ("kyoiku", "学校教育課"),
    ("zeimu", "税務課"),
    ("fukushi", "福祉課"),
]


def working_days(today: dt.date, years: int = 2) -> list[dt.date]:
    first = today - dt.timedelta(days=365 * years)
    days = [first + dt.timedelta(days=n) for n in range((today - first).days + 1)]
    return [d for d in days if d.weekday() < 5]


def _case(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


class Dialect:
    def __init__(self, vendor: str) -> None:
        self.vendor = vendor

    def numbers(self, count: int) -> str:
        """A FROM clause giving n = 1..count."""
        if self.vendor == "sqlite":
            return (
                f"(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r"
                f" WHERE n < {count}) SELECT n FROM r) AS r"
            )
        return f"generate_series(CAST(1 AS bigint), {count}) AS r(n)"

    def ts(self, epoch: str) -> str:
        if self.vendor == "sqlite":
            return f"datetime({epoch}, 'unixepoch')"
        return f"to_timestamp({epoch})"

    def day(self, column: str) -> str:
        return column if self.vendor == "sqlite" else f"CAST({column} AS date)"

    def json(self, text: str) -> str:
        return f"'{text}'" if self.vendor == "sqlite" else f"CAST('{text}' AS jsonb)"

    def date_plus(self, epoch: str, days: str) -> str:
        if self.vendor == "sqlite":
            return f"date({epoch} + 86400 * ({days}) + 32400, 'unixepoch')"
        return f"CAST(to_timestamp({epoch} + 86400 * ({days}) + 32400) AS date)"


def statements(d: Dialect, *, visits: int, tickets: int, tasks: int) -> list[tuple[str, str]]:
    """(table, INSERT … SELECT) in order. ``bench_day(i, day, start)`` holds the working
    days: i from 0, the JST date, and 8:30 JST as a Unix time."""
    days = "(SELECT count(*) FROM bench_day)"
    # visit n: its day, and seconds after opening (two hashes averaged: a midday hump)
    v_day = f"((n - 1) * {days} / {visits})"
    v_offset = f"((n * 2654435761 % {OPEN_SECONDS} + n * 40503 % {OPEN_SECONDS}) / 2)"
    t_offset = f"((n * 2246822519 % {OPEN_SECONDS} + n * 3266489917 % {OPEN_SECONDS}) / 2)"
    wait = "(n * 374761393 % 3600)"
    service = "(300 + n * 668265263 % 1500)"
    visit_sql = f"""
        INSERT INTO counter_visit (id, public_code, ticket_id, event_type, event_date,
            atena_numbers, navigator_input, status, opened_at, closed_at, opened_by_id,
            opened_by_username, notifier_kind, notifier_person, notifier_atena,
            notifier_name, notifier_kana, notifier_relationship, notifier_address)
        SELECT n, 'V' || n, NULL, {_case(f"n * 3 % {len(EVENTS)}", EVENTS)}, {d.day("b.day")},
            {d.json("[]")}, {d.json("{}")}, 'closed', {d.ts(f"b.start + {v_offset}")},
            {d.ts(f"b.start + {v_offset} + 1800")}, NULL, '', '', '', '', '', '', '', ''
        FROM {d.numbers(visits)} JOIN bench_day b ON b.i = {v_day}
    """
    k_day = f"((n - 1) * {days} / {tickets})"
    ticket_sql = f"""
        INSERT INTO counter_ticket (id, issued_on, number, purpose, counter, status,
            issued_at, called_at, last_called_at, call_count, served_at, finished_at,
            called_by_id, called_by_username)
        SELECT n, {d.day("b.day")}, n, {_case(f"n * 11 % {len(PURPOSES)}", PURPOSES)},
            ((n * 13 % 8) + 1) || '番窓口', CASE WHEN n % 20 = 0 THEN 'no_show' ELSE 'done' END,
            {d.ts(f"b.start + {t_offset}")}, {d.ts(f"b.start + {t_offset} + {wait}")},
            {d.ts(f"b.start + {t_offset} + {wait}")}, 1,
            CASE WHEN n % 20 = 0 THEN NULL ELSE {d.ts(f"b.start + {t_offset} + {wait} + 30")} END,
            CASE WHEN n % 20 = 0 THEN NULL
                 ELSE {d.ts(f"b.start + {t_offset} + {wait} + 30 + {service}")} END,
            NULL, ''
        FROM {d.numbers(tickets)} JOIN bench_day b ON b.i = {k_day}
    """
    # task n belongs to visit v = (n - 1) % visits + 1 and is created when it opened
    v = f"((n - 1) % {visits} + 1)"
    task_day = f"(({v} - 1) * {days} / {visits})"
    task_offset = v_offset.replace("n", v)
    created = f"(b.start + {task_offset})"
    codes = [c for c, _name in DEPARTMENTS]
    names = [name for _c, name in DEPARTMENTS]
    task_sql = f"""
        INSERT INTO counter_task (id, visit_id, procedure_code, title, department,
            department_name, person_atena, person_label, filer_label, filer_atena, due,
            reason, forms, status, taken_by_id, taken_by_username, taken_at, completed_at,
            not_needed_reason, created_at)
        SELECT n, {v}, 'p' || (n % 40), '手続き', {_case(f"n * 5 % {len(codes)}", codes)},
            {_case(f"n * 5 % {len(names)}", names)}, '', '', '', '',
            {d.date_plus(created, "14")}, '', {d.json("[]")},
            CASE WHEN n % 5 = 0 THEN 'open' ELSE 'done' END, NULL, '', NULL,
            CASE WHEN n % 5 = 0 THEN NULL ELSE {d.ts(f"{created} + 86400 * (n % 30) + 3600")} END,
            '', {d.ts(created)}
        FROM {d.numbers(tasks)} JOIN bench_day b ON b.i = {task_day}
    """
    pre = visits // 10
    pre_v = "(n * 10)"
    pre_sql = f"""
        INSERT INTO counter_preapplication (id, code, navigator_input, created_at,
            expires_at, used_at)
        SELECT n, 'P' || substr('0000000' || n, -7, 7),
            {d.json('{"event": {"type": "move_in"}}')},
            {d.ts(f"b.start + {v_offset.replace('n', pre_v)} - 86400")},
            {d.ts(f"b.start + {v_offset.replace('n', pre_v)} + 86400 * 29")},
            {d.ts(f"b.start + {v_offset.replace('n', pre_v)}")}
        FROM {d.numbers(pre)} JOIN bench_day b ON b.i = (({pre_v} - 1) * {days} / {visits})
    """
    if d.vendor == "postgresql":
        pre_sql = pre_sql.replace("substr('0000000' || n, -7, 7)", "lpad(n::text, 7, '0')")
    return [
        ("counter_visit", visit_sql),
        ("counter_ticket", ticket_sql),
        ("counter_task", task_sql),
        ("counter_preapplication", pre_sql),
    ]


def generate(*, visits: int, tickets: int, tasks: int) -> dict[str, int]:
    from django.db import connections

    from machi.tenancy.context import tenant_alias

    alias = tenant_alias(LG_CODE)
    connection = connections[alias]
    today = dt.datetime.now(JST).date()
    days = working_days(today)
    rows = [
        (
            i,
            day.isoformat(),
            int(dt.datetime.combine(day, dt.time(8, 30), tzinfo=JST).timestamp()),
        )
        for i, day in enumerate(days)
    ]
    vendor = connection.vendor
    dialect = Dialect(vendor)
    counts = {}
    with connection.cursor() as cur:
        if vendor == "sqlite":
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("PRAGMA cache_size = -500000")
        else:
            cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("CREATE TEMP TABLE bench_day (i integer PRIMARY KEY, day text, start bigint)")
        cur.executemany("INSERT INTO bench_day VALUES (%s, %s, %s)", rows)
        for table, sql in statements(dialect, visits=visits, tickets=tickets, tasks=tasks):
            with connection.constraint_checks_disabled():
                cur.execute(sql)
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("ANALYZE")
    connection.close()
    return counts


def time_dashboard(period, runs: int) -> dict[str, float]:
    from machi.analytics.selectors import dashboard_charts

    def render() -> int:
        size = 0
        for chart in dashboard_charts("counter", period, LG_CODE):
            size += len(chart.svg_inline())
            chart.table()
        return size

    for _ in range(2):  # warm: the DuckDB instance attached, the charts' SVG cached
        render()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "days": len(period.days),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, round(0.95 * len(timings)) - 1)], 1),
        "max_ms": round(timings[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--tickets", type=int, default=3_000_000)
    parser.add_argument("--tasks", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--long-runs", type=int, default=5, help="runs over the two years")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-analytics-"))
    server = None
    try:
        started = time.perf_counter()
        server = configure(args.database, data_dir)
        counts = generate(visits=args.visits, tickets=args.tickets, tasks=args.tasks)
        setup = time.perf_counter() - started

        from machi.analytics.selectors import MAX_DAYS, Period

        load_before = os.getloadavg()
        today = dt.datetime.now(JST).date()
        periods = {
            "default_12_weeks": Period.default(),
            "two_years": Period(today - dt.timedelta(days=min(730, MAX_DAYS - 1)), today),
        }
        runs = {"default_12_weeks": args.runs, "two_years": args.long_runs}
        results = {name: time_dashboard(p, runs[name]) for name, p in periods.items()}
        print(
            json.dumps(
                {
                    "benchmark": "analytics_counter_dashboard",
                    "database": args.database,
                    "rows": counts,
                    "runs": runs,
                    "periods": results,
                    "target_p95_ms": 500,
                    "setup_seconds": round(setup, 1),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                },
                ensure_ascii=False,
            )
        )
    finally:
        from machi.analytics.duck import duck_close

        duck_close()
        if server is not None:
            from django.db import connections

            connections.close_all()
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Demo counter history: synthetic tickets (and some visits with their tasks) written into
a municipality's database, so the forecast and the dashboards have data.

:func:`counter_history_demo_seed` draws the daily and hourly visits of the documented
process (:func:`machi.analytics.forecast.synthetic.generate`, with the 給付金の締切 demo
events) for the ``days`` days before today and turns each visit into a finished
整理券: issued at a uniform minute of its hour, a purpose (転入・転出 more often in the
move season), served first come first served by the day's open counters (a simulated
queue, so waits are plausible: short in quiet hours, longer at the morning peak),
with a service time drawn per purpose (lognormal: 証明書 about 6 minutes, 転入・転出
about 20). A share of the 転入・転出 tickets also gets a counter visit (来庁受付) with
a few department tasks (procedures of the default catalogue whose department the
municipality has), done a few days later — the tasks of the last days stay open.

Idempotent: days that already have tickets are skipped, so a second call adds
nothing. Rows are written in one transaction by batched ``INSERT``s on SQLite
(``executemany``) and ``COPY`` on PostgreSQL, with the values already in the
database's form: Django's ``bulk_create`` spends most of its time preparing each of
the ~1.5 million values; benchmarks/forecast.py measures the seed).
"""

from __future__ import annotations

import datetime
import heapq
import json
import math
from typing import Any

import numpy as np
from django.db import connections, models, transaction

from machi.analytics.forecast.selectors import JST, municipality_calendar
from machi.analytics.forecast.synthetic import (
    HOURS,
    arrival_minutes,
    demo_events,
    generate,
)
from machi.tenancy.context import tenant_context

PURPOSES = ("move", "family", "certificate", "insurance_pension", "childcare", "other")
PURPOSE_SHARES = (0.22, 0.08, 0.38, 0.16, 0.09, 0.07)
MOVE_SEASON_MOVE_SHARE = 0.45
SERVICE_MINUTES = {  # median of the lognormal service time
    "move": 18.0,
    "family": 15.0,
    "certificate": 5.0,
    "insurance_pension": 11.0,
    "childcare": 12.0,
    "other": 8.0,
}
SERVICE_SIGMA = 0.45
UTILISATION = 0.72  # the day's mean load over its counters
VISIT_SHARE = 0.35  # of the 転入・転出 tickets
OPEN_TASK_DAYS = 3  # the tasks of visits from the last days stay open
BATCH = 2000
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
# (procedure code, title, department, events) of the default catalogue
PROCEDURES = (
    ("juki.move_in", "転入届", "shimin", "move_in"),
    ("juki.move_out", "転出届", "shimin", "move_out"),
    ("mynumber.continue", "マイナンバーカードの継続利用", "shimin", "move_in"),
    ("seal.register", "印鑑登録", "shimin", "move_in"),
    ("seal.return_card", "印鑑登録証の返却", "shimin", "move_out"),
    ("kokuho.enroll", "国民健康保険の加入", "hoken_nenkin", "move_in"),
    ("kokuho.withdraw", "国民健康保険の喪失", "hoken_nenkin", "move_out"),
    ("pension.enroll", "国民年金の加入", "hoken_nenkin", "move_in"),
    ("kaigo.enroll", "介護保険の資格取得", "kaigo", "move_in"),
    ("kaigo.withdraw", "介護保険の資格喪失", "kaigo", "move_out"),
    ("child_allowance.apply", "児童手当の認定請求", "kosodate", "move_in"),
    ("child_allowance.terminate", "児童手当の受給事由消滅届", "kosodate", "move_out"),
    ("child_medical.apply", "子ども医療費助成の申請", "kosodate", "move_in"),
    ("school.transfer_in", "転入学の手続", "kyoiku", "move_in"),
    ("school.transfer_out", "転出時の在学証明書等", "kyoiku", "move_out"),
    ("dog.transfer_in", "犬の登録事項変更（転入）", "kankyo", "move_in"),
)
DEFAULT_SEED = 2026


def _departments(lg_code: str) -> dict[str, str]:
    from machi.accounts.models import Department

    return dict(
        Department.objects.filter(municipality__lg_code=lg_code).values_list("code", "name")
    )


def _public_code(rng: np.random.Generator) -> str:
    raw = "".join(CODE_ALPHABET[i] for i in rng.integers(0, len(CODE_ALPHABET), size=10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _midnight(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in JST, as an aware UTC datetime."""
    local = datetime.datetime.combine(day, datetime.time.min, tzinfo=JST)
    return local.astimezone(datetime.UTC)


def _moments(day: datetime.date, minutes: np.ndarray) -> list[datetime.datetime]:
    """``minutes`` after midnight of ``day`` in JST, as aware UTC datetimes."""
    base = _midnight(day)
    return [base + datetime.timedelta(minutes=m) for m in minutes.tolist()]


def _insert(using: str, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (attribute name → value; missing fields take their default) with
    batched ``executemany``. Values are given in the database's own form: SQLite gets
    naive UTC text for datetimes, PostgreSQL aware datetimes; JSON as JSON."""
    if not rows:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sqlite = connection.vendor == "sqlite"
    if not sqlite:
        from psycopg.types.json import Jsonb

    def convert(field: models.Field) -> Any:
        if isinstance(field, models.JSONField):
            return (lambda v: json.dumps(v)) if sqlite else Jsonb
        if sqlite and isinstance(field, models.DateTimeField):
            return lambda v: None if v is None else v.replace(tzinfo=None).isoformat(" ")
        if sqlite and isinstance(field, models.DateField):
            return lambda v: None if v is None else v.isoformat()
        return None

    columns = [
        (f.attname, f.get_default() if f.has_default() or not f.null else None, convert(f))
        for f in fields
    ]
    # Table and column names come from the model (quoted); every value is bound.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    def values():
        for row in rows:
            out = []
            for name, default, conv in columns:
                value = row.get(name, default)
                out.append(conv(value) if conv is not None and value is not None else value)
            yield out

    with connection.cursor() as cursor:
        if sqlite:
            batch: list[list[Any]] = []
            for value in values():
                batch.append(value)
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
            return
        # PostgreSQL: COPY, several times faster than batched INSERTs.
        copy_sql = (
            f"COPY {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for value in values():
                copy.write_row(value)


def _serve(
    arrivals: np.ndarray, services: np.ndarray, counters: int
) -> tuple[np.ndarray, np.ndarray]:
    """First come first served over ``counters``: the start of each service (minutes)
    and the counter (1 …) that serves it."""
    free = [(0.0, c) for c in range(1, counters + 1)]
    heapq.heapify(free)
    starts = np.empty_like(arrivals)
    windows = np.empty(arrivals.size, dtype=int)
    for i, (arrive, service) in enumerate(zip(arrivals.tolist(), services.tolist(), strict=True)):
        soonest, counter = heapq.heappop(free)
        start = max(arrive, soonest)
        starts[i], windows[i] = start, counter
        heapq.heappush(free, (start + service, counter))
    return starts, windows


def counter_history_demo_seed(*, lg_code: str, days: int = 455, seed: int | None = None) -> int:
    """Write ``days`` days of synthetic counter history (up to yesterday, JST) into
    municipality ``lg_code``; returns the number of tickets written (0 when every day
    already had tickets)."""
    from machi.counter.models import Task, Ticket, TicketDay, Visit

    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    today = datetime.datetime.now(JST).date()
    start = today - datetime.timedelta(days=days)
    departments = _departments(lg_code)
    procedures = [p for p in PROCEDURES if p[2] in departments]
    with tenant_context(lg_code) as alias:
        calendar = municipality_calendar()
        history = generate(
            start=start, days=days, seed=int(rng.integers(0, 2**31)),
            events=demo_events(start, today), closed_days=calendar.closed,
        )  # fmt: skip
        seen = set(
            Ticket.objects.filter(issued_on__gte=start, issued_on__lt=today)
            .values_list("issued_on", flat=True)
            .distinct()
        )
        known_days = set(
            TicketDay.objects.filter(day__in=[r.day for r in history]).values_list("day", flat=True)
        )
        tickets: list[dict[str, Any]] = []
        ticket_days: list[dict[str, Any]] = []
        for row in history:
            if row.day in seen or row.total == 0:
                continue
            tickets.extend(_day_tickets(rng, row, calendar))
            if row.day not in known_days:
                ticket_days.append({"day": row.day, "last_number": row.total})
        if not tickets:
            return 0
        with transaction.atomic(using=alias):
            _insert(alias, TicketDay, ticket_days)
            _insert(alias, Ticket, tickets)
            if procedures:
                days_written = sorted({t["issued_on"] for t in tickets})
                ids = {
                    (day, number): pk
                    for pk, day, number in Ticket.objects.filter(
                        issued_on__gte=days_written[0], issued_on__lte=days_written[-1]
                    ).values_list("id", "issued_on", "number")
                }
                for ticket in tickets:
                    ticket["id"] = ids[(ticket["issued_on"], ticket["number"])]
                visits, tasks = _visits(rng, tickets, procedures, departments, today)
                _insert(alias, Visit, visits)
                codes = dict(
                    Visit.objects.filter(
                        public_code__in=[v["public_code"] for v in visits]
                    ).values_list("public_code", "id")
                )
                for task in tasks:
                    task["visit_id"] = codes[task.pop("visit_code")]
                _insert(alias, Task, tasks)
    return len(tickets)


def _day_tickets(rng: np.random.Generator, row, calendar) -> list[dict[str, Any]]:
    flags = calendar.flags(row.day)
    move_share = (
        MOVE_SEASON_MOVE_SHARE if flags["move_march"] or flags["move_april"] else PURPOSE_SHARES[0]
    )
    shares = np.array((move_share, *PURPOSE_SHARES[1:]))
    shares[1:] *= (1 - move_share) / shares[1:].sum()
    arrivals = np.concatenate(
        [
            hour * 60 + arrival_minutes(rng, hour, n)
            for hour, n in zip(HOURS, row.hourly, strict=True)
        ]
    )
    purposes = rng.choice(len(PURPOSES), size=arrivals.size, p=shares)
    medians = np.array([SERVICE_MINUTES[PURPOSES[p]] for p in purposes])
    services = medians * np.exp(rng.normal(0, SERVICE_SIGMA, size=arrivals.size))
    open_minutes = (17 * 60 + 15) - (8 * 60 + 30)
    counters = max(2, math.ceil(services.sum() / open_minutes / UTILISATION))
    starts, windows = _serve(arrivals, services, counters)
    calls = np.maximum(arrivals, starts - rng.uniform(0.3, 1.5, size=arrivals.size))
    issued = _moments(row.day, arrivals)
    called = _moments(row.day, calls)
    served = _moments(row.day, starts)
    finished = _moments(row.day, starts + services)
    return [
        {
            "issued_on": row.day,
            "number": n + 1,
            "purpose": PURPOSES[purposes[n]],
            "counter": f"{windows[n]}番窓口",
            "status": "done",
            "issued_at": issued[n],
            "called_at": called[n],
            "last_called_at": called[n],
            "call_count": 1,
            "served_at": served[n],
            "finished_at": finished[n],
        }
        for n in range(arrivals.size)
    ]


def _visits(rng, tickets, procedures, departments, today) -> tuple[list, list]:
    visits, tasks = [], []
    by_event = {
        event: [p for p in procedures if p[3] == event] for event in ("move_in", "move_out")
    }
    for ticket in tickets:
        if ticket["purpose"] != "move" or rng.random() >= VISIT_SHARE:
            continue
        event = "move_in" if rng.random() < 0.55 else "move_out"
        day, served, finished = ticket["issued_on"], ticket["served_at"], ticket["finished_at"]
        recent = (today - day).days <= OPEN_TASK_DAYS
        code = _public_code(rng)
        visits.append(
            {
                "public_code": code,
                "ticket_id": ticket["id"],
                "event_type": event,
                "event_date": day - datetime.timedelta(days=int(rng.integers(0, 10))),
                "status": "open" if recent else "closed",
                "opened_at": served,
                "closed_at": None if recent else finished + datetime.timedelta(days=3),
                "opened_by_username": "demo",
            }
        )
        choices = by_event[event]
        first = [p for p in choices if p[0].startswith("juki.")]
        others = [p for p in choices if not p[0].startswith("juki.")]
        count = min(len(others), int(rng.integers(1, 4)))
        picked = first + [others[i] for i in rng.choice(len(others), size=count, replace=False)]
        for procedure, title, department, _event in picked:
            at_counter = procedure.startswith("juki.")
            lag = datetime.timedelta(hours=float(rng.uniform(1, 72)))
            done = at_counter or not recent
            tasks.append(
                {
                    "visit_code": code,
                    "procedure_code": procedure,
                    "title": title,
                    "department": department,
                    "department_name": departments.get(department, ""),
                    "due": day + datetime.timedelta(days=14),
                    "status": "done" if done else "open",
                    "taken_at": (served if at_counter else finished + lag) if done else None,
                    "completed_at": (finished if at_counter else finished + lag * 1.5)
                    if done
                    else None,
                    "taken_by_username": "demo" if done else "",
                    "created_at": served,
                }
            )
    return visits, tasks

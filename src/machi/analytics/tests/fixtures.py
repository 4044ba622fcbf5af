"""A small municipality with hand-countable history, in a database of its own.

DuckDB reads the database through its own connection, so the fixture's rows must be
committed: the test databases' rows live in transactions that are rolled back and
DuckDB would never see them. The fixture therefore makes a scratch municipality
(``011002`` 札幌市: no other test uses it) whose database is created, migrated and
filled once per module, outside every test transaction, and dropped afterwards. Its
control row (for the pages) is written inside each test and rolled back with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from django.db import connections

from machi.analytics.duck import duck_close
from machi.tenancy.context import tenant_alias, tenant_context
from machi.tenancy.databases import (
    default_database_url,
    register_tenant_connection,
    unregister_tenant_connection,
)
from machi.tenancy.services import _create_database, municipality_migrate

LG_CODE = "011002"
JST = dt.timezone(dt.timedelta(hours=9))
MONDAY = dt.date(2026, 11, 2)
TUESDAY = dt.date(2026, 11, 3)
TODAY = dt.date(2026, 11, 20)


def at(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=JST)


def create() -> str:
    url = default_database_url(LG_CODE)
    _create_database(url)
    register_tenant_connection(LG_CODE, url)
    municipality_migrate(lg_code=LG_CODE)
    with tenant_context(LG_CODE):
        seed()
    return LG_CODE


def drop() -> None:
    duck_close(LG_CODE)
    settings_dict = connections.settings.get(tenant_alias(LG_CODE))
    unregister_tenant_connection(LG_CODE)
    if settings_dict is None:
        return
    if settings_dict["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(settings_dict["NAME"] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    with (
        contextlib.suppress(psycopg.OperationalError),
        psycopg.connect(
            host=settings_dict["HOST"],
            port=settings_dict["PORT"],
            user=settings_dict["USER"],
            dbname="postgres",
            autocommit=True,
        ) as conn,
    ):
        conn.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')


def seed() -> None:
    from machi.contact.models import Ticket as ContactTicket
    from machi.counter.models import PreApplication, Task, Ticket, Visit
    from machi.linkage.models import Delivery, OutboxEvent, Subscription
    from machi.requests.models import Area, Category, Request

    # --- visits: Mon 9時台 ×3, Mon 10時台 ×3, Tue 9時台 ×3, Tue 10時台 ×1 ---------------
    # events: move_in ×6, move_out ×3, birth ×1
    plan = [
        (at(MONDAY, 9, 5), "move_in"),
        (at(MONDAY, 9, 15), "move_in"),
        (at(MONDAY, 9, 45), "move_in"),
        (at(MONDAY, 10, 0), "move_in"),
        (at(MONDAY, 10, 30), "move_in"),
        (at(MONDAY, 10, 59), "move_in"),
        (at(TUESDAY, 9, 0), "move_out"),
        (at(TUESDAY, 9, 10), "move_out"),
        (at(TUESDAY, 9, 20), "move_out"),
        (at(TUESDAY, 10, 0), "birth"),
        # outside the tested period (the week before): counted only without a filter
        (at(MONDAY - dt.timedelta(days=7), 9, 0), "move_in"),
    ]
    visits = Visit.objects.bulk_create(
        Visit(
            public_code=f"V{n:05d}",
            event_type=event,
            event_date=opened.date(),
            opened_at=opened,
            status="closed",
        )
        for n, (opened, event) in enumerate(plan)
    )
    # tasks: 2 a move_in visit (12), 1 a move_out visit (3), 1 for the birth (1)
    tasks = []
    for visit in visits[:10]:
        count = {"move_in": 2, "move_out": 1, "birth": 1}[visit.event_type]
        for k in range(count):
            tasks.append((visit, k))
    # departments: 市民課 gets the first 8, 保険年金課 the rest (8)
    made = []
    for n, (visit, k) in enumerate(tasks):
        department, name = ("shimin", "市民課") if n < 8 else ("hoken_nenkin", "保険年金課")
        made.append(
            Task(
                visit=visit,
                procedure_code=f"p{k}",
                title="手続き",
                department=department,
                department_name=name,
                created_at=visit.opened_at,
                status="open",
            )
        )
    Task.objects.bulk_create(made)
    all_tasks = list(Task.objects.order_by("id"))
    # 市民課: 4 done after 1, 2, 3, 4 days; 4 open (due: 2 overdue, 1 within a week, 1 none)
    for task, days in zip(all_tasks[:4], [1, 2, 3, 4], strict=True):
        task.status = "done"
        task.completed_at = task.created_at + dt.timedelta(days=days)
    dues = [
        TODAY - dt.timedelta(days=3),
        TODAY - dt.timedelta(days=1),
        TODAY + dt.timedelta(days=5),
    ]
    for task, due in zip(all_tasks[4:7], dues, strict=True):
        task.due = due
    # 保険年金課: 8 open, all overdue
    for task in all_tasks[8:]:
        task.due = TODAY - dt.timedelta(days=10)
    Task.objects.bulk_update(all_tasks, ["status", "completed_at", "due"])

    # --- tickets ----------------------------------------------------------------------
    # waits (move): 10, 20, 30, 40 min; certificate: one ticket (5 min)
    # service: 1番窓口 10, 20 min; 2番窓口 15, 30, 5 min
    tickets = [
        ("move", at(MONDAY, 9, 0), 600, 60, 600, "1番窓口"),
        ("move", at(MONDAY, 9, 0), 1200, 0, 1200, "1番窓口"),
        ("move", at(MONDAY, 9, 5), 1800, 60, 900, "2番窓口"),
        ("move", at(MONDAY, 9, 30), 2400, 0, 1800, "2番窓口"),
        ("certificate", at(TUESDAY, 10, 0), 300, 0, 300, "2番窓口"),
    ]
    Ticket.objects.bulk_create(
        Ticket(
            issued_on=issued.date(),
            number=n + 1,
            purpose=purpose,
            counter=counter,
            status="done",
            issued_at=issued,
            called_at=issued + dt.timedelta(seconds=wait),
            served_at=issued + dt.timedelta(seconds=wait + gap),
            finished_at=issued + dt.timedelta(seconds=wait + gap + service),
        )
        for n, (purpose, issued, wait, gap, service, counter) in enumerate(tickets)
    )

    # --- pre-applications: 3 used on Monday's week (of 10 visits), 1 unused -----------
    PreApplication.objects.bulk_create(
        PreApplication(
            code=f"ACEFGH{n:02d}",
            navigator_input={"event": {"type": "move_in"}},
            created_at=at(MONDAY, 8),
            expires_at=at(MONDAY, 8) + dt.timedelta(days=30),
            used_at=at(MONDAY, 9, 10 * n) if n < 3 else None,
        )
        for n in range(4)
    )

    # --- linkage: 4 events on Monday, 1 on Tuesday; two subscriptions -----------------
    events = OutboxEvent.objects.bulk_create(
        OutboxEvent(seq=n + 1, type="jp.machi.test", source="/test", subject="", time=time)
        for n, time in enumerate(
            [at(MONDAY, 9), at(MONDAY, 10), at(MONDAY, 11), at(MONDAY, 12), at(TUESDAY, 9)]
        )
    )
    alpha = Subscription.objects.create(
        name="住基システム", url="https://a.example/", secret_sealed="x"
    )
    beta = Subscription.objects.create(
        name="税務システム", url="https://b.example/", secret_sealed="x"
    )
    deliveries = []
    # alpha: Monday's 4 delivered after 1, 2, 3, 10 s (attempts 1, 1, 2, 3)
    for event, lag, attempts in zip(events[:4], [1, 2, 3, 10], [1, 1, 2, 3], strict=True):
        deliveries.append(
            Delivery(
                subscription=alpha,
                event=event,
                seq=event.seq,
                status="delivered",
                attempts=attempts,
                created_at=event.time,
                delivered_at=event.time + dt.timedelta(seconds=lag),
            )
        )
    # beta: all 5 dead after 5 attempts
    for event in events:
        deliveries.append(
            Delivery(
                subscription=beta,
                event=event,
                seq=event.seq,
                status="dead",
                attempts=5,
                created_at=event.time,
            )
        )
    Delivery.objects.bulk_create(deliveries)

    # --- requests: 道路 ×4 (area 一丁目 ×3, none ×1), 公園 ×1 (一丁目) ------------------
    road, park = list(Category.objects.order_by("id"))[:2]
    area = Area.objects.create(name="北一条一丁目", kind="chome")
    Request.objects.bulk_create(
        Request(
            public_code=f"R{n:05d}",
            category=category,
            description="要望",
            area=req_area,
            routing="category",
            channel="web",
            requested_at=at(MONDAY, 9 + n),
        )
        for n, (category, req_area) in enumerate(
            [(road, area), (road, area), (road, area), (road, None), (park, area)]
        )
    )

    # --- contact center: phone 4 resolved (3 first contact), web 2 resolved (1) -------
    rows = [
        ("phone", True, 2, True, False),
        ("phone", True, 2, True, True),
        ("phone", True, 2, True, False),
        ("phone", False, 2, True, False),
        ("web", True, 3, False, False),
        ("web", False, 3, False, False),
    ]
    ContactTicket.objects.bulk_create(
        ContactTicket(
            number=f"C{n:05d}",
            channel=channel,
            subject="問い合わせ",
            state="resolved",
            priority=priority,
            created_at=at(MONDAY, 9),
            updated_at=at(MONDAY, 12),
            resolved_at=at(MONDAY, 12),
            first_contact_resolution=fcr,
            sla_first_response_breached_at=at(MONDAY, 10) if first else None,
            sla_resolution_breached_at=at(MONDAY, 11) if resolution else None,
        )
        for n, (channel, fcr, priority, first, resolution) in enumerate(rows)
    )

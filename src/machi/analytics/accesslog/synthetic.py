"""Realistic synthetic audit logs, with injectable scenarios for the five analyses.

The process (documented in docs/data.md, 不正アクセスの検知):

* ``staff`` clerks, each with a terminal of their own (``10.20.0.<n>``), a usual start
  (8:15–8:45) and end (17:15–18:00), working on the days the office is open (weekends,
  national holidays and 12/29–1/3 off) and absent 5 % of them. One in four clerks is a
  heavy reader (a registry back office: three times the work).
* A clerk's day: a sign-in (password, second factor; a mistyped password 5 % and a
  failed code 2 % of days), tasks spread over the working hours, a sign-out. Each task
  is a counter visit (a visit and a task for one resident, or a contact-center ticket
  for one in five) during which the clerk searches the registry and reads the
  resident's record one to three times, then completes the task. Overtime to 19:50 on
  10 % of days.
* Noise that real logs have: on 1 % of clerk-days a read at 20:00–20:40 (past the
  working hours), and 0.1 % of tasks also read a resident with no task of their own
  (a household member). These are what the false-positive rate measures.
* Scenarios (``inject=True``), on ``scenario_day`` (default: the last day), one per
  case, listed in :attr:`SyntheticLog.scenarios` with the analysis that must find it.

Residents are ``resident_count`` 宛名番号 ``S0000001``…; everything is seeded
(``random.Random(seed)``), so a log is reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from machi.japanese.business_time import is_closed_day

JST = dt.timezone(dt.timedelta(hours=9))
BASE_ID = 900_000
RETIRED_ID = BASE_ID + 99
ATTACKER_IP = "10.99.0.1"
SHARED_IP = "10.20.8.8"
STRANGE_IP = "10.20.9.9"


@dataclass(frozen=True)
class Clerk:
    actor_id: int
    username: str
    ip: str
    start: int  # minutes after midnight
    end: int
    heavy: bool


@dataclass(frozen=True)
class Scenario:
    name: str
    analysis: str
    day: dt.date
    actor_id: int | None = None  # the user it is about, or None (a terminal)
    subject: str = ""  # the terminal it is about


@dataclass
class SyntheticLog:
    date_from: dt.date
    date_to: dt.date
    clerks: list[Clerk]
    entries: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)  # with their one task
    tickets: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    disabled_ids: list[int] = field(default_factory=list)
    # Every user with an entry from a scenario (also those a scenario only touches).
    involved: set[int] = field(default_factory=set)

    @property
    def user_days(self) -> set[tuple[int, dt.date]]:
        return {
            (e["actor_id"], e["created_at"].astimezone(JST).date())
            for e in self.entries
            if e["actor_id"] is not None and e["action"] != "logout"
        }


def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=JST) + dt.timedelta(minutes=minutes)


class _Builder:
    def __init__(self, log: SyntheticLog, rng: random.Random, resident_count: int) -> None:
        self.log, self.rng, self.resident_count = log, rng, resident_count
        self.visit_no = 0
        self.ticket_no = 0

    def resident(self) -> str:
        return f"S{self.rng.randrange(1, self.resident_count + 1):07d}"

    def entry(self, clerk: Clerk | None, when: dt.datetime, action: str, **kw: Any) -> None:
        self.log.entries.append(
            {
                "created_at": when,
                "actor_id": kw.pop("actor_id", clerk.actor_id if clerk else None),
                "actor_username": kw.pop("username", clerk.username if clerk else ""),
                "action": action,
                "object_type": kw.pop("object_type", ""),
                "object_id": kw.pop("object_id", ""),
                "function": kw.pop("function", ""),
                "ip_address": kw.pop("ip", clerk.ip if clerk else ""),
                "user_agent": "Mozilla/5.0 (Windows NT 10.0) machi-synthetic",
                "detail": kw.pop("detail", {}),
            }
        )

    def read(self, clerk: Clerk, when: dt.datetime, atena: str, **kw: Any) -> None:
        kw.setdefault("function", "registry:resident")
        self.entry(clerk, when, "resident.viewed", object_type="resident", object_id=atena, **kw)

    def sign_in(self, clerk: Clerk, when: dt.datetime, **kw: Any) -> None:
        for action in ("login.password_ok", "login.mfa_ok"):
            self.entry(clerk, when, action, object_type="staff",
                       object_id=str(clerk.actor_id), function="accounts:login", **kw)  # fmt: skip
            when += dt.timedelta(seconds=20)

    def task(self, clerk: Clerk, when: dt.datetime, atena: str, *, phone: bool) -> None:
        rng = self.rng
        opened = when - dt.timedelta(minutes=rng.uniform(2, 15))
        done = when + dt.timedelta(minutes=rng.uniform(10, 40))
        if phone:
            self.ticket_no += 1
            self.log.tickets.append(
                {"number": f"SYN{self.ticket_no:08d}", "atena_number": atena,
                 "created_at": opened, "closed_at": done, "owner_id": clerk.actor_id}
            )  # fmt: skip
        else:
            self.visit_no += 1
            self.log.visits.append(
                {"public_code": f"S{self.visit_no:08d}", "atena": atena, "opened_at": opened,
                 "closed_at": done, "clerk": clerk}
            )  # fmt: skip
        self.entry(clerk, when, "resident.searched", object_type="resident",
                   function="registry:search", detail={"hits": 1})  # fmt: skip
        t = when
        for _ in range(rng.randint(1, 3)):
            t += dt.timedelta(seconds=rng.uniform(15, 300))
            self.read(clerk, t, atena)
        if rng.random() < 0.001:  # a household member read along, no task of their own
            self.read(clerk, t + dt.timedelta(seconds=30), self.resident())
        self.entry(clerk, done, "task.completed", object_type="task",
                   object_id=str(self.visit_no), function="counter:task")  # fmt: skip

    def day(self, clerk: Clerk, day: dt.date) -> None:
        rng = self.rng
        if rng.random() < 0.05:
            return
        start = clerk.start + rng.uniform(-10, 10)
        end = clerk.end + rng.uniform(-5, 20)
        if rng.random() < 0.10:
            end = rng.uniform(19 * 60, 19 * 60 + 50)
        if rng.random() < 0.05:
            self.entry(clerk, _at(day, start - 1), "login.failed", object_type="staff",
                       object_id=str(clerk.actor_id), function="accounts:login")  # fmt: skip
        if rng.random() < 0.02:
            self.entry(clerk, _at(day, start - 0.5), "login.mfa_failed", object_type="staff",
                       object_id=str(clerk.actor_id), function="accounts:login")  # fmt: skip
        self.sign_in(clerk, _at(day, start))
        tasks = rng.randint(6, 14) * (3 if clerk.heavy else 1)
        times = sorted(rng.uniform(start + 10, end - 45) for _ in range(tasks))
        for minute in times:
            self.task(clerk, _at(day, minute), self.resident(), phone=rng.random() < 0.2)
        if rng.random() < 0.01:  # a late read past the working hours
            self.read(clerk, _at(day, rng.uniform(20 * 60, 20 * 60 + 40)), self.resident())
        self.entry(clerk, _at(day, max(end, times[-1] + 45 if times else end) + 1), "logout",
                   object_type="staff", object_id=str(clerk.actor_id))  # fmt: skip


def _inject(b: _Builder, day: dt.date, holiday: dt.date | None) -> None:
    log, rng = b.log, b.rng
    clerks = log.clerks
    add = log.scenarios.append

    # 1. Off hours: reads at 23:05 of residents whose tasks are open (no other reason to
    #    flag them), and a sign-in on a national holiday.
    c = clerks[0]
    b.sign_in(c, _at(day, 23 * 60))
    for k in range(4):
        atena = b.resident()
        b.task(c, _at(day, 23 * 60 + 5 + k * 3), atena, phone=False)
    add(Scenario("late_night", "off_hours", day, c.actor_id))
    if holiday is not None:
        c = clerks[1]
        b.sign_in(c, _at(holiday, 10 * 60))
        b.task(c, _at(holiday, 10 * 60 + 5), b.resident(), phone=False)
        add(Scenario("holiday", "off_hours", holiday, c.actor_id))

    # 2. Mass access: 45 residents in 6 minutes.
    c = clerks[2]
    for k in range(45):
        b.read(c, _at(day, 14 * 60 + k * 8 / 60), b.resident(), function="registry:search")
    add(Scenario("mass", "mass_access", day, c.actor_id))

    # 3. No business reason: two residents read in working hours, no task, no visit.
    c = clerks[3]
    for k in range(2):
        b.read(c, _at(day, 11 * 60 + k * 2), f"S9{rng.randrange(100000, 999999):06d}")
    add(Scenario("curious", "no_reason", day, c.actor_id))

    # 4. A disabled account signs in; an account used from a second terminal at once;
    #    one terminal used by three accounts within minutes.
    retired = Clerk(RETIRED_ID, "syn-retired", "10.20.0.99", 0, 0, False)
    log.disabled_ids.append(RETIRED_ID)
    b.sign_in(retired, _at(day, 10 * 60))
    b.task(retired, _at(day, 10 * 60 + 2), b.resident(), phone=False)
    add(Scenario("disabled", "account", day, RETIRED_ID))
    c = clerks[4]
    b.sign_in(c, _at(day, 13 * 60), ip=STRANGE_IP)
    b.task(c, _at(day, 13 * 60 + 1), b.resident(), phone=False)
    b.entry(c, _at(day, 13 * 60 + 2), "resident.searched", object_type="resident")
    add(Scenario("shared_id", "account", day, c.actor_id))
    for k, c in enumerate(clerks[5:8]):
        b.sign_in(c, _at(day, 15 * 60 + k * 2), ip=SHARED_IP)
    add(Scenario("shared_terminal", "account", day, None, SHARED_IP))

    # 5. Failed logins: a guessed password until the lockout; failed second factors;
    #    a terminal trying passwords against several accounts at night.
    c = clerks[8]
    for k in range(7):
        b.entry(c, _at(day, 12 * 60 + k * 0.3), "login.failed", object_type="staff",
                object_id=str(c.actor_id), ip=STRANGE_IP)  # fmt: skip
    b.entry(c, _at(day, 12 * 60 + 3), "login.locked_out", object_type="staff",
            object_id=str(c.actor_id), ip=STRANGE_IP)  # fmt: skip
    add(Scenario("guessing", "failed_login", day, c.actor_id))
    c = clerks[9]
    for k in range(4):
        b.entry(c, _at(day, 16 * 60 + k * 0.5), "login.mfa_failed", object_type="staff",
                object_id=str(c.actor_id))  # fmt: skip
    add(Scenario("mfa", "failed_login", day, c.actor_id))
    for k in range(6):
        c = clerks[10 + k % 3]
        b.entry(
            c,
            _at(day, 2 * 60 + k * 0.2),
            "login.failed",
            object_type="staff",
            object_id=str(c.actor_id),
            ip=ATTACKER_IP,
        )
    add(Scenario("spraying", "failed_login", day, None, ATTACKER_IP))


def synthetic_log(
    *,
    date_from: dt.date,
    date_to: dt.date,
    staff: int = 16,
    resident_count: int = 3000,
    seed: int = 15,
    inject: bool = True,
    scenario_day: dt.date | None = None,
) -> SyntheticLog:
    """A log of ``staff`` clerks over the dates (JST, both included); see the module."""
    if staff < 13 and inject:
        raise ValueError("the scenarios need at least 13 clerks")
    rng = random.Random(seed)
    clerks = [
        Clerk(
            BASE_ID + n,
            f"syn-clerk{n:02d}",
            f"10.20.0.{n}",
            int(rng.uniform(8 * 60 + 15, 8 * 60 + 45)),
            int(rng.uniform(17 * 60 + 15, 18 * 60)),
            n % 4 == 3,
        )
        for n in range(1, staff + 1)
    ]
    log = SyntheticLog(date_from, date_to, clerks)
    b = _Builder(log, rng, resident_count)
    day = date_from
    holiday = None
    while day <= date_to:
        if is_closed_day(day):
            if day.weekday() < 5:
                holiday = day
        else:
            for clerk in clerks:
                b.day(clerk, day)
        day += dt.timedelta(days=1)
    if inject:
        before = len(log.entries)
        _inject(b, scenario_day or date_to, holiday)
        log.involved = {e["actor_id"] for e in log.entries[before:] if e["actor_id"]}
    log.entries.sort(key=lambda e: e["created_at"])
    return log


def synthetic_write(log: SyntheticLog, *, using: str | None = None) -> int:
    """Write the log (audit entries chained onto the municipality's log, visits and their
    tasks, contact tickets) into the database of the municipality in force. Returns the
    number of audit entries. Only for scratch and demo municipalities."""
    from django.db import transaction

    from machi.audit.chain import GENESIS_HASH, entry_hash
    from machi.audit.models import AuditChainHead, AuditEntry
    from machi.contact.models import Ticket as ContactTicket
    from machi.counter.models import Task, Visit
    from machi.tenancy.context import current_tenant_alias

    using = using or current_tenant_alias()
    with transaction.atomic(using=using):
        visits = Visit.objects.using(using).bulk_create(
            Visit(
                public_code=v["public_code"],
                event_type="certificate",
                event_date=v["opened_at"].astimezone(JST).date(),
                atena_numbers=[v["atena"]],
                opened_at=v["opened_at"],
                closed_at=v["closed_at"],
                status="closed",
                opened_by_id=v["clerk"].actor_id,
                opened_by_username=v["clerk"].username,
            )
            for v in log.visits
        )
        Task.objects.using(using).bulk_create(
            Task(
                visit=visit,
                procedure_code="juminhyo",
                title="住民票の写しの交付",
                department="shimin",
                department_name="市民課",
                person_atena=v["atena"],
                status="done",
                taken_by_id=v["clerk"].actor_id,
                taken_by_username=v["clerk"].username,
                taken_at=v["opened_at"],
                completed_at=v["closed_at"],
                created_at=v["opened_at"],
            )
            for visit, v in zip(visits, log.visits, strict=True)
        )
        ContactTicket.objects.using(using).bulk_create(
            ContactTicket(
                number=t["number"],
                channel="phone",
                subject="住民票について",
                state="closed",
                owner_id=t["owner_id"],
                atena_number=t["atena_number"],
                created_at=t["created_at"],
                updated_at=t["closed_at"],
                closed_at=t["closed_at"],
            )
            for t in log.tickets
        )
        head = AuditChainHead.objects.using(using).select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.using(using).create(
                pk=1, last_seq=0, last_hash=GENESIS_HASH
            )
        seq, prev = head.last_seq, head.last_hash
        rows = []
        for e in log.entries:
            seq += 1
            fields = {
                **e, "seq": seq, "purpose": "", "my_number_shown": False,
                "my_number_changed": False,
            }  # fmt: skip
            digest = entry_hash(fields, prev)
            rows.append(AuditEntry(**fields, prev_hash=prev, entry_hash=digest))
            prev = digest
        AuditEntry.objects.using(using).bulk_create(rows, batch_size=2000)
        head.last_seq, head.last_hash = seq, prev
        head.save(using=using, update_fields=["last_seq", "last_hash"])
    return len(log.entries)

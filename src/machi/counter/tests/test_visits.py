"""Visits and department tasks: creation from the navigator, the task life cycle and its
permissions, events and audit, visit closing, the public status selectors, metrics."""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.counter import selectors
from machi.counter.models import Task, TaskStatus, Visit, VisitStatus
from machi.counter.services import (
    TaskError,
    task_complete,
    task_mark_not_needed,
    task_take,
    tasks_create,
    ticket_issue,
    visit_open,
)
from machi.counter.services.visits import (
    CODE_ALPHABET,
    public_code_generate,
    public_code_normalise,
)
from machi.linkage.models import OutboxEvent
from machi.procedures.selectors import navigator_run
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

JST = ZoneInfo("Asia/Tokyo")
A, B = "131016", "271403"
EVENT_DATE = datetime.date(2026, 4, 3)

# Navigator output for a move in of p1 (householder, 66) and p2 (child): shimin,
# hoken_nenkin, kaigo and kyoiku tasks, one household-level (kankyo).
PROCEDURES = [
    {"code": "juki.move_in", "title": "転入届", "department": "shimin", "person": "p1",
     "due": "2026-04-17", "reason": "転入した方"},
    {"code": "juki.move_in", "title": "転入届", "department": "shimin", "person": "p2",
     "due": "2026-04-17", "reason": "転入した方"},
    {"code": "kokuho.enroll", "title": "国民健康保険の加入", "department": "hoken_nenkin",
     "person": "p1", "due": "2026-04-17", "reason": "国保に加入する方"},
    {"code": "kaigo.enroll", "title": "介護保険の資格取得", "department": "kaigo",
     "person": "p1", "due": "2026-04-17", "reason": "65歳以上の方"},
    {"code": "dog.transfer_in", "title": "犬の登録事項変更（転入）", "department": "kankyo",
     "person": None, "due": "2026-05-03", "reason": "犬を飼っている"},
]  # fmt: skip
ATENA = {"p1": "000000000011", "p2": "000000000029"}
NAVIGATOR_INPUT = {"event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2"]}}


@pytest.fixture
def in_a(municipality_a):
    with tenant_context(A):
        yield


@pytest.fixture
def shimin(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.DEPARTMENT_STAFF), username="shimin-a")


@pytest.fixture
def hoken(make_staff, municipality_a):
    return make_staff(municipality_a, ("hoken_nenkin", Role.DEPARTMENT_STAFF), username="hoken-a")


@pytest.fixture
def everyone(make_staff, municipality_a):
    """Supervisor of every department the fixtures' tasks go to."""
    departments = ("shimin", "hoken_nenkin", "kaigo", "kankyo", "kosodate")
    return make_staff(
        municipality_a, *[(d, Role.SUPERVISOR) for d in departments], username="boss-a"
    )


def open_visit(procedures=PROCEDURES, **kwargs) -> tuple[Visit, list[Task]]:
    visit = visit_open(
        event_type="move_in",
        event_date=EVENT_DATE,
        navigator_input=NAVIGATOR_INPUT,
        atena_numbers=sorted(ATENA.values()),
        **kwargs,
    )
    tasks = tasks_create(visit=visit, procedures=procedures, person_atena=ATENA)
    return visit, tasks


def events(type_prefix: str = "jp.machi.") -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type__startswith=type_prefix).order_by("seq"))


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def by_code(tasks: list[Task], code: str, person: str | None = None) -> Task:
    return next(t for t in tasks if t.procedure_code == code and t.person_label == (person or ""))


# --- public codes --------------------------------------------------------------------------


def test_public_codes_are_grouped_typable_and_normalised():
    codes = {public_code_generate() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 12 and code[4] == code[9] == "-"
        assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
    code = next(iter(codes))
    assert public_code_normalise(code.lower().replace("-", " ")) == code
    assert public_code_normalise(code.replace("-", "")) == code
    # ambiguous characters, wrong lengths and junk are no code
    for bad in ("", "1", code + "X", "O0O0-I1I1-LL", "../../etc", "ＡＢＣＤ"):
        assert public_code_normalise(bad) is None


# --- creation ------------------------------------------------------------------------------


def test_visit_and_one_task_per_navigator_entry_with_events(in_a, make_staff, municipality_a):
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    ticket = ticket_issue(purpose="move")
    visit, tasks = open_visit(ticket=ticket, actor=clerk)

    visit = fresh(visit)
    assert visit.status == VisitStatus.OPEN and visit.closed_at is None
    assert visit.ticket == ticket and visit.event_date == EVENT_DATE
    assert visit.atena_numbers == sorted(ATENA.values())
    assert visit.navigator_input == NAVIGATOR_INPUT
    assert (visit.opened_by_id, visit.opened_by_username) == (clerk.pk, clerk.username)

    assert len(tasks) == len(PROCEDURES)
    rows = list(
        Task.objects.order_by("id").values_list(
            "procedure_code", "department", "department_name", "person_label", "person_atena",
            "due", "status",
        )
    )  # fmt: skip
    assert rows == [
        ("juki.move_in", "shimin", "市民課", "p1", ATENA["p1"], datetime.date(2026, 4, 17), "open"),
        ("juki.move_in", "shimin", "市民課", "p2", ATENA["p2"], datetime.date(2026, 4, 17), "open"),
        ("kokuho.enroll", "hoken_nenkin", "保険年金課", "p1", ATENA["p1"],
         datetime.date(2026, 4, 17), "open"),
        ("kaigo.enroll", "kaigo", "介護保険課", "p1", ATENA["p1"], datetime.date(2026, 4, 17),
         "open"),
        ("dog.transfer_in", "kankyo", "環境衛生課", "", "", datetime.date(2026, 5, 3), "open"),
    ]  # fmt: skip
    kaigo = by_code(tasks, "kaigo.enroll", "p1")
    assert fresh(kaigo).reason == "65歳以上の方"
    # forms come from the catalogue by procedure code
    assert fresh(kaigo).forms == ["kaigo_shikaku_shutoku_todoke"]

    created = events("jp.machi.task.created")
    assert [e.subject for e in created] == [str(t.pk) for t in tasks]
    assert created[2].data == {
        "task_id": tasks[2].pk,
        "visit": visit.public_code,
        "procedure_code": "kokuho.enroll",
        "department": "hoken_nenkin",
        "due": "2026-04-17",
    }
    assert created[0].source == f"/municipalities/{A}"
    assert not events("jp.machi.visit.closed")

    audit = list(
        AuditEntry.objects.filter(object_type="visit").values_list(
            "action", "object_id", "actor_username", "detail"
        )
    )
    assert audit[0][:3] == ("visit.opened", visit.public_code, clerk.username)
    assert audit[0][3]["ticket"] == ticket.label
    assert audit[1][0] == "task.created"
    assert audit[1][3]["tasks"] == [t.pk for t in tasks]


def test_tasks_from_the_real_navigator(in_a):
    data = {
        "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1"]},
        "persons": [
            {"id": "p1", "birth_date": "1950-01-01", "householder": True, "insurance": "kouki"}
        ],
        "answers": {"has_dog": True},
    }
    procedures = navigator_run(data=data)["procedures"]
    visit = visit_open(
        event_type="move_in",
        event_date=EVENT_DATE,
        navigator_input=data,
        atena_numbers=[ATENA["p1"]],
    )
    tasks = tasks_create(visit=visit, procedures=procedures, person_atena={"p1": ATENA["p1"]})
    assert [(t.procedure_code, t.person_atena) for t in tasks] == [
        (p["code"], ATENA["p1"] if p["person"] else "") for p in procedures
    ]
    assert {t.department for t in tasks} >= {"shimin", "hoken_nenkin", "kaigo", "kankyo"}


def test_a_visit_without_procedures_closes_at_once(in_a):
    visit, tasks = open_visit(procedures=[])
    assert tasks == []
    visit = fresh(visit)
    assert visit.status == VisitStatus.CLOSED and visit.closed_at is not None
    closed = events("jp.machi.visit.closed")
    assert [(e.subject, e.data["tasks_done"]) for e in closed] == [(visit.public_code, 0)]


def test_bad_navigator_entries_write_nothing(in_a):
    visit = visit_open(
        event_type="move_in", event_date=EVENT_DATE, navigator_input={}, atena_numbers=[]
    )
    bad = [*PROCEDURES[:2], {"code": "x", "title": "x", "department": "", "person": None}]
    with pytest.raises(TaskError):
        tasks_create(visit=visit, procedures=bad, person_atena=ATENA)
    with pytest.raises(TaskError):
        tasks_create(visit=visit, procedures=[{**PROCEDURES[0], "due": "2026-13-01"}],
                     person_atena=ATENA)  # fmt: skip
    assert not Task.objects.exists() and not events("jp.machi.task.")


def test_visit_open_needs_an_event(in_a):
    with pytest.raises(TaskError):
        visit_open(event_type="", event_date=EVENT_DATE, navigator_input={}, atena_numbers=[])
    with pytest.raises(TaskError):
        visit_open(event_type="birth", event_date="2026-04-03", navigator_input={},
                   atena_numbers=[])  # fmt: skip
    assert not Visit.objects.exists()


# --- working tasks ---------------------------------------------------------------------------


def test_take_then_complete(in_a, shimin):
    visit, tasks = open_visit()
    task = by_code(tasks, "juki.move_in", "p1")
    taken = task_take(task=task, actor=shimin)
    assert (taken.status, taken.taken_by_id, taken.taken_by_username) == (
        TaskStatus.TAKEN,
        shimin.pk,
        "shimin-a",
    )
    assert taken.taken_at is not None and taken.completed_at is None
    assert not events("jp.machi.task.completed")

    done = task_complete(task=taken, actor=shimin)
    assert fresh(done).status == TaskStatus.DONE and fresh(done).completed_at is not None
    completed = events("jp.machi.task.completed")
    assert [e.subject for e in completed] == [str(task.pk)]
    assert completed[0].data == {
        "task_id": task.pk,
        "visit": visit.public_code,
        "procedure_code": "juki.move_in",
        "department": "shimin",
        "outcome": "done",
    }
    audit = list(
        AuditEntry.objects.filter(object_type="task").values_list(
            "action", "object_id", "actor_username"
        )
    )
    assert audit == [
        ("task.taken", str(task.pk), "shimin-a"),
        ("task.completed", str(task.pk), "shimin-a"),
    ]
    # the visit is still open: other tasks wait
    assert fresh(visit).status == VisitStatus.OPEN


def test_complete_without_taking_records_who_handled_it(in_a, shimin):
    _, tasks = open_visit()
    done = task_complete(task=tasks[0], actor=shimin)
    assert (done.status, done.taken_by_username) == (TaskStatus.DONE, "shimin-a")
    assert done.taken_at is not None


def test_refused_transitions(in_a, shimin, make_staff, municipality_a):
    colleague = make_staff(municipality_a, ("shimin", Role.DEPARTMENT_STAFF), username="col-a")
    _, tasks = open_visit()
    task = task_take(task=tasks[0], actor=shimin)
    with pytest.raises(TaskError, match="shimin-a"):
        task_take(task=task, actor=colleague)
    # a colleague of the department may finish it
    task_complete(task=task, actor=colleague)
    for action in (
        lambda: task_take(task=task, actor=shimin),
        lambda: task_complete(task=task, actor=shimin),
        lambda: task_mark_not_needed(task=task, reason="x", actor=shimin),
    ):
        with pytest.raises(TaskError, match="完了"):
            action()
    assert fresh(task).taken_by_username == "shimin-a"
    assert len(events("jp.machi.task.completed")) == 1


def test_not_needed_needs_a_reason(in_a, shimin):
    _, tasks = open_visit()
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(TaskError):
            task_mark_not_needed(task=tasks[0], reason=reason, actor=shimin)
    assert fresh(tasks[0]).status == TaskStatus.OPEN
    task = task_mark_not_needed(task=tasks[0], reason="  既に手続き済み  ", actor=shimin)
    task = fresh(task)
    assert (task.status, task.not_needed_reason) == (TaskStatus.NOT_NEEDED, "既に手続き済み")
    event = events("jp.machi.task.completed")[0]
    assert event.data["outcome"] == "not_needed"
    # the free-text reason stays out of the event and the audit entry
    assert "既に手続き済み" not in json.dumps(event.data, ensure_ascii=False)
    entry = AuditEntry.objects.get(action="task.not_needed")
    assert "既に手続き済み" not in json.dumps(entry.detail, ensure_ascii=False)


def test_other_departments_tasks_are_refused_and_nothing_changes(
    in_a, hoken, make_staff, municipality_a
):
    _, tasks = open_visit()
    shimin_task = by_code(tasks, "juki.move_in", "p1")
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    anonymous = None
    for actor in (hoken, admin, anonymous):
        for action in (
            lambda who: task_take(task=shimin_task, actor=who),
            lambda who: task_complete(task=shimin_task, actor=who),
            lambda who: task_mark_not_needed(task=shimin_task, reason="x", actor=who),
        ):
            with pytest.raises(PermissionDenied):
                action(actor)
    assert fresh(shimin_task).status == TaskStatus.OPEN
    assert not events("jp.machi.task.completed")
    assert not AuditEntry.objects.filter(object_type="task").exists()
    # their own department's task is fine
    task_take(task=by_code(tasks, "kokuho.enroll", "p1"), actor=hoken)


def test_staff_of_another_municipality_are_refused(in_a, make_staff, municipality_b):
    staff_b = make_staff(municipality_b, ("shimin", Role.SUPERVISOR))
    _, tasks = open_visit()
    with pytest.raises(PermissionDenied):
        task_complete(task=tasks[0], actor=staff_b)
    assert fresh(tasks[0]).status == TaskStatus.OPEN


def test_the_visit_closes_after_its_last_task_once(in_a, everyone):
    visit, tasks = open_visit()
    for task in tasks[:-1]:
        task_complete(task=task, actor=everyone)
        assert fresh(visit).status == VisitStatus.OPEN
    task_mark_not_needed(task=tasks[-1], reason="犬は飼っていない", actor=everyone)
    visit = fresh(visit)
    assert visit.status == VisitStatus.CLOSED and visit.closed_at is not None
    closed = events("jp.machi.visit.closed")
    assert len(closed) == 1
    assert closed[0].subject == visit.public_code
    assert closed[0].data == {
        "visit": visit.public_code,
        "event_type": "move_in",
        "event_date": "2026-04-03",
        "tasks_done": len(tasks) - 1,
        "tasks_not_needed": 1,
    }
    assert AuditEntry.objects.filter(action="visit.closed", object_id=visit.public_code).count()
    # the closing event comes after the last task's completion
    types = [e.type for e in events()]
    assert types[-2:] == ["jp.machi.task.completed", "jp.machi.visit.closed"]


def test_events_and_audit_hold_no_names(in_a, everyone):
    _, tasks = open_visit()
    for task in tasks:
        task_complete(task=task, actor=everyone)
    text = json.dumps(
        [e.data for e in events()]
        + list(AuditEntry.objects.filter(object_type__in=("visit", "task")).values_list(
            "detail", flat=True)),
        ensure_ascii=False,
    )  # fmt: skip
    for forbidden in ("転入した方", "65歳以上", "犬を飼って"):  # reasons may describe people
        assert forbidden not in text
    for event in events("jp.machi.task."):
        assert set(event.data) <= {
            "task_id", "visit", "procedure_code", "department", "due", "outcome",
        }  # fmt: skip


# --- selectors ---------------------------------------------------------------------------------


def test_department_queue_oldest_first(in_a, shimin, time_machine):
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, tzinfo=JST), tick=False)
    first, first_tasks = open_visit()
    time_machine.move_to(datetime.datetime(2026, 4, 6, 10, tzinfo=JST), tick=False)
    second, _ = open_visit()
    queue = list(selectors.department_tasks(department="shimin"))
    assert [(t.visit_id, t.person_label) for t in queue] == [
        (first.pk, "p1"), (first.pk, "p2"), (second.pk, "p1"), (second.pk, "p2"),
    ]  # fmt: skip
    task_take(task=first_tasks[0], actor=shimin)
    task_complete(task=first_tasks[1], actor=shimin)
    assert [t.status for t in selectors.department_tasks(department="shimin")] == [
        "taken", "open", "open",
    ]  # fmt: skip
    assert [t.pk for t in selectors.department_tasks(department="shimin", statuses=["done"])] == [
        first_tasks[1].pk
    ]
    assert not selectors.department_tasks(department="zeimu").exists()


def test_visit_status_shows_no_personal_data(in_a, shimin):
    visit, tasks = open_visit()
    task_take(task=tasks[0], actor=shimin)
    task_mark_not_needed(task=tasks[1], reason="x", actor=shimin)
    assert selectors.visit_by_public_code(code=visit.public_code.lower()) == visit
    assert selectors.visit_by_public_code(code="XXXX-XXXX-XX") is None
    assert selectors.visit_by_public_code(code="nonsense") is None
    with CaptureQueriesContext(connections[tenant_alias(A)]) as queries:
        rows = selectors.visit_status(visit=visit)
    assert len(queries) == 1
    assert [(r["title"], r["department"], r["person"], r["status_label"]) for r in rows] == [
        ("転入届", "市民課", 1, "対応中"),
        ("転入届", "市民課", 2, "不要"),
        ("国民健康保険の加入", "保険年金課", 1, "受付済"),
        ("介護保険の資格取得", "介護保険課", 1, "受付済"),
        ("犬の登録事項変更（転入）", "環境衛生課", None, "受付済"),
    ]
    text = json.dumps(rows, default=str, ensure_ascii=False)
    for secret in (*ATENA.values(), "p1", "65歳以上", "shimin-a"):
        assert secret not in text


def test_codes_of_one_municipality_are_unknown_in_another(municipality_a, municipality_b):
    with tenant_context(A):
        visit, _ = open_visit()
    with tenant_context(B):
        assert selectors.visit_by_public_code(code=visit.public_code) is None
        assert not Task.objects.exists()


# --- metrics -------------------------------------------------------------------------------


def test_task_and_visit_metrics(in_a, everyone, time_machine):
    day = datetime.date(2026, 4, 20)
    time_machine.move_to(datetime.datetime(2026, 4, 19, 16, tzinfo=JST), tick=False)
    open_visit()  # yesterday: 5 tasks in 4 departments, still pending
    time_machine.move_to(datetime.datetime(2026, 4, 20, 9, tzinfo=JST), tick=False)
    _, tasks = open_visit()  # 4 departments
    open_visit(procedures=PROCEDURES[:2])  # shimin only
    open_visit(procedures=[])  # nothing to do
    task_take(task=by_code(tasks, "kokuho.enroll", "p1"), actor=everyone)
    task_complete(task=by_code(tasks, "juki.move_in", "p1"), actor=everyone)
    task_mark_not_needed(task=by_code(tasks, "dog.transfer_in"), reason="x", actor=everyone)

    with CaptureQueriesContext(connections[tenant_alias(A)]) as queries:
        metrics = selectors.department_task_metrics(day=day)
    assert len(queries) == 1
    rows = {
        r.department: (r.name, r.open, r.taken, r.overdue, r.done, r.not_needed)
        for r in metrics.rows
    }
    # shimin: yesterday's 2 + today's 1 left + single's 2 open; the 17th deadline is past
    assert rows == {
        "shimin": ("市民課", 5, 0, 5, 1, 0),
        "hoken_nenkin": ("保険年金課", 1, 1, 2, 0, 0),
        "kaigo": ("介護保険課", 2, 0, 2, 0, 0),
        "kankyo": ("環境衛生課", 1, 0, 0, 0, 1),
    }
    assert metrics.pending == 10
    assert metrics.rows[0].department == "shimin"  # the longest queue first
    assert metrics.rows[0].oldest == datetime.datetime(2026, 4, 19, 16, tzinfo=JST)

    with CaptureQueriesContext(connections[tenant_alias(A)]) as queries:
        visits = selectors.visit_counter_metrics(day=day)
    assert len(queries) == 1
    assert visits.visits == 3
    assert visits.by_departments == {4: 1, 1: 1, 0: 1}
    assert visits.multi_counter == 1
    assert visits.distribution()[:4] == [("0", 1), ("1", 1), ("2", 0), ("3", 0)]
    assert selectors.visit_counter_metrics(day=datetime.date(2026, 4, 19)).multi_counter == 1
    assert selectors.visit_counter_metrics(day=datetime.date(2026, 4, 21)).visits == 0


def test_metric_sections_are_registered(in_a):
    keys = [s.key for s in selectors.metric_sections(day=datetime.date(2026, 4, 20))]
    assert keys[-2:] == ["tasks", "visits"]

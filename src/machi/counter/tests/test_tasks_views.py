"""The department work-queue page, its buttons, the resident's public status page and
the metrics sections on the supervisors' page."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.counter.models import Task, TaskStatus, Visit, VisitStatus
from machi.counter.services import task_take, tasks_create, visit_open
from machi.linkage.models import OutboxEvent
from machi.registry.services import Address, Filing, Person, resident_move_in
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
TASKS_URL = f"/{A}/counter/tasks/"
HTMX = {"HTTP_HX_REQUEST": "true"}
NAME, NAME2 = "髙橋 一郎", "髙橋 花子"


def procedures(*departments: str, person: str | None = "p1") -> list[dict]:
    return [
        {
            "code": f"{d}.proc",
            "title": f"{d}の手続き",
            "department": d,
            "person": person,
            "due": "2026-04-17",
            "reason": "理由",
        }
        for d in departments
    ]


@pytest.fixture
def residents(municipality_a):
    with tenant_context(A):
        people = resident_move_in(
            persons=[
                Person(
                    name=NAME,
                    kana="タカハシ イチロウ",
                    birth_date="1960-05-10",
                    relationship="世帯主",
                    sex="1",
                ),
                Person(
                    name=NAME2,
                    kana="タカハシ ハナコ",
                    birth_date="1962-07-01",
                    relationship="妻",
                    sex="2",
                ),
            ],
            address=Address(
                prefecture="東京都",
                city="千代田区",
                machiaza="千代田",
                banchi="1-1",
                postal_code="1000001",
            ),
            filing=Filing(effective_on="2026-04-03", filed_on=datetime.date(2026, 4, 6)),
        )
    return {"p1": people[0].atena_number, "p2": people[1].atena_number}


def make_visit(residents, procedure_list, lg_code=A) -> tuple[Visit, list[Task]]:
    with tenant_context(lg_code):
        visit = visit_open(
            event_type="move_in",
            event_date=datetime.date(2026, 4, 3),
            navigator_input={},
            atena_numbers=sorted(residents.values()),
        )
        return visit, tasks_create(visit=visit, procedures=procedure_list, person_atena=residents)


@pytest.fixture
def shimin_staff(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.DEPARTMENT_STAFF), username="shimin-a")


def fresh(task: Task) -> Task:
    with tenant_context(A):
        return Task.objects.get(pk=task.pk)


# --- the work queue -----------------------------------------------------------------------------


def test_queue_shows_only_own_departments_oldest_first(
    residents, shimin_staff, signed_in, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 4, 20, 9, 0, tzinfo=datetime.UTC), tick=False)
    make_visit(residents, procedures("shimin", "kosodate"))
    make_visit(residents, [{**procedures("shimin")[0], "code": "later.proc", "due": None,
                            "title": "後の手続き", "person": "p2"}])  # fmt: skip
    page = signed_in(shimin_staff).get(TASKS_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "shimin" in html and "shimin.proc" not in html  # titles, not codes
    assert html.index("shiminの手続き") < html.index("後の手続き")
    assert "kosodateの手続き" not in html
    # the residents: name linked to their page, atena number shown
    assert NAME in html and NAME2 in html
    assert f'href="/{A}/residents/{residents["p1"]}/"' in html
    assert residents["p2"] in html
    # deadlines: the 17th is past on the 20th
    assert "令和8年4月17日" in html and "期限切れ" in html and "task-overdue" in html
    # no department selector with one department
    assert "task-departments" not in html
    # the listing is audited (atena numbers, no names)
    with tenant_context(A):
        entry = AuditEntry.objects.get(action="resident.listed")
    assert entry.actor_username == "shimin-a"
    assert entry.detail == {"atena_numbers": sorted(residents.values())}


def test_department_selector_for_staff_of_several(residents, make_staff, municipality_a, signed_in):
    staff = make_staff(
        municipality_a, ("shimin", Role.DEPARTMENT_STAFF), ("kosodate", Role.SUPERVISOR)
    )
    make_visit(residents, procedures("shimin", "kosodate", "zeimu"))
    client = signed_in(staff)
    html = client.get(TASKS_URL).content.decode()
    assert "task-departments" in html and "?department=kosodate" in html
    assert "shiminの手続き" in html and "kosodateの手続き" not in html
    html = client.get(TASKS_URL + "?department=kosodate").content.decode()
    assert "kosodateの手続き" in html and "shiminの手続き" not in html
    # a department they do not belong to falls back to their first
    html = client.get(TASKS_URL + "?department=zeimu").content.decode()
    assert "zeimuの手続き" not in html and "shiminの手続き" in html


def test_household_level_task_has_no_person(residents, shimin_staff, signed_in):
    make_visit(residents, procedures("shimin", person=None))
    html = signed_in(shimin_staff).get(TASKS_URL).content.decode()
    assert "shiminの手続き" in html and "世帯" in html and NAME not in html


def test_query_count_does_not_grow_with_the_queue(residents, shimin_staff, signed_in):
    client = signed_in(shimin_staff)
    make_visit(residents, procedures("shimin"))

    def count() -> int:
        with (
            CaptureQueriesContext(connections["default"]) as control,
            CaptureQueriesContext(connections[tenant_alias(A)]) as tenant,
        ):
            assert client.get(TASKS_URL).status_code == 200
        return len(control) + len(tenant)

    few = count()
    for _ in range(6):
        make_visit(residents, procedures("shimin", "shimin") + procedures("shimin", person="p2"))
    assert count() == few


def test_clerk_only_staff_and_admins_are_refused(make_staff, municipality_a, signed_in):
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    for staff in (clerk, admin):
        assert signed_in(staff).get(TASKS_URL).status_code == 403
        assert signed_in(staff).post(f"{TASKS_URL}1/take/").status_code == 403


def test_navigation_entry(make_staff, municipality_a, signed_in):
    staff = make_staff(municipality_a, ("kosodate", Role.DEPARTMENT_STAFF))
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    assert f'href="{TASKS_URL}"' in signed_in(staff).get(f"/{A}/home/").content.decode()
    assert f'href="{TASKS_URL}"' not in signed_in(clerk).get(f"/{A}/home/").content.decode()


# --- the buttons ------------------------------------------------------------------------------


def test_take_complete_and_not_needed_by_htmx(residents, shimin_staff, signed_in):
    visit, tasks = make_visit(residents, procedures("shimin", "shimin"))
    first, second = tasks
    client = signed_in(shimin_staff)

    reply = client.post(f"{TASKS_URL}{first.pk}/take/", **HTMX)
    html = reply.content.decode()
    assert reply.status_code == 200 and 'id="task-panel"' in html and "<html" not in html
    assert "を担当しました" in html and "shimin-a" in html
    assert fresh(first).status == TaskStatus.TAKEN

    reply = client.post(f"{TASKS_URL}{first.pk}/complete/", **HTMX)
    assert "を完了にしました" in reply.content.decode()
    assert fresh(first).status == TaskStatus.DONE

    # not needed without a reason: refused, nothing changes
    reply = client.post(f"{TASKS_URL}{second.pk}/not-needed/", {"reason": " "}, **HTMX)
    assert "理由を入力してください" in reply.content.decode()
    assert fresh(second).status == TaskStatus.OPEN

    reply = client.post(f"{TASKS_URL}{second.pk}/not-needed/", {"reason": "既に届出済み"}, **HTMX)
    html = reply.content.decode()
    assert "を不要にしました" in html and "未処理の手続きはありません" in html
    task = fresh(second)
    assert (task.status, task.not_needed_reason) == (TaskStatus.NOT_NEEDED, "既に届出済み")
    with tenant_context(A):
        assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CLOSED
        assert OutboxEvent.objects.filter(type="jp.machi.visit.closed").count() == 1
        # the events of the visit and its tasks name no one
        data = json.dumps(
            list(OutboxEvent.objects.filter(type__regex=r"^jp\.machi\.(task|visit)\.").values_list(
                "data", flat=True)),
            ensure_ascii=False,
        )  # fmt: skip
        assert "task_id" in data and "髙橋" not in data and "既に届出済み" not in data
        assert residents["p1"] not in data


def test_buttons_without_htmx_redirect_with_a_message(residents, shimin_staff, signed_in):
    _, (task,) = make_visit(residents, procedures("shimin"))
    client = signed_in(shimin_staff)
    reply = client.post(f"{TASKS_URL}{task.pk}/complete/")
    assert reply.status_code == 302 and reply.url == f"{TASKS_URL}?department=shimin"
    assert "を完了にしました" in client.get(reply.url).content.decode()
    # again: refused with a message
    reply = client.post(f"{TASKS_URL}{task.pk}/complete/", follow=True)
    assert "この手続きは完了しています" in reply.content.decode()


def test_buttons_on_another_departments_task_are_403(residents, shimin_staff, signed_in):
    _, (task,) = make_visit(residents, procedures("kosodate"))
    client = signed_in(shimin_staff)
    for action in ("take", "complete", "not-needed"):
        assert client.post(f"{TASKS_URL}{task.pk}/{action}/", {"reason": "x"}).status_code == 403
    assert fresh(task).status == TaskStatus.OPEN
    assert client.post(f"{TASKS_URL}999999/take/").status_code == 404
    assert client.post(f"{TASKS_URL}{task.pk}/delete/").status_code == 404
    assert client.get(f"{TASKS_URL}{task.pk}/take/").status_code == 405


def test_staff_of_b_cannot_work_a_tasks(residents, make_staff, municipality_b, signed_in):
    _, (task,) = make_visit(residents, procedures("shimin"))
    staff_b = make_staff(municipality_b, ("shimin", Role.SUPERVISOR))
    client = signed_in(staff_b)
    assert client.post(f"{TASKS_URL}{task.pk}/complete/").status_code == 403
    # B's own queue URL with A's task id: no such task in B
    assert client.post(f"/{B}/counter/tasks/{task.pk}/complete/").status_code == 404
    assert fresh(task).status == TaskStatus.OPEN


# --- the resident's public status page ----------------------------------------------------------


def test_public_status_page_without_login(residents, shimin_staff, client):
    visit, tasks = make_visit(
        residents,
        procedures("shimin", "hoken_nenkin") + procedures("shimin", person="p2")
        + procedures("kankyo", person=None),
    )  # fmt: skip
    with tenant_context(A):
        task_take(task=tasks[0], actor=shimin_staff)
    url = f"/{A}/visits/{visit.public_code}/"
    with CaptureQueriesContext(connections[tenant_alias(A)]) as tenant:
        response = client.get(url)
    assert response.status_code == 200
    assert len(tenant) == 2
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    assert visit.public_code in html and "転入" in html
    for label in ("市民課", "保険年金課", "環境衛生課", "受付済", "対応中", "令和8年4月17日"):
        assert label in html
    assert "対象者1" in html and "対象者2" in html
    # no personal data: names, atena numbers, addresses, reasons, staff
    for secret in (NAME, NAME2, "髙橋", *residents.values(), "千代田1-1", "理由", "shimin-a"):
        assert secret not in html
    # the code is typed case-insensitively, with or without hyphens
    lower = visit.public_code.lower().replace("-", "")
    assert client.get(f"/{A}/visits/{lower}/").status_code == 200


def test_public_status_page_of_a_closed_visit(residents, client):
    visit, _ = make_visit(residents, [])
    html = client.get(f"/{A}/visits/{visit.public_code}/").content.decode()
    assert "すべての手続きが終わりました" in html


def test_unknown_codes_and_other_municipalities_are_404(residents, client, municipality_b):
    visit, _ = make_visit(residents, procedures("shimin"))
    assert client.get(f"/{A}/visits/XXXX-XXXX-XX/").status_code == 404
    assert client.get(f"/{A}/visits/1/").status_code == 404
    # A's code on B's address
    response = client.get(f"/{B}/visits/{visit.public_code}/")
    assert response.status_code == 404
    assert "shiminの手続き" not in response.content.decode()


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_page_shows_task_and_visit_sections(
    residents, make_staff, municipality_a, signed_in
):
    make_visit(residents, procedures("shimin", "hoken_nenkin"))
    make_visit(residents, procedures("shimin"))
    supervisor = make_staff(municipality_a, ("shimin", Role.SUPERVISOR))
    html = signed_in(supervisor).get(f"/{A}/counter/metrics/").content.decode()
    assert 'id="metrics-tasks"' in html and 'id="metrics-visits"' in html
    assert "保険年金課" in html
    section = html[html.index('id="metrics-visits"') :]
    assert "複数の窓口に回った来庁" in section
    assert "<dd>2</dd>" in section and "<dd>1</dd>" in section and "50%" in section

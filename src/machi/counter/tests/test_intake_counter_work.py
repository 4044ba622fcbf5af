"""What the counter did is done; who files and who receives (issue 12, items 2 and 3).

* The procedure the intake's registry change carries out (転入届, 出生, 死亡, 転居…) is
  created done by the clerk, with its events, and never waits in 市民課's queue.
* The visit summary lists exactly the procedures the result page shows.
* The 届出人 (who came to the counter) is recorded, validated and printed on the forms;
  a procedure's filer (出産育児一時金 → 世帯主, 葬祭費 → the funeral host) goes on the task.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from machi.audit.models import AuditEntry
from machi.counter.documents import document_html
from machi.counter.models import Task, TaskStatus, Visit, VisitStatus
from machi.counter.selectors import department_tasks
from machi.counter.services import tasks_create, visit_open
from machi.counter.services.intake import IntakeError, life_event_confirm
from machi.counter.tests.test_intake import ADDRESS, move_in_family
from machi.linkage.models import OutboxEvent
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
BASE = f"/{A}/counter/intake/"
HTMX = {"HTTP_HX_REQUEST": "true"}
API = f"/api/v1/{A}/life-events"


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="counter-work-clerk")


@pytest.fixture
def suzuki(move_in):
    return move_in(
        [
            person("鈴木 太郎", "スズキ タロウ", birth="1950-05-01", kokuho=True),
            person("鈴木 花子", "スズキ ハナコ", birth="1955-07-07", relationship="妻", sex="2",
                   kokuho=True),
            person("鈴木 次郎", "スズキ ジロウ", birth="1990-01-01", relationship="子"),
        ]
    )  # fmt: skip


def _member(resident, pid, **extra):
    return {"id": pid, "atena_number": resident.atena_number, "insurance": "kokuho", **extra}


def _birth(suzuki, **extra):
    head, wife, _ = suzuki
    return {
        "event": {"type": "birth", "date": "2026-04-20", "subjects": ["baby"]},
        "persons": [
            _member(head, "p1"), _member(wife, "p2"),
            {"id": "baby", "name": "鈴木 陽", "kana": "スズキ ハル", "sex": "1",
             "birth_date": "2026-04-20", "relationship": "子", "insurance": "kokuho"},
        ],
        **extra,
    }  # fmt: skip


def _death(suzuki, **extra):
    head, wife, son = suzuki
    return {
        "event": {"type": "death", "date": "2026-05-01", "subjects": ["p1"]},
        "persons": [_member(head, "p1"), _member(wife, "p2"), _member(son, "p3")],
        **extra,
    }


# --- what the counter did is done -------------------------------------------------------------


def _assert_done_at_counter(visit, clerk, code, persons):
    tasks = Task.objects.filter(visit=visit, procedure_code=code).order_by("id")
    assert [t.person_label for t in tasks] == persons
    for task in tasks:
        assert task.status == TaskStatus.DONE
        assert task.taken_by_id == clerk.pk and task.taken_by_username == clerk.username
        assert task.completed_at is not None and task.completed_at == task.taken_at
        assert OutboxEvent.objects.filter(
            type="jp.machi.task.completed", subject=str(task.pk)
        ).exists()
        assert AuditEntry.objects.filter(
            action="task.completed", object_type="task", object_id=str(task.pk)
        ).exists()
    queue = set(department_tasks(department="shimin").values_list("pk", flat=True))
    assert not queue & {t.pk for t in tasks}


def test_move_in_birth_and_death_leave_no_open_registry_task(clerk, suzuki):
    with tenant_context(A):
        move_in = life_event_confirm(data=move_in_family(), actor=clerk).visit
        _assert_done_at_counter(move_in, clerk, "juki.move_in", ["p1", "p2", "p3"])
        # what the registry change does not do stays with its department
        others = Task.objects.filter(visit=move_in).exclude(procedure_code="juki.move_in")
        assert others and all(t.status == TaskStatus.OPEN for t in others)
        assert Visit.objects.get(pk=move_in.pk).status == VisitStatus.OPEN

        birth = life_event_confirm(data=_birth(suzuki), actor=clerk).visit
        _assert_done_at_counter(birth, clerk, "juki.birth", ["baby"])

        death = life_event_confirm(data=_death(suzuki), actor=clerk).visit
        _assert_done_at_counter(death, clerk, "juki.death", ["p1"])
        # the 世帯主変更届 is a filing of its own: still 市民課's to do
        change = Task.objects.get(visit=death, procedure_code="juki.householder_change")
        assert change.status == TaskStatus.OPEN
        assert change.pk in set(department_tasks(department="shimin").values_list("pk", flat=True))


def test_a_visit_the_counter_finished_closes_at_once(clerk, move_in):
    (alone,) = move_in([person("佐藤 一", "サトウ ハジメ", birth="1990-02-02")])
    data = {
        "event": {"type": "move_within", "date": "2026-05-01", "subjects": ["p1"]},
        "persons": [_member(alone, "p1", insurance="employee")],
        "address": ADDRESS | {"machiaza": "丸の内"},
    }
    with tenant_context(A):
        result = life_event_confirm(data=data, actor=clerk)
        assert [p["code"] for p in result.procedures] == ["juki.move_within"]
        visit = Visit.objects.get(pk=result.visit.pk)
        assert visit.status == VisitStatus.CLOSED and visit.closed_at is not None
        assert OutboxEvent.objects.filter(
            type="jp.machi.visit.closed", subject=visit.public_code
        ).exists()


def test_a_marriage_without_a_name_change_stays_open(clerk, suzuki):
    """The registry records a marriage only as a name change: without one, 市民課 still
    has the 記載事項修正 to do when the 戸籍 arrives."""
    _, _, son = suzuki
    with tenant_context(A):
        plain = life_event_confirm(
            data={"event": {"type": "marriage", "date": "2026-06-01", "subjects": ["p1"]},
                  "persons": [_member(son, "p1", insurance="employee")]},
            actor=clerk,
        ).visit  # fmt: skip
        task = Task.objects.get(visit=plain, procedure_code="juki.marriage")
        assert task.status == TaskStatus.OPEN
        renamed = life_event_confirm(
            data={"event": {"type": "marriage", "date": "2026-06-02", "subjects": ["p1"]},
                  "persons": [_member(son, "p1", insurance="employee", name_changes=True,
                                      new_name="山田 次郎", new_kana="ヤマダ ジロウ")]},
            actor=clerk,
        ).visit  # fmt: skip
        _assert_done_at_counter(renamed, clerk, "juki.marriage", ["p1"])


def test_a_refused_intake_completes_nothing(clerk):
    data = move_in_family()
    data["persons"][2]["relationship"] = "子の猫"
    with tenant_context(A):
        before = OutboxEvent.objects.filter(type="jp.machi.task.completed").count()
        with pytest.raises(IntakeError):
            life_event_confirm(data=data, actor=clerk)
        assert OutboxEvent.objects.filter(type="jp.machi.task.completed").count() == before
        assert not Task.objects.exists()


# --- the summary lists what the screen shows ---------------------------------------------------


def _screen_move_in(client):
    client.post(f"{BASE}step/event/", {"event": "move_in", "date": "令和8年4月3日"}, **HTMX)
    newcomers = move_in_family()["persons"]
    post = {"count": str(len(newcomers)), "action": "next"}
    for i, p in enumerate(newcomers):
        post.update({f"n{i}-name": p["name"], f"n{i}-kana": p["kana"], f"n{i}-sex": p["sex"],
                     f"n{i}-birth_date": p["birth_date"], f"n{i}-relationship": p["relationship"],
                     f"n{i}-nationality": "JP"})  # fmt: skip
    client.post(f"{BASE}step/persons/", post, **HTMX)
    answers = {f"q-n{i}-insurance": "kokuho" for i in range(3)}
    answers.update({f"q-n{i}-my_number_card": "on" for i in range(3)})
    answers.update({f"address-{k}": v for k, v in ADDRESS.items()})
    answers.update({"answers-has_dog": "on", "notifier-who": "n1"})
    return client.post(f"{BASE}step/questions/", answers, **HTMX)


def test_the_summary_counts_what_the_screen_shows(clerk, signed_in):
    client = signed_in(clerk)
    preview = _screen_move_in(client).content.decode()
    shown = int(re.search(r"<strong>(\d+) 件</strong>", preview)[1])
    response = client.post(f"{BASE}confirm/", **HTMX)
    done = client.get(response["HX-Redirect"]).content.decode()
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td[^>]*>([^<]+)<', done)
    code = response["HX-Redirect"].rstrip("/").rsplit("/", 1)[-1]
    with tenant_context(A):
        visit = Visit.objects.get(public_code=code)
        tasks = Task.objects.filter(visit=visit).count()
        html, _ = document_html(visit=visit, name="visit_summary", status_url="x")
    # several persons share procedures (3 × 転入届, 3 × マイナンバーカード, 2 × 国保): more
    # tasks than procedure codes, which is what the summary used to count
    assert tasks > len({title for title, _ in rows})
    assert shown == len(rows) == tasks
    assert re.search(r"<dd>\s*(\d+) 件", html)[1] == str(tasks)
    printed = re.findall(r'<td class="title">([^<]+)</td>\s*<td class="persons">([^<]+)<', html)
    assert sorted(printed) == sorted(rows)
    assert f"({tasks - 3} 件" not in done and "うち 3 件はこの受付で完了" in done


# --- 届出人 -------------------------------------------------------------------------------------


def test_an_agent_and_a_member_are_printed_as_the_notifier(clerk, suzuki):
    agent = {"kind": "agent", "name": "山田 葬儀", "kana": "ヤマダ ソウギ",
             "relationship": "葬儀社", "address": "東京都千代田区神田1-1"}  # fmt: skip
    with tenant_context(A):
        death = life_event_confirm(data=_death(suzuki, notifier=agent), actor=clerk).visit
        death.refresh_from_db()
        assert (death.notifier_kind, death.notifier_name, death.notifier_relationship) == (
            "agent", "山田 葬儀", "葬儀社",
        )  # fmt: skip
        summary, _ = document_html(visit=death, name="visit_summary", status_url="x")
        assert "山田 葬儀（代理人・葬儀社）" in summary and "委任状" in summary

        head, wife, son = suzuki
        data = move_in_family()
        data["notifier"] = {"kind": "member", "person": "p2"}
        move_in = life_event_confirm(data=data, actor=clerk)
        visit = Visit.objects.get(pk=move_in.visit.pk)
        assert visit.notifier_kind == "member" and visit.notifier_person == "p2"
        assert visit.notifier_atena == move_in.atena_numbers["p2"]  # known after the change
        form, shown = document_html(visit=visit, name="jumin_idou_todoke")
        assert '<span class="check-on">■ 本人</span>' in form
        assert "□ 代理人（" in form and "髙橋 花子" in form
        assert visit.notifier_atena in shown  # printed: audited
        kokuho, _ = document_html(visit=visit, name="kokuho_shikaku_shutoku_todoke")
        assert '<span class="check-on">■ 同一世帯の方</span>' in kokuho  # the wife, for 世帯主

        within = {
            "event": {"type": "move_within", "date": "2026-05-01", "subjects": ["p3"]},
            "persons": [_member(head, "p1"), _member(wife, "p2"), _member(son, "p3")],
            "address": ADDRESS | {"machiaza": "丸の内"},
            "notifier": {"kind": "agent", "name": "佐藤 友", "relationship": "知人"},
        }
        visit = life_event_confirm(data=within, actor=clerk).visit
        form, _ = document_html(visit=visit, name="jumin_idou_todoke")
        assert '<span class="check-on">■ 代理人（知人）</span>' in form and "佐藤 友" in form
        # none recorded (an older client): blank boxes, as before
        visit = life_event_confirm(data=move_in_family(), actor=clerk).visit
        form, _ = document_html(visit=visit, name="jumin_idou_todoke")
        assert "■" not in form.split("届出人")[1].split("</tr>")[0]


@pytest.mark.parametrize(
    ("notifier", "message"),
    [
        ("p1", "notifier: "),
        ({"kind": "friend"}, "notifier.kind"),
        ({"kind": "member", "person": "p9"}, "notifier.person"),
        ({"kind": "member", "person": "p1"}, "亡くなった方は届出人になれません"),
        ({"kind": "member", "person": "p2", "name": "x"}, "使えない項目です: name"),
        ({"kind": "agent", "relationship": "知人"}, "notifier.name: 代理人には必須です"),
        ({"kind": "agent", "name": "山田 一"}, "notifier.relationship"),
        ({"kind": "agent", "name": "山" * 101, "relationship": "知人"}, "100文字以内"),
        ({"kind": "agent", "name": 3, "relationship": "知人"}, "文字列で"),
    ],
)
def test_the_api_refuses_a_bad_notifier(clerk, suzuki, signed_in, notifier, message):
    with tenant_context(A):
        before = Visit.objects.count()
    response = signed_in(clerk).post(
        API, _death(suzuki, notifier=notifier), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert any(message in error for error in response.json()["errors"]), response.json()
    with tenant_context(A):
        assert Visit.objects.count() == before


def test_the_api_records_the_notifier(clerk, suzuki, signed_in):
    response = signed_in(clerk).post(
        API, _death(suzuki, notifier={"kind": "member", "person": "p2"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    with tenant_context(A):
        visit = Visit.objects.get(public_code=response.json()["visit"])
        assert visit.notifier_atena == suzuki[1].atena_number


def test_the_screen_asks_who_came(clerk, signed_in):
    client = signed_in(clerk)
    client.post(f"{BASE}step/event/", {"event": "move_in", "date": "2026-04-03"}, **HTMX)
    post = {"count": "1", "action": "next", "n0-name": "髙橋 一郎", "n0-kana": "タカハシ",
            "n0-sex": "1", "n0-birth_date": "1985-06-15", "n0-relationship": "世帯主",
            "n0-nationality": "JP"}  # fmt: skip
    page = client.post(f"{BASE}step/persons/", post, **HTMX).content.decode()
    assert 'name="notifier-who"' in page and "代理人（世帯以外の方）" in page
    answers = {"q-n0-insurance": "kokuho"} | {f"address-{k}": v for k, v in ADDRESS.items()}
    page = client.post(f"{BASE}step/questions/", answers, **HTMX).content.decode()
    assert "届出人を選んでください。" in page and 'href="#id_notifier-who_0"' in page
    page = client.post(
        f"{BASE}step/questions/", answers | {"notifier-who": "agent"}, **HTMX
    ).content.decode()
    assert "代理人の氏名を入力してください。" in page and "関係を入力してください" in page
    page = client.post(
        f"{BASE}step/questions/",
        answers | {"notifier-who": "agent", "notifier-agent_name": "山田 花",
                   "notifier-agent_relationship": "知人"},
        **HTMX,
    ).content.decode()  # fmt: skip
    assert "この内容で確定する" in page and "代理人 山田 花（知人）" in page
    assert "この受付で完了" in page  # the 転入届 row
    response = client.post(f"{BASE}confirm/", **HTMX)
    done = client.get(response["HX-Redirect"]).content.decode()
    assert "代理人 山田 花（知人）" in done


def test_a_newborn_cannot_be_chosen_as_notifier(clerk, signed_in, suzuki):
    head = suzuki[0]
    client = signed_in(clerk)
    client.post(f"{BASE}step/event/", {"event": "birth", "date": "2026-04-20"}, **HTMX)
    client.post(f"{BASE}household/", {"household": head.household.household_number}, **HTMX)
    post = {"count": "1", "action": "next", "n0-name": "鈴木 陽", "n0-kana": "スズキ ハル",
            "n0-sex": "1", "n0-birth_date": "2026-04-20", "n0-relationship": "子",
            "n0-nationality": "JP"}  # fmt: skip
    page = client.post(f"{BASE}step/persons/", post, **HTMX).content.decode()
    assert f'value="{head.atena_number}"' in page
    assert 'name="notifier-who" value="n0"' not in page
    answers = {f"q-{r.atena_number}-insurance": "kokuho" for r in suzuki}
    answers |= {"q-n0-insurance": "kokuho", "notifier-who": "n0"}
    page = client.post(f"{BASE}step/questions/", answers, **HTMX).content.decode()
    assert "正しく選択してください" in page or "選択肢" in page


# --- the filer of a procedure --------------------------------------------------------------


def test_tasks_record_and_print_the_filer(clerk, suzuki):
    head, wife, _ = suzuki
    procedures = [
        {"code": "kokuho.birth_lump_sum", "title": "出産育児一時金", "department": "hoken_nenkin",
         "person": "baby", "filer": "p1", "due": None, "reason": "国保の世帯主が請求します"},
        {"code": "kokuho.funeral_benefit", "title": "国民健康保険の葬祭費",
         "department": "hoken_nenkin", "person": "p2", "filer": None, "due": None,
         "reason": "葬祭を行った方に支給します"},
    ]  # fmt: skip
    with tenant_context(A):
        visit = visit_open(
            event_type="birth", event_date=datetime.date(2026, 4, 20), navigator_input={},
            atena_numbers=[head.atena_number], actor=clerk,
        )  # fmt: skip
        lump, funeral = tasks_create(
            visit=visit, procedures=procedures,
            person_atena={"p1": head.atena_number, "p2": wife.atena_number}, actor=clerk,
        )  # fmt: skip
        assert (lump.filer_label, lump.filer_atena) == ("p1", head.atena_number)
        assert (funeral.filer_label, funeral.filer_atena) == ("", "")
        summary, shown = document_html(visit=visit, name="visit_summary", status_url="x")
    assert "請求・申請: 鈴木 太郎" in summary
    assert "請求・申請: 葬祭を行った方（未定）" in summary
    assert head.atena_number in shown


def test_the_queue_shows_the_filer_in_a_fixed_number_of_queries(
    clerk, suzuki, make_staff, municipality_a, signed_in
):
    head, _, son = suzuki
    staff = make_staff(municipality_a, ("hoken_nenkin", "department_staff"))
    client = signed_in(staff)

    def add(n):
        with tenant_context(A):
            for _ in range(n):
                visit = visit_open(event_type="birth", event_date=datetime.date(2026, 4, 20),
                                   navigator_input={}, atena_numbers=[], actor=clerk)  # fmt: skip
                tasks_create(
                    visit=visit,
                    procedures=[{"code": "kokuho.birth_lump_sum", "title": "出産育児一時金",
                                 "department": "hoken_nenkin", "person": "p3", "filer": "p1"}],
                    person_atena={"p1": head.atena_number, "p3": son.atena_number},
                )  # fmt: skip

    def count():
        with tenant_context(A):
            tenant = connections[router.db_for_read(Task)]
        with CaptureQueriesContext(tenant) as captured:
            page = client.get(f"/{A}/counter/tasks/?department=hoken_nenkin").content.decode()
        return len(captured), page

    add(1)
    one, page = count()
    assert "請求・申請: 鈴木 太郎" in page
    add(5)
    many, page = count()
    assert page.count("請求・申請: 鈴木 太郎") == 6
    assert one == many


def test_the_household_table_shows_birth_dates_in_wareki(clerk, signed_in, suzuki):
    """Step 2 shows the household's dates as every screen does (``jdate``), not as the
    register's text happens to be written."""
    head = suzuki[0]
    client = signed_in(clerk)
    client.post(f"{BASE}step/event/", {"event": "birth", "date": "2026-04-20"}, **HTMX)
    page = client.post(
        f"{BASE}household/", {"household": head.household.household_number}, **HTMX
    ).content.decode()
    assert "<td>昭和25年5月1日</td>" in page and "<td>平成2年1月1日</td>" in page
    assert "1950-05-01" not in page

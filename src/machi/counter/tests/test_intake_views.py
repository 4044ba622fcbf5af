"""The life-event intake screen: from a called ticket to the result page (issue 5, item 4)."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.audit.models import AuditEntry
from machi.counter.models import Task, Ticket, TicketStatus, Visit
from machi.counter.services import preapplication_create
from machi.counter.views.intake import SESSION_KEY
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident, Status
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
BASE = f"/{A}/counter/intake/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def rows(page: str, title: str) -> int:
    """How many procedure rows of ``title`` a page lists."""
    return page.count(f'<th scope="row">{title}</th>')


def step(name: str) -> str:
    return f"{BASE}step/{name}/"


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="intake-view-clerk")


@pytest.fixture
def client(clerk, signed_in):
    return signed_in(clerk)


def _counts() -> tuple[int, int, int, int]:
    with tenant_context(A):
        return (
            Resident.objects.count(),
            Visit.objects.count(),
            Task.objects.count(),
            OutboxEvent.objects.count(),
        )


NEWCOMERS = [
    {"name": "髙橋 一郎", "kana": "タカハシ イチロウ", "sex": "1", "birth_date": "1985-06-15",
     "relationship": "世帯主", "nationality": "JP"},
    {"name": "髙橋 花子", "kana": "タカハシ ハナコ", "sex": "2", "birth_date": "昭和62年2月1日",
     "relationship": "妻", "nationality": "JP"},
    {"name": "髙橋 陽太", "kana": "タカハシ ヨウタ", "sex": "1", "birth_date": "平成30年1月10日",
     "relationship": "子", "nationality": "JP"},
]  # fmt: skip


def _newcomer_post(newcomers: list[dict], action: str = "next") -> dict:
    data = {"count": str(len(newcomers)), "action": action}
    for i, newcomer in enumerate(newcomers):
        data.update({f"n{i}-{k}": v for k, v in newcomer.items()})
    return data


def _move_in_to_preview(client):
    response = client.post(step("event"), {"event": "move_in", "date": "令和8年4月3日"}, **HTMX)
    assert response.status_code == 200
    assert "転入する人" in response.content.decode()
    # add / remove blocks with htmx (what was typed stays)
    response = client.post(step("persons"), _newcomer_post(NEWCOMERS[:1], "add"), **HTMX)
    page = response.content.decode()
    assert 'name="n1-name"' in page and 'value="髙橋 一郎"' in page
    response = client.post(step("persons"), _newcomer_post(NEWCOMERS[:2], "add"), **HTMX)
    assert 'name="n2-name"' in response.content.decode()
    response = client.post(step("persons"), _newcomer_post(NEWCOMERS), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "確認事項" in page
    assert 'name="q-n2-insurance"' in page
    answers = {
        "q-n0-insurance": "kokuho",
        "q-n1-insurance": "kokuho",
        "q-n2-insurance": "employee",
        "q-n0-my_number_card": "on",
        "answers-has_dog": "on",
        "address-postal_code": "100-0001",
        "address-prefecture": "東京都",
        "address-city": "千代田区",
        "address-machiaza": "千代田",
        "address-banchi": "1-1",
        "address-previous_address": "大阪府堺市堺区南瓦町3-1",
        "notifier-who": "n0",  # the householder came
    }
    response = client.post(step("questions"), answers, **HTMX)
    assert response.status_code == 200
    return response


def test_move_in_from_ticket_to_result(client, clerk):
    # the clerk sets a window, a ticket is issued and called
    client.post(f"/{A}/counter/call/window/", {"window": "1番窓口"})
    client.post(f"/{A}/counter/reception/", {"purpose": "move"})
    client.post(f"/{A}/counter/call/next/")
    with tenant_context(A):
        ticket = Ticket.objects.get(status=TicketStatus.CALLED)
    console = client.get(f"/{A}/counter/call/").content.decode()
    assert f"{BASE}?ticket={ticket.pk}" in console  # 「届出の受付へ」
    page = client.get(f"{BASE}?ticket={ticket.pk}").content.decode()
    assert page.count("<h1") == 1 and f"{ticket.number}番" in page
    before = _counts()

    response = _move_in_to_preview(client)
    page = response.content.decode()
    assert "手続き一覧" in page and "この内容で確定する" in page
    assert rows(page, "転入届") == 3
    assert rows(page, "国民健康保険の加入") == 2
    assert "転入学の手続" in page and "髙橋 陽太" in page
    assert "令和8年4月17日" in page and "2026-04-17" not in page  # 転入届: +14 days
    with tenant_context(A):
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.SERVING  # step 1 started serving it
    assert _counts() == before  # the preview writes nothing

    response = client.post(f"{BASE}confirm/", **HTMX)
    assert response.status_code == 200
    done_url = response["HX-Redirect"]
    assert SESSION_KEY not in client.session
    page = client.get(done_url).content.decode()
    with tenant_context(A):
        visit = Visit.objects.get(public_code=done_url.rstrip("/").rsplit("/", 1)[-1])
        assert visit.ticket_id == ticket.pk and visit.event_type == "move_in"
        residents = Resident.objects.filter(atena_number__in=visit.atena_numbers)
        assert {r.name for r in residents} == {n["name"] for n in NEWCOMERS}
        assert sorted(r.kokuho for r in residents) == [False, True, True]
        assert len({r.household_id for r in residents}) == 1
        tasks = list(Task.objects.filter(visit=visit))
        codes = sorted(t.procedure_code for t in tasks)
        assert codes.count("juki.move_in") == 3
        assert codes.count("kokuho.enroll") == 2
        assert "school.transfer_in" in codes and "dog.transfer_in" in codes
        assert "mynumber.continue" in codes
        child = residents.get(name="髙橋 陽太")
        assert Task.objects.get(visit=visit, procedure_code="school.transfer_in").person_atena == (
            child.atena_number
        )
        types = list(
            OutboxEvent.objects.order_by("seq").values_list("type", flat=True)[before[3] :]
        )
        assert types.count("jp.machi.resident.moved_in") == 3
        assert types.count("jp.machi.task.created") == len(tasks)
    assert visit.public_code in page and f"/{A}/visits/{visit.public_code}/" in page
    assert "転入学の手続" in page and "髙橋 陽太" in page
    # the 確定 finished the ticket: no button left to do it
    assert "番号札" in page and f"/{A}/counter/tickets/{ticket.pk}/finish/" not in page
    with tenant_context(A):
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.DONE


def test_step_errors_are_listed_with_links(client):
    response = client.post(step("event"), {"event": "move_in", "date": "令和8年2月30日"}, **HTMX)
    page = response.content.decode()
    assert 'role="alert"' in page and 'href="#id_date"' in page
    assert 'aria-invalid="true"' in page and "id_date_feedback" in page
    client.post(step("event"), {"event": "move_in", "date": "2026-04-03"}, **HTMX)
    bad = [dict(NEWCOMERS[0], relationship="子の猫", birth_date="1985/13/01")]
    response = client.post(step("persons"), _newcomer_post(bad), **HTMX)
    page = response.content.decode()
    assert 'href="#id_n0-relationship"' in page and 'href="#id_n0-birth_date"' in page
    # without htmx: the whole page, 400
    response = client.post(step("persons"), _newcomer_post(bad))
    assert response.status_code == 400 and "<h1" in response.content.decode()
    response = client.post(step("persons"), _newcomer_post(NEWCOMERS[:1]), **HTMX)
    response = client.post(step("questions"), {"address-prefecture": "東京都"}, **HTMX)
    page = response.content.decode()
    assert 'href="#id_q-n0-insurance"' in page and 'href="#id_address-machiaza"' in page


def test_failure_at_confirm_shows_the_error_and_writes_nothing(client):
    _move_in_to_preview(client)
    session = client.session
    draft = session[SESSION_KEY]
    draft["newcomers"][2]["relationship"] = "子の猫"  # slipped past the form somehow
    session[SESSION_KEY] = draft
    session.save()
    before = _counts()
    response = client.post(f"{BASE}confirm/", **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "確定できませんでした" in page
    assert "髙橋 陽太 続柄" in page and "?step=persons#id_n2-relationship" in page
    assert _counts() == before
    # the draft is kept: the clerk fixes it and confirms
    assert client.session[SESSION_KEY]["newcomers"][2]["relationship"] == "子の猫"
    response = client.post(f"{BASE}confirm/")
    assert response.status_code == 400


def test_failure_inside_the_transaction_rolls_back(client, move_in):
    head, wife = move_in(
        [person("佐藤 一", "サトウ ハジメ", kokuho=True),
         person("佐藤 二三", "サトウ フミ", relationship="妻", sex="2", kokuho=True)]
    )  # fmt: skip
    client.post(step("event"), {"event": "household_change", "date": "2026-05-01"}, **HTMX)
    client.post(f"{BASE}household/", {"household": head.household.household_number}, **HTMX)
    client.post(step("persons"), {"subjects": [wife.atena_number]}, **HTMX)
    client.post(
        step("questions"),
        {f"q-{head.atena_number}-insurance": "kokuho",
         f"q-{wife.atena_number}-insurance": "kokuho",
         f"q-{wife.atena_number}-relationship": "世帯主",
         "household_number": "99999999", "notifier-who": wife.atena_number},
        **HTMX,
    )  # fmt: skip
    before = _counts()
    response = client.post(f"{BASE}confirm/", **HTMX)
    assert "世帯番号 99999999 はありません" in response.content.decode()
    assert _counts() == before


@pytest.fixture
def watanabe(move_in):
    return move_in(
        [
            person("渡邊 太郎", "ワタナベ タロウ", birth="1970-03-03", kokuho=True),
            person("渡邊 洋子", "ワタナベ ヨウコ", birth="1972-08-08", relationship="妻", sex="2"),
            person("渡邊 健", "ワタナベ ケン", birth="2000-12-12", relationship="子"),
        ]
    )


def test_move_out_of_a_member_found_by_a_variant_spelling(client, watanabe):
    head, wife, son = watanabe
    client.post(step("event"), {"event": "move_out", "date": "令和8年5月1日"}, **HTMX)
    response = client.get(f"{BASE}search/", {"q": "渡辺 健"}, **HTMX)  # 辺 for 邊
    page = response.content.decode()
    assert "渡邊 健" in page and head.household.household_number in page
    response = client.post(
        f"{BASE}household/", {"household": son.household.household_number}, **HTMX
    )
    page = response.content.decode()
    assert all(r.name in page for r in watanabe)
    assert "平成12年12月12日" in page or "2000-12-12" in page
    # no subject chosen: an error on the checkboxes
    response = client.post(step("persons"), {}, **HTMX)
    assert 'href="#intake-subjects"' in response.content.decode()
    response = client.post(step("persons"), {"subjects": [son.atena_number]}, **HTMX)
    page = response.content.decode()
    # only the one moving out is asked about insurance (nobody else's changes anything)
    assert f'name="q-{son.atena_number}-insurance"' in page
    assert f'name="q-{head.atena_number}-insurance"' not in page
    response = client.post(
        step("questions"),
        {f"q-{head.atena_number}-insurance": "kokuho",
         f"q-{wife.atena_number}-insurance": "employee",
         f"q-{son.atena_number}-insurance": "employee",
         "destination": "大阪府堺市堺区南瓦町3-1", "notifier-who": son.atena_number},
        **HTMX,
    )  # fmt: skip
    page = response.content.decode()
    assert "転出届" in page and rows(page, "転出届") == 1
    response = client.post(f"{BASE}confirm/")
    assert response.status_code == 302
    with tenant_context(A):
        son.refresh_from_db()
        head.refresh_from_db()
        assert son.status == Status.MOVED_OUT and head.status == Status.RESIDENT
        assert AuditEntry.objects.filter(action="resident.searched", function="counter:intake")
        assert AuditEntry.objects.filter(action="household.viewed", function="counter:intake")


def test_search_costs_the_same_number_of_queries(client, move_in):
    move_in([person("山田 一", "ヤマダ ハジメ")])
    move_in([person(f"山田 {n}", "ヤマダ タロウ") for n in "二三四五六"])
    client.post(step("event"), {"event": "move_out", "date": "2026-05-01"}, **HTMX)
    connection = connections[tenant_alias(A)]

    def queries(q: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"{BASE}search/", {"q": q}, **HTMX).content.decode()
        return len(captured), page

    one, page = queries("山田 一")
    assert "この世帯を選ぶ" in page
    many, page = queries("ヤマダ タロウ")
    assert page.count("この世帯を選ぶ") == 5
    assert one == many


def test_postal_code_lookup_fills_the_address(client):
    client.post(step("event"), {"event": "move_in", "date": "2026-04-03"}, **HTMX)
    client.post(step("persons"), _newcomer_post(NEWCOMERS[:1]), **HTMX)
    response = client.post(
        f"{BASE}postal/", {"address-postal_code": "1000001", "address-banchi": "2-3"}, **HTMX
    )
    page = response.content.decode()
    assert 'value="千代田"' in page and 'value="東京都"' in page and 'value="2-3"' in page
    assert 'value="100-0001"' in page
    response = client.post(f"{BASE}postal/", {"address-postal_code": "12"}, **HTMX)
    assert "7桁" in response.content.decode()


def test_preapplication_code_loads_the_answers(client):
    with tenant_context(A):
        preapplication = preapplication_create(
            navigator_input={
                "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["a", "b"]},
                "persons": [
                    {"id": "a", "birth_date": "1985-06-15", "insurance": "kokuho",
                     "householder": True, "my_number_card": True},
                    {"id": "b", "birth_date": "2018-01-10", "insurance": "kokuho"},
                ],
                "answers": {"has_dog": True},
            }
        )  # fmt: skip
    response = client.post(
        step("event"), {"preapplication": preapplication.display_code.lower()}, **HTMX
    )
    page = response.content.decode()
    # the pre-application's ISO date is filled in as every date is shown
    assert "読み込みました" in page and 'value="昭和60年6月15日"' in page
    newcomers = [
        dict(NEWCOMERS[0]),
        dict(NEWCOMERS[2], birth_date="2018-01-10"),
    ]
    response = client.post(step("persons"), _newcomer_post(newcomers), **HTMX)
    page = response.content.decode()
    assert 'name="q-n0-my_number_card" checked' in page or (
        "checked" in page and "q-n0-my_number_card" in page
    )
    client.post(
        step("questions"),
        {"q-n0-insurance": "kokuho", "q-n1-insurance": "kokuho", "q-n0-my_number_card": "on",
         "answers-has_dog": "on", "address-prefecture": "東京都", "address-city": "千代田区",
         "address-machiaza": "千代田", "notifier-who": "n0"},
        **HTMX,
    )  # fmt: skip
    client.post(f"{BASE}confirm/")
    with tenant_context(A):
        preapplication.refresh_from_db()
        assert preapplication.used_at is not None
    response = client.post(step("event"), {"preapplication": "ACEF-GH34"}, **HTMX)
    assert "事前申請はありません" in response.content.decode()


def test_cancel_clears_the_draft(client):
    client.post(step("event"), {"event": "move_in", "date": "2026-04-03"}, **HTMX)
    assert SESSION_KEY in client.session
    response = client.post(f"{BASE}cancel/", **HTMX)
    assert response["HX-Redirect"] == BASE
    assert SESSION_KEY not in client.session


def test_who_may_use_the_screen(make_staff, signed_in, municipality_a, municipality_b):
    kosodate = make_staff(municipality_a, ("kosodate", "department_staff"))
    assert signed_in(kosodate).get(BASE).status_code == 403
    assert signed_in(kosodate).post(step("event"), {"event": "move_in"}).status_code == 403
    shimin = make_staff(municipality_a, ("shimin", "department_staff"))
    assert signed_in(shimin).get(BASE).status_code == 200
    supervisor = make_staff(municipality_a, ("kosodate", "supervisor"))
    assert signed_in(supervisor).get(BASE).status_code == 200
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(other).get(BASE).status_code == 403
    assert signed_in(other).get(f"{BASE}search/", {"q": "山田"}).status_code == 403

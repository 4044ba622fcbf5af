"""The agent's screens: ticket list (filters, SLA, constant queries), the phone ticket
with FAQ suggestions and answer-from-FAQ (一次解決), the ticket page and its actions,
the counter's hand-over; wrong role, other municipality and bad input each time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from machi.audit.models import AuditEntry
from machi.contact.models import (
    ArticleKind,
    Channel,
    FaqAnswer,
    FaqFeedback,
    FaqSearch,
    Priority,
    Ticket,
    TicketLink,
    TicketState,
)
from machi.contact.services.faq import faq_load_default
from machi.contact.services.sla import sla_policy_set
from machi.contact.services.tickets import ticket_create
from machi.registry.tests.conftest import person
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


@pytest.fixture
def admin_only(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"))


@pytest.fixture
def faq(in_a):
    faq_load_default()
    return FaqAnswer.objects.get(question="住民票の写しの請求")


def url(name, *args, lg=A):
    return reverse(f"contact:{name}", args=[lg, *args])


def phone(agent, **kwargs) -> Ticket:
    fields = {"subject": "住民票について", "body": "住民票を取りたい"} | kwargs
    return ticket_create(channel=Channel.PHONE, actor=agent, **fields)


# ---------------------------------------------------------------- list


def test_list_shows_open_tickets_with_their_sla(agent, admin_only, signed_in):
    sla_policy_set(
        priority=Priority.HIGH, first_response_minutes=60, resolution_minutes=600, actor=admin_only
    )
    running = phone(agent, subject="急ぎの件", priority=Priority.HIGH)
    done = phone(agent, subject="終わった件")
    done.state = TicketState.CLOSED
    done.save()
    response = signed_in(agent).get(url("tickets"))
    assert response.status_code == 200
    html = response.content.decode()
    assert running.number in html and done.number not in html
    assert "急ぎの件" in html
    # a business-time countdown, a breach, or the clock standing: never nothing
    assert "初回回答まで残り" in html or "期限超過" in html or "停止中" in html
    everything = signed_in(agent).get(url("tickets"), {"state": "all"}).content.decode()
    assert done.number in everything


def test_list_filters(agent, make_staff, municipality_a, signed_in):
    other = make_staff(municipality_a, ("kosodate", "department_staff"))
    mine = phone(agent, subject="自分の件", group="shimin")
    theirs = phone(agent, subject="子育ての件", group="kosodate", priority=Priority.URGENT)
    web = ticket_create(channel=Channel.WEB, subject="ウェブの件", body="質問", actor=None)
    client = signed_in(agent)
    client.post(url("ticket_action", mine.pk, "take"))
    client2 = signed_in(other)
    client2.post(url("ticket_action", theirs.pk, "take"))

    def shown(**query):
        html = client.get(url("tickets"), query).content.decode()
        return {t.number for t in (mine, theirs, web) if t.number in html}

    assert shown(owner="mine") == {mine.number}
    assert shown(owner="none") == {web.number}
    assert shown(group="kosodate") == {theirs.number}
    assert shown(group="-") == {web.number}
    assert shown(priority=Priority.URGENT) == {theirs.number}
    assert shown(channel="web") == {web.number}
    assert shown(state="open") == {mine.number, theirs.number}
    assert shown(state="new") == {web.number}
    # a bad filter is ignored rather than failing the page
    assert client.get(url("tickets"), {"state": "nonsense"}).status_code == 200


def _queries(client, path) -> int:
    tenant = connections[current_tenant_alias()]
    control = connections["default"]
    with CaptureQueriesContext(tenant) as t, CaptureQueriesContext(control) as c:
        assert client.get(path).status_code == 200
    return len(t) + len(c)


def test_list_runs_a_constant_number_of_queries(agent, signed_in):
    client = signed_in(agent)
    for i in range(3):
        phone(agent, subject=f"件 {i}")
    few = _queries(client, url("tickets"))
    for i in range(30):
        phone(agent, subject=f"件 {i}", priority=Priority.HIGH if i % 2 else Priority.LOW)
    assert _queries(client, url("tickets")) == few
    assert few <= 12


def test_list_is_paginated(agent, signed_in):
    for i in range(51):
        phone(agent, subject=f"件 {i}")
    client = signed_in(agent)
    assert "1 / 2 ページ" in client.get(url("tickets")).content.decode()
    assert "2 / 2 ページ" in client.get(url("tickets"), {"page": 2}).content.decode()
    assert client.get(url("tickets"), {"page": "x"}).status_code == 200


def test_list_refuses_wrong_role_and_other_municipality(agent, admin_only, signed_in):
    assert signed_in(admin_only).get(url("tickets")).status_code == 403
    assert signed_in(agent).get(url("tickets", lg=B)).status_code in (403, 404)


# ---------------------------------------------------------------- FAQ suggestions


def test_suggestions_find_the_faq_and_log_the_search(agent, faq, signed_in):
    response = signed_in(agent).get(url("faq_suggestions"), {"question": "住民票を取りたい"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "住民票の写しの請求" in html and "この回答で解決" in html
    search = FaqSearch.objects.get()
    assert search.source == "agent" and search.query == "住民票を取りたい"
    assert faq.pk in search.result_ids
    assert f'name="faq_search" value="{search.pk}"' in html


def test_suggestions_carry_the_earlier_searches_and_ignore_junk(agent, faq, signed_in):
    client = signed_in(agent)
    client.get(url("faq_suggestions"), {"question": "住民票"})
    first = FaqSearch.objects.get()
    html = client.get(
        url("faq_suggestions"), {"question": "住民票を取りたい", "faq_search": [first.pk, "x'"]}
    ).content.decode()
    assert f'value="{first.pk}"' in html and "x&#x27;" not in html
    assert FaqSearch.objects.count() == 2


def test_suggestions_without_a_question(agent, faq, signed_in):
    response = signed_in(agent).get(url("faq_suggestions"))
    assert response.status_code == 200
    assert not FaqSearch.objects.exists()


def test_suggestions_refuse_wrong_role_and_other_municipality(agent, admin_only, signed_in):
    assert (
        signed_in(admin_only).get(url("faq_suggestions"), {"question": "住民票"}).status_code == 403
    )
    assert signed_in(agent).get(url("faq_suggestions", lg=B)).status_code in (403, 404)


# ---------------------------------------------------------------- phone ticket


FORM = {
    "subject": "住民票",
    "question": "住民票を取りたい",
    "priority": "2",
    "group": "shimin",
    "topic": "koseki-juminhyo",
    "contact_name": "山田 太郎",
    "contact_phone": "03-1234-5678",
}


def test_phone_ticket_is_created(agent, faq, signed_in):
    response = signed_in(agent).post(url("ticket_new"), {**FORM, "action": "create"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == url("ticket", ticket.pk)
    assert ticket.channel == Channel.PHONE and ticket.state == TicketState.NEW
    assert (ticket.group, ticket.group_name, ticket.topic) == (
        "shimin",
        "市民課",
        "koseki-juminhyo",
    )
    assert ticket.contact_name == "山田 太郎"
    assert ticket.articles.get().body == "住民票を取りたい"


def test_answer_from_faq_resolves_at_first_contact(agent, faq, signed_in):
    client = signed_in(agent)
    client.get(url("faq_suggestions"), {"question": "住民票を取りたい"})
    search = FaqSearch.objects.get()
    response = client.post(
        url("ticket_new"), {**FORM, "subject": "", "faq_search": [search.pk], "answer_faq": faq.pk}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.state == TicketState.RESOLVED and ticket.first_contact_resolution is True
    assert ticket.subject == "住民票の写しの請求"  # the FAQ names a call left without subject
    reply = ticket.articles.get(kind=ArticleKind.REPLY)
    assert reply.body == faq.answer and reply.body_format == "markdown"
    assert ticket.first_response_at is not None
    search.refresh_from_db()
    assert search.ticket_id == ticket.pk  # followed by a ticket: not deflected
    assert FaqFeedback.objects.get().helped is True
    faq.refresh_from_db()
    assert faq.helped_count == 1
    page = client.get(url("ticket", ticket.pk)).content.decode()
    assert "一次解決" in page and "解決" in page
    assert AuditEntry.objects.filter(action="contact.ticket.answered_from_faq").count() == 1


def test_answer_from_a_draft_faq_is_refused(agent, faq, signed_in):
    faq.status = "draft"
    faq.save()
    response = signed_in(agent).post(url("ticket_new"), {**FORM, "answer_faq": faq.pk})
    assert response.status_code == 400
    assert "公開されていません" in response.content.decode()
    assert not Ticket.objects.exists()
    response = signed_in(agent).post(url("ticket_new"), {**FORM, "answer_faq": "abc"})
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_search_button_works_without_javascript(agent, faq, signed_in):
    response = signed_in(agent).post(url("ticket_new"), {**FORM, "subject": "", "action": "search"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "住民票の写しの請求" in html and "住民票を取りたい" in html  # the typing is kept
    assert not Ticket.objects.exists() and FaqSearch.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question": ""}, "必須"),
        ({"subject": "件" * 201}, "201"),
        ({"priority": "9"}, "9"),
        ({"group": "nowhere"}, "nowhere"),
        ({"contact_phone": "電話して"}, "電話番号は数字"),
        ({"contact_email": "not-mail"}, "メールアドレス"),
    ],
)
def test_phone_ticket_bad_input(agent, faq, signed_in, change, message):
    response = signed_in(agent).post(url("ticket_new"), {**FORM, **change, "action": "create"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_phone_ticket_wrong_role_and_other_municipality(agent, admin_only, signed_in):
    assert signed_in(admin_only).get(url("ticket_new")).status_code == 403
    assert signed_in(admin_only).post(url("ticket_new"), FORM).status_code == 403
    assert signed_in(agent).post(url("ticket_new", lg=B), FORM).status_code in (403, 404)
    assert not Ticket.objects.exists()


# ---------------------------------------------------------------- detail and actions


def test_detail_shows_the_thread_notes_apart_and_the_timers(agent, admin_only, signed_in):
    sla_policy_set(
        priority=Priority.NORMAL,
        first_response_minutes=120,
        resolution_minutes=525,
        actor=admin_only,
    )
    ticket = phone(agent)
    client = signed_in(agent)
    client.post(url("ticket_action", ticket.pk, "note"), {"note-body": "折り返しは午後 <b>"})
    html = client.get(url("ticket", ticket.pk)).content.decode()
    assert 'class="article article-note"' in html and "内部メモ" in html
    assert "折り返しは午後 &lt;b&gt;" in html  # stored as text, shown as text
    assert "初回回答" in html and "解決" in html


def test_reply_pending_and_the_clock_stands(agent, admin_only, signed_in):
    sla_policy_set(
        priority=Priority.NORMAL,
        first_response_minutes=120,
        resolution_minutes=525,
        actor=admin_only,
    )
    ticket = phone(agent)
    client = signed_in(agent)
    response = client.post(
        url("ticket_action", ticket.pk, "reply"),
        {"reply-body": "書類をご確認ください", "reply-after": "pending_customer"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.PENDING_CUSTOMER and ticket.first_response_at
    html = client.get(url("ticket", ticket.pk)).content.decode()
    assert "回答待ちのあいだは数えません" in html


def test_state_assign_group_escalate(agent, make_staff, municipality_a, signed_in):
    colleague = make_staff(municipality_a, ("shimin", "department_staff"))
    ticket = phone(agent)
    client = signed_in(agent)
    assert (
        client.post(
            url("ticket_action", ticket.pk, "assign"), {"assign-owner": colleague.pk}
        ).status_code
        == 302
    )
    ticket.refresh_from_db()
    assert ticket.owner_id == colleague.pk and ticket.state == TicketState.OPEN
    assert (
        client.post(
            url("ticket_action", ticket.pk, "group"), {"group-department": "shimin"}
        ).status_code
        == 302
    )
    ticket.refresh_from_db()
    assert ticket.group == "shimin" and ticket.escalation_count == 0
    # once it has a group, another department takes it only by escalation
    response = client.post(
        url("ticket_action", ticket.pk, "group"), {"group-department": "kosodate"}
    )
    assert response.status_code == 400 and "エスカレーション" in response.content.decode()
    response = client.post(
        url("ticket_action", ticket.pk, "escalate"),
        {"escalate-department": "kosodate", "escalate-reason": "児童手当の件"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.group, ticket.owner_id, ticket.escalation_count) == ("kosodate", None, 1)
    assert "児童手当の件" in client.get(url("ticket", ticket.pk)).content.decode()
    response = client.post(url("ticket_action", ticket.pk, "state"), {"state-state": "resolved"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED and ticket.first_contact_resolution is False


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("reply", {"reply-body": ""}, "必須"),
        ("note", {"note-body": "   "}, "必須"),
        ("state", {"state-state": "new"}, "new"),
        ("escalate", {"escalate-department": "kosodate", "escalate-reason": ""}, "必須"),
        ("escalate", {"escalate-department": "nowhere", "escalate-reason": "x"}, "nowhere"),
        ("merge", {"merge-into": "1999-000001"}, "統合先の問い合わせが見つかりません"),
        ("link", {"link-kind": "visit", "link-ref": "NOPE-NOPE-00"}, "受付番号が見つかりません"),
        ("link", {"link-kind": "request", "link-ref": "NOPE-NOPE-00"}, "見つかりません"),
        ("assign", {"assign-owner": "999999"}, "999999"),
    ],
)
def test_actions_bad_input_change_nothing(agent, signed_in, action, data, message):
    ticket = phone(agent)
    before = (ticket.articles.count(), ticket.events.count())
    response = signed_in(agent).post(url("ticket_action", ticket.pk, action), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.articles.count(), ticket.events.count()) == before
    assert ticket.state == TicketState.NEW and not TicketLink.objects.exists()


def test_merge_into_another_ticket(agent, signed_in):
    duplicate, original = phone(agent), phone(agent, subject="最初の件")
    response = signed_in(agent).post(
        url("ticket_action", duplicate.pk, "merge"), {"merge-into": original.number}
    )
    assert response.status_code == 302 and response["Location"] == url("ticket", original.pk)
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == original.pk and duplicate.state == TicketState.CLOSED
    response = signed_in(agent).post(url("ticket_action", duplicate.pk, "note"), {"note-body": "x"})
    assert response.status_code == 400 and original.number in response.content.decode()


def test_unknown_action_and_ticket(agent, signed_in):
    ticket = phone(agent)
    assert signed_in(agent).post(url("ticket_action", ticket.pk, "delete")).status_code == 404
    assert signed_in(agent).get(url("ticket", 999999)).status_code == 404
    assert signed_in(agent).get(url("ticket_action", ticket.pk, "note")).status_code == 405


def test_detail_and_actions_refuse_wrong_role_and_other_municipality(
    agent, admin_only, make_staff, municipality_b, signed_in
):
    ticket = phone(agent)
    assert signed_in(admin_only).get(url("ticket", ticket.pk)).status_code == 403
    assert (
        signed_in(admin_only)
        .post(url("ticket_action", ticket.pk, "note"), {"note-body": "x"})
        .status_code
        == 403
    )
    agent_b = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(agent_b).get(url("ticket", ticket.pk, lg=A)).status_code in (403, 404)
    # B's own URL with A's id names nothing in B's database
    with tenant_context(B):
        assert not Ticket.objects.filter(pk=ticket.pk).exists()
    assert signed_in(agent_b).get(url("ticket", ticket.pk, lg=B)).status_code == 404
    ticket.refresh_from_db()
    assert ticket.articles.count() == 1


# ---------------------------------------------------------------- resident link


def test_resident_link_is_audited(agent, move_in, signed_in):
    resident = move_in([person("山田 太郎", "ヤマダ タロウ")])[0]
    ticket = phone(agent)
    client = signed_in(agent)
    assert "住民を紐付ける" in client.get(url("ticket", ticket.pk)).content.decode()
    response = client.post(
        url("ticket_action", ticket.pk, "resident"),
        {"resident-atena_number": resident.atena_number, "resident-purpose": "電話の本人確認"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.atena_number == resident.atena_number
    viewed = AuditEntry.objects.filter(action="resident.viewed", object_id=resident.atena_number)
    linked = AuditEntry.objects.get(action="contact.ticket.resident_linked")
    assert viewed.count() == 1 and linked.purpose == "電話の本人確認"
    assert linked.actor_username == agent.username


def test_resident_link_refused_without_the_right_and_with_bad_input(
    agent, admin_only, move_in, signed_in
):
    resident = move_in([person("山田 太郎", "ヤマダ タロウ")])[0]
    ticket = phone(agent)
    data = {"resident-atena_number": resident.atena_number, "resident-purpose": "確認"}
    assert (
        signed_in(admin_only).post(url("ticket_action", ticket.pk, "resident"), data).status_code
        == 403
    )
    response = signed_in(agent).post(
        url("ticket_action", ticket.pk, "resident"), {**data, "resident-purpose": ""}
    )
    assert response.status_code == 400
    response = signed_in(agent).post(
        url("ticket_action", ticket.pk, "resident"), {**data, "resident-atena_number": "000"}
    )
    assert response.status_code == 400 and "宛名番号が見つかりません" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.atena_number == ""
    assert not AuditEntry.objects.filter(action="contact.ticket.resident_linked").exists()
    assert not AuditEntry.objects.filter(action="resident.viewed").exists()


# ---------------------------------------------------------------- hand-over from the counter


HANDOVER = {**FORM, "topic": ""}  # no FAQ categories loaded here


@pytest.fixture
def visit(agent):
    from machi.counter.services.visits import visit_open

    return visit_open(
        event_type="move_in",
        event_date=dt.date(2026, 4, 3),
        navigator_input={},
        atena_numbers=[],
        actor=agent,
    )


def test_counter_links_to_the_hand_over(agent, signed_in):
    html = signed_in(agent).get(reverse("counter:reception", args=[A])).content.decode()
    assert url("handover") in html


def test_hand_over_creates_a_counter_ticket_linked_to_the_visit(agent, visit, signed_in):
    client = signed_in(agent)
    page = client.get(url("handover"), {"visit": visit.public_code}).content.decode()
    assert visit.public_code in page
    data = {**HANDOVER, "visit": visit.public_code}
    response = client.post(url("handover"), data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.COUNTER
    assert ticket.links.get().ref == visit.public_code
    assert "コールセンターに引き継ぎました" in client.get(response["Location"]).content.decode()


def test_hand_over_bad_input_and_rights(agent, admin_only, signed_in):
    response = signed_in(agent).post(url("handover"), {**HANDOVER, "visit": "NOPE-NOPE-00"})
    assert response.status_code == 400 and "受付番号が見つかりません" in response.content.decode()
    assert not Ticket.objects.exists()  # the ticket went with the refused link
    assert signed_in(agent).post(url("handover"), {**HANDOVER, "question": ""}).status_code == 400
    assert signed_in(admin_only).post(url("handover"), HANDOVER).status_code == 403
    assert signed_in(agent).post(url("handover", lg=B), HANDOVER).status_code in (403, 404)
    assert not Ticket.objects.exists()

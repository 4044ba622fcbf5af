"""Queue tickets: numbering, calling, transitions, the screens and the public board."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.counter.models import Ticket, TicketDay, TicketPurpose, TicketStatus
from machi.counter.services import (
    TicketError,
    ticket_call_next,
    ticket_cancel,
    ticket_finish,
    ticket_issue,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    visit_open,
)
from machi.counter.services.tickets import ticket_finish_for_visit
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

JST = ZoneInfo("Asia/Tokyo")
A, B = "131016", "271403"


def at(hour: int, minute: int = 0, second: int = 0, day: int = 6) -> datetime.datetime:
    return datetime.datetime(2026, 4, day, hour, minute, second, tzinfo=JST)


@pytest.fixture
def in_a(municipality_a):
    with tenant_context(A):
        yield


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK), username="clerk-a")


@pytest.fixture
def supervisor(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.SUPERVISOR))


@pytest.fixture
def clerk_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("shimin", Role.COUNTER_CLERK))


def issue(lg_code: str = A, purpose: str = TicketPurpose.CERTIFICATE, **kwargs) -> Ticket:
    with tenant_context(lg_code):
        return ticket_issue(purpose=purpose, **kwargs)


def call(lg_code: str = A, counter: str = "1番窓口", purpose=None, actor=None) -> Ticket | None:
    with tenant_context(lg_code):
        return ticket_call_next(counter=counter, purpose=purpose, actor=actor, terminal=None)


def fresh(ticket: Ticket, lg_code: str = A) -> Ticket:
    with tenant_context(lg_code):
        return Ticket.objects.get(pk=ticket.pk)


def audit(lg_code: str = A) -> list[tuple[str, str, str]]:
    with tenant_context(lg_code):
        return list(
            AuditEntry.objects.filter(object_type="ticket")
            .order_by("seq")
            .values_list("action", "object_id", "actor_username")
        )


# --- numbering ------------------------------------------------------------------------------


def test_numbers_count_up_per_day_and_restart_tomorrow(in_a, time_machine):
    time_machine.move_to(at(9), tick=False)
    assert [issue().number for _ in range(3)] == [1, 2, 3]
    time_machine.move_to(at(23, 59, 30), tick=False)
    late = issue()
    assert (late.number, late.issued_on) == (4, datetime.date(2026, 4, 6))
    # the day is the municipality's local day (JST), not UTC's
    time_machine.move_to(at(0, 0, 30, day=7), tick=False)
    tomorrow = issue()
    assert (tomorrow.number, tomorrow.issued_on) == (1, datetime.date(2026, 4, 7))
    assert issue().number == 2
    assert dict(TicketDay.objects.values_list("day", "last_number")) == {
        datetime.date(2026, 4, 6): 4,
        datetime.date(2026, 4, 7): 2,
    }


def test_numbers_are_per_municipality(in_a, municipality_b):
    assert [issue(A).number, issue(A).number] == [1, 2]
    assert issue(B).number == 1


def test_issues_in_one_transaction_never_share_a_number(in_a):
    with transaction.atomic(using="tenant_131016"):
        numbers = [issue(purpose=code).number for code in TicketPurpose.values]
    assert numbers == list(range(1, len(TicketPurpose.values) + 1))
    # an issue rolled back gives its number back together with its ticket: no gap, no twin
    with pytest.raises(RuntimeError), transaction.atomic(using="tenant_131016"):
        issue()
        raise RuntimeError("printer jammed")
    after = issue().number
    assert after == len(numbers) + 1
    assert Ticket.objects.filter(number=after).count() == 1


def test_issue_locks_the_day_row(in_a):
    connection = connections["tenant_131016"]
    issue()
    with CaptureQueriesContext(connection) as queries:
        issue()
    day_reads = [q["sql"] for q in queries if 'FROM "counter_ticketday"' in q["sql"]]
    assert day_reads, [q["sql"] for q in queries]
    if connection.vendor == "postgresql":
        assert all("FOR UPDATE" in sql for sql in day_reads), day_reads
    else:  # SQLite: every transaction is IMMEDIATE, i.e. holds the write lock from BEGIN
        assert connection.settings_dict["OPTIONS"].get("transaction_mode") == "IMMEDIATE"


def test_the_database_refuses_a_second_ticket_with_the_same_number(in_a):
    ticket = issue()
    with pytest.raises(IntegrityError), transaction.atomic(using="tenant_131016"):
        Ticket.objects.create(
            issued_on=ticket.issued_on, number=ticket.number, purpose="other", issued_at=at(9)
        )


def test_issue_refuses_an_unknown_purpose(in_a):
    for purpose in ("", "passport"):
        with pytest.raises(TicketError):
            issue(purpose=purpose)
    assert not Ticket.objects.exists()


# --- calling ---------------------------------------------------------------------------------


def test_call_next_picks_the_oldest_waiting_ticket(in_a, time_machine, clerk):
    time_machine.move_to(at(9), tick=False)
    first = issue(purpose=TicketPurpose.MOVE)
    time_machine.move_to(at(9, 1), tick=False)
    certificate = issue(purpose=TicketPurpose.CERTIFICATE)
    time_machine.move_to(at(9, 2), tick=False)
    second_move = issue(purpose=TicketPurpose.MOVE)
    time_machine.move_to(at(9, 3), tick=False)
    childcare = issue(purpose=TicketPurpose.CHILDCARE)

    assert call(counter="1番窓口", actor=clerk).pk == first.pk
    # restricted to one purpose, or to several
    assert call(counter="2番窓口", purpose=TicketPurpose.MOVE).pk == second_move.pk
    assert call(counter="3番窓口", purpose=[TicketPurpose.CHILDCARE, "other"]).pk == childcare.pk
    assert call(counter="4番窓口", purpose=TicketPurpose.MOVE) is None
    assert call(counter="4番窓口").pk == certificate.pk
    assert call(counter="5番窓口") is None

    called = fresh(first)
    assert called.status == TicketStatus.CALLED
    assert called.counter == "1番窓口"
    assert (called.called_by_id, called.called_by_username) == (clerk.pk, "clerk-a")
    assert called.called_at == called.last_called_at == at(9, 3)


def test_yesterdays_waiting_tickets_are_not_called(in_a, time_machine):
    time_machine.move_to(at(16, day=6), tick=False)
    issue()
    time_machine.move_to(at(9, day=7), tick=False)
    assert call() is None


def test_a_window_calls_one_ticket_at_a_time(in_a):
    issue(), issue()
    called = call(counter="1番窓口")
    with pytest.raises(TicketError, match="1番窓口 には 1番"):
        call(counter="1番窓口")
    with tenant_context(A):
        ticket_start(ticket=called, actor=None, terminal=None)
    with pytest.raises(TicketError):
        call(counter="1番窓口")
    with tenant_context(A):
        ticket_finish(ticket=called, actor=None, terminal=None)
    assert call(counter="1番窓口").number == 2


def test_call_next_needs_a_window_name_and_valid_purposes(in_a):
    issue()
    with pytest.raises(TicketError):
        call(counter="  ")
    with pytest.raises(TicketError):
        call(counter="x" * 41)
    with pytest.raises(TicketError):
        call(purpose="passport")
    assert Ticket.objects.get().status == TicketStatus.WAITING


# --- transitions and timestamps -------------------------------------------------------------


def test_a_ticket_never_called_cannot_be_finished(in_a):
    ticket = issue()
    for service in (ticket_finish, ticket_start, ticket_recall, ticket_no_show):
        with pytest.raises(TicketError, match="まだ呼び出していない"):
            service(ticket=ticket, actor=None, terminal=None)
    assert fresh(ticket).status == TicketStatus.WAITING
    assert [a for a, _, _ in audit()] == ["ticket.issued"]


def test_transitions_and_timestamps(in_a, time_machine, clerk):
    time_machine.move_to(at(9), tick=False)
    ticket = issue(actor=clerk)
    time_machine.move_to(at(9, 12), tick=False)
    call(actor=clerk)
    with pytest.raises(TicketError, match="受付開始の前"):
        ticket_finish(ticket=ticket, actor=clerk, terminal=None)
    time_machine.move_to(at(9, 13), tick=False)
    recalled = ticket_recall(ticket=ticket, actor=clerk, terminal=None)
    assert (recalled.call_count, recalled.called_at, recalled.last_called_at) == (
        2,
        at(9, 12),
        at(9, 13),
    )
    time_machine.move_to(at(9, 14), tick=False)
    ticket_start(ticket=ticket, actor=clerk, terminal=None)
    with pytest.raises(TicketError, match="対応中"):
        ticket_recall(ticket=ticket, actor=clerk, terminal=None)
    time_machine.move_to(at(9, 26), tick=False)
    done = ticket_finish(ticket=ticket, actor=clerk, terminal=None)
    assert done.status == TicketStatus.DONE
    stored = fresh(ticket)
    assert (stored.issued_at, stored.called_at, stored.served_at, stored.finished_at) == (
        at(9),
        at(9, 12),
        at(9, 14),
        at(9, 26),
    )
    for service in (ticket_finish, ticket_no_show, ticket_cancel, ticket_start):
        with pytest.raises(TicketError, match="完了"):
            service(ticket=ticket, actor=clerk, terminal=None)
    assert audit() == [
        ("ticket.issued", "2026-04-06#1", "clerk-a"),
        ("ticket.called", "2026-04-06#1", "clerk-a"),
        ("ticket.recalled", "2026-04-06#1", "clerk-a"),
        ("ticket.started", "2026-04-06#1", "clerk-a"),
        ("ticket.finished", "2026-04-06#1", "clerk-a"),
    ]


# --- a visit ends its ticket ------------------------------------------------------------------


def open_visit_for(ticket: Ticket, actor=None):
    return visit_open(
        event_type="move_within",
        event_date=datetime.date(2026, 4, 6),
        navigator_input={},
        atena_numbers=[],
        ticket=ticket,
        actor=actor,
        terminal=None,
    )


def test_a_visit_opened_from_a_ticket_finishes_it(in_a, time_machine, clerk):
    time_machine.move_to(at(9), tick=False)
    ticket = issue(actor=clerk)
    time_machine.move_to(at(9, 10), tick=False)
    call(actor=clerk)
    time_machine.move_to(at(9, 11), tick=False)
    ticket_start(ticket=ticket, actor=clerk, terminal=None)
    time_machine.move_to(at(9, 30), tick=False)
    visit = open_visit_for(ticket, actor=clerk)

    stored = fresh(ticket)
    assert stored.status == TicketStatus.DONE
    assert (stored.served_at, stored.finished_at) == (at(9, 11), at(9, 30))
    with tenant_context(A):
        entry = AuditEntry.objects.filter(action="ticket.finished").get()
        assert entry.function == "counter.ticket_finish_for_visit"
        assert entry.detail == {"status": "done", "counter": "1番窓口", "visit": visit.public_code}
        assert entry.actor_username == "clerk-a"
    # idempotent: a second finish (or the console's 完了) changes nothing
    time_machine.move_to(at(9, 40), tick=False)
    again = ticket_finish_for_visit(ticket=ticket, visit_code="X", actor=clerk, terminal=None)
    assert again is None
    with pytest.raises(TicketError, match="完了"):
        ticket_finish(ticket=ticket, actor=clerk, terminal=None)
    assert fresh(ticket).finished_at == at(9, 30)
    assert [a for a, _, _ in audit()].count("ticket.finished") == 1
    # the window is free for the next call
    issue()
    assert call(actor=clerk).number == 2


def test_a_called_ticket_is_finished_as_served_from_now(in_a, time_machine):
    time_machine.move_to(at(9), tick=False)
    ticket = issue()
    call()
    time_machine.move_to(at(9, 5), tick=False)
    open_visit_for(ticket)
    stored = fresh(ticket)
    assert stored.status == TicketStatus.DONE
    assert stored.served_at == stored.finished_at == at(9, 5)


def test_a_ticket_no_longer_at_a_window_is_left_alone(in_a):
    absent, waiting, cancelled = issue(), issue(), issue()
    assert call().pk == absent.pk
    with tenant_context(A):
        ticket_no_show(ticket=absent, actor=None, terminal=None)
        ticket_cancel(ticket=cancelled, actor=None, terminal=None)
    tickets = (absent, waiting, cancelled)
    before = [(fresh(t).status, fresh(t).finished_at) for t in tickets]
    for ticket in tickets:
        with tenant_context(A):
            assert open_visit_for(ticket).ticket_id == ticket.pk  # the visit keeps its link
    assert [(fresh(t).status, fresh(t).finished_at) for t in tickets] == before
    assert "ticket.finished" not in [a for a, _, _ in audit()]


def test_a_visit_of_another_municipality_cannot_finish_a_ticket(in_a, municipality_b):
    ticket = issue()
    call()
    with tenant_context(A):
        ticket_start(ticket=ticket, actor=None, terminal=None)
    with tenant_context(B):  # the ticket is A's: B's database has no such ticket
        assert (
            ticket_finish_for_visit(ticket=ticket, visit_code="X", actor=None, terminal=None)
            is None
        )
    assert fresh(ticket).status == TicketStatus.SERVING


def test_no_show_and_cancel(in_a, time_machine):
    time_machine.move_to(at(10), tick=False)
    absent, left, mistake = issue(), issue(), issue()
    call(counter="1番窓口")
    call(counter="2番窓口")
    time_machine.move_to(at(10, 5), tick=False)
    assert ticket_no_show(ticket=absent, actor=None, terminal=None).status == "no_show"
    assert ticket_cancel(ticket=left, actor=None, terminal=None).status == "cancelled"
    assert ticket_cancel(ticket=mistake, actor=None, terminal=None).status == "cancelled"
    assert fresh(absent).finished_at == at(10, 5)
    with pytest.raises(TicketError, match="不在"):
        ticket_start(ticket=absent, actor=None, terminal=None)
    # the window is free again once its ticket is absent
    issue()
    assert call(counter="1番窓口").number == 4
    actions = [a for a, _, _ in audit()]
    assert actions.count("ticket.no_show") == 1 and actions.count("ticket.cancelled") == 2


# --- reception ------------------------------------------------------------------------------


def test_reception_issues_a_ticket_and_shows_its_number(clerk, signed_in, in_a):
    client = signed_in(clerk)
    issue()  # someone is already waiting
    response = client.post("/131016/counter/reception/", {"purpose": "move"})
    ticket = Ticket.objects.get(number=2)
    assert response.status_code == 302
    assert response.url == f"/131016/counter/reception/?issued={ticket.pk}"
    page = client.get(response.url).content.decode()
    assert "<strong>2</strong>番" in page and "転入・転出・転居" in page
    assert "前にお待ちの方" in page and "1 人" in page
    assert "data-print" in page and "counter/print.js" in page
    assert audit()[-1] == ("ticket.issued", ticket.label, clerk.username)


def test_reception_refuses_a_bad_purpose(clerk, signed_in, in_a):
    client = signed_in(clerk)
    response = client.post("/131016/counter/reception/", {"purpose": "passport"}, follow=True)
    assert "用件が正しくありません" in response.content.decode()
    assert not Ticket.objects.exists()


def test_reception_cancels_a_ticket_issued_by_mistake(clerk, signed_in, in_a):
    ticket = issue()
    response = signed_in(clerk).post(
        f"/131016/counter/tickets/{ticket.pk}/cancel/", {"from": "reception"}, follow=True
    )
    assert "1番を取り消しました" in response.content.decode()
    assert fresh(ticket).status == TicketStatus.CANCELLED


def test_ticket_pages_need_a_counter_role(make_staff, municipality_a, signed_in, in_a):
    ticket = issue()
    department = make_staff(municipality_a, ("kosodate", Role.DEPARTMENT_STAFF))
    client = signed_in(department)
    for url in ("/131016/counter/reception/", "/131016/counter/call/", "/131016/counter/metrics/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/131016/counter/reception/", {"purpose": "move"}).status_code == 403
    assert client.post(f"/131016/counter/tickets/{ticket.pk}/cancel/").status_code == 403
    assert Ticket.objects.count() == 1 and fresh(ticket).status == TicketStatus.WAITING


# --- the console ----------------------------------------------------------------------------


def test_console_remembers_the_window_and_calls_with_htmx(clerk, signed_in, in_a):
    client = signed_in(clerk)
    page = client.get("/131016/counter/call/").content.decode()
    assert "先に窓口名を設定してください" in page
    response = client.post(
        "/131016/counter/call/window/", {"window": "3番窓口", "purposes": ["move", "family"]}
    )
    assert response.status_code == 302
    assert client.session["counter_window"] == "3番窓口"
    assert client.session["counter_purposes"] == ["move", "family"]

    issue(purpose="certificate"), issue(purpose="family")
    htmx = {"HTTP_HX_REQUEST": "true"}
    panel = client.post("/131016/counter/call/next/", **htmx).content.decode()
    assert "2番を3番窓口に呼び出しました" in panel
    assert "<strong>2</strong>番" in panel and "受付開始" in panel and "<html" not in panel
    ticket = Ticket.objects.get(number=2)
    assert (ticket.counter, ticket.called_by_username) == ("3番窓口", clerk.username)

    panel = client.post(f"/131016/counter/tickets/{ticket.pk}/start/", **htmx).content.decode()
    assert "2番の受付を開始しました" in panel and "完了" in panel
    panel = client.post("/131016/counter/call/next/", **htmx).content.decode()
    assert "完了または不在にしてから" in panel
    panel = client.post(f"/131016/counter/tickets/{ticket.pk}/finish/", **htmx).content.decode()
    assert "2番を完了にしました" in panel and "呼出中の番号はありません" in panel
    # only ticket 1 (証明書) waits, and this window calls 転入… and 出生… only
    panel = client.post("/131016/counter/call/next/", **htmx).content.decode()
    assert "お待ちの方はいません" in panel


def test_console_without_htmx_redirects_with_a_message(clerk, signed_in, in_a):
    client = signed_in(clerk)
    client.post("/131016/counter/call/window/", {"window": "1番窓口"})
    issue()
    response = client.post("/131016/counter/call/next/")
    assert response.status_code == 302 and response.url == "/131016/counter/call/"
    page = client.get(response.url).content.decode()
    assert "1番を1番窓口に呼び出しました" in page
    ticket = Ticket.objects.get()
    response = client.post(f"/131016/counter/tickets/{ticket.pk}/finish/", follow=True)
    assert "受付開始の前のため、完了にできません" in response.content.decode()


def test_console_refuses_a_bad_window_and_unknown_actions(clerk, signed_in, in_a):
    client = signed_in(clerk)
    response = client.post("/131016/counter/call/window/", {"window": ""})
    assert response.status_code == 400
    response = client.post("/131016/counter/call/next/", HTTP_HX_REQUEST="true")
    assert "先に窓口名を設定してください" in response.content.decode()
    ticket = issue()
    assert client.post(f"/131016/counter/tickets/{ticket.pk}/explode/").status_code == 404
    assert client.post("/131016/counter/tickets/999999/finish/").status_code == 404
    assert client.get(f"/131016/counter/tickets/{ticket.pk}/finish/").status_code == 405


def test_console_queue_lists_waiting_by_purpose(clerk, signed_in, in_a):
    client = signed_in(clerk)
    for purpose in ("move", "move", "certificate"):
        issue(purpose=purpose)
    html = client.get("/131016/counter/call/queue/", HTTP_HX_REQUEST="true").content.decode()
    assert "お待ちの方 3 人" in html
    assert "1、2" in html and "<html" not in html


# --- the public display board ---------------------------------------------------------------


def test_board_needs_no_login_and_shows_calls(client, in_a):
    for _ in range(4):
        issue()
    call(counter="1番窓口")
    call(counter="2番窓口")
    response = client.get("/131016/counter/board/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert "千代田区" in page and "窓口呼出状況" in page
    # the latest call, large and announced politely; the one before in the list
    assert 'aria-live="polite"' in page
    assert '<span class="board-number">2<small>番</small></span>' in page
    assert "2番の方、2番窓口へお越しください。" in page
    assert "1番窓口" in page
    assert "お待ちの方 <strong>2</strong> 人" in page
    assert 'hx-trigger="every 3s"' in page and 'hx-get="/131016/counter/board/calls/"' in page
    assert "<script>" not in page  # only the nonce'd htmx script tag (CSP)
    assert "site-header" not in page  # no staff header on a public screen


def _side_panel(html: str) -> str:
    return html.split('class="board-earlier"')[1].split("</section>")[0]


def test_board_side_panel_lists_the_number_being_called(client, in_a):
    assert '<p class="board-none">—</p>' in _side_panel(
        client.get("/131016/counter/board/").content.decode()
    )
    ticket = issue()
    call(counter="3番窓口")
    for url in ("/131016/counter/board/", "/131016/counter/board/calls/"):
        panel = _side_panel(client.get(url).content.decode())
        assert "—" not in panel
        assert '<td class="board-number">1<small>番</small></td>' in panel and "3番窓口" in panel
    # the intake confirms a visit for it: the number leaves the board
    with tenant_context(A):
        ticket_start(ticket=ticket, actor=None, terminal=None)
        open_visit_for(ticket)
    page = client.get("/131016/counter/board/").content.decode()
    assert "3番窓口" not in page and '<p class="board-none">—</p>' in _side_panel(page)


def test_board_poll_answers_204_when_nothing_changed(client, in_a):
    issue(), issue()
    first = client.get("/131016/counter/board/calls/")
    assert first.status_code == 200 and "no-cache" in first["Cache-Control"]
    html = first.content.decode()
    assert "お待ちの方 <strong>2</strong> 人" in html and "<html" not in html
    state = html.split('name="state" value="')[1].split('"')[0]
    assert client.get("/131016/counter/board/calls/", {"state": state}).status_code == 204

    # a new ticket changes the count only: no out-of-band update of the latest call
    issue()
    changed = client.get("/131016/counter/board/calls/", {"state": state})
    assert changed.status_code == 200 and "hx-swap-oob" not in changed.content.decode()
    state = changed.content.decode().split('name="state" value="')[1].split('"')[0]
    # a call changes the latest call: it is sent out of band into the aria-live region
    call(counter="5番窓口")
    html = client.get("/131016/counter/board/calls/", {"state": state}).content.decode()
    assert 'id="board-latest" hx-swap-oob="innerHTML"' in html and "5番窓口" in html


def test_board_shows_only_tickets_at_a_window(client, in_a):
    tickets = [issue() for _ in range(8)]
    for window in range(1, 8):
        call(counter=f"{window}番窓口")
    with tenant_context(A):
        ticket_start(ticket=tickets[0], actor=None, terminal=None)
        ticket_finish(ticket=tickets[0], actor=None, terminal=None)
        ticket_no_show(ticket=tickets[1], actor=None, terminal=None)
    page = client.get("/131016/counter/board/").content.decode()
    # 5 still at a window (3–7): all shown; finished and absent ones are gone
    for window in range(3, 8):
        assert f"{window}番窓口" in page
    assert "1番窓口" not in page and "2番窓口" not in page
    # a recall puts a number back on top
    with tenant_context(A):
        ticket_recall(ticket=tickets[2], actor=None, terminal=None)
    page = client.get("/131016/counter/board/").content.decode()
    assert "3番の方、3番窓口へお越しください。（再呼出）" in page


def test_board_of_a_never_shows_b(client, clerk_b, signed_in, in_a, municipality_b):
    issue(A), call(A, counter="Aの窓口")
    for _ in range(3):
        issue(B)
    call(B, counter="Bの窓口")
    for url in ("/131016/counter/board/", "/131016/counter/board/calls/"):
        # anonymous screens, and staff of B (the board is public), see only A's calls
        for viewer in (client, signed_in(clerk_b)):
            page = viewer.get(url).content.decode()
            assert "Aの窓口" in page and "Bの窓口" not in page, url
            assert "お待ちの方 <strong>0</strong> 人" in page
    page = client.get("/271403/counter/board/").content.decode()
    assert "堺市" in page and "Bの窓口" in page and "Aの窓口" not in page


def test_staff_of_b_are_refused_on_a_staff_pages(clerk_b, signed_in, in_a, municipality_b):
    ticket = issue(A)
    client = signed_in(clerk_b)
    for url in (
        "/131016/counter/reception/",
        "/131016/counter/call/",
        "/131016/counter/call/queue/",
        "/131016/counter/metrics/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        "/131016/counter/reception/",
        "/131016/counter/call/window/",
        "/131016/counter/call/next/",
        f"/131016/counter/tickets/{ticket.pk}/cancel/",
    ):
        assert client.post(url, {"purpose": "move", "window": "1"}).status_code == 403, url
    assert Ticket.objects.count() == 1 and fresh(ticket).status == TicketStatus.WAITING


# --- query counts ---------------------------------------------------------------------------


def _queries(client, url, **extra) -> tuple[int, int]:
    with (
        CaptureQueriesContext(connections["tenant_131016"]) as tenant,
        CaptureQueriesContext(connections["default"]) as control,
    ):
        response = client.get(url, **extra)
    assert response.status_code == 200, url
    return len(tenant), len(control)


def test_board_and_console_queries_do_not_grow_with_tickets(clerk, signed_in, client, in_a):
    staff = signed_in(clerk)
    staff.post("/131016/counter/call/window/", {"window": "1番窓口"})
    counts: dict[str, list[tuple[int, int]]] = {"board": [], "calls": [], "call": [], "queue": []}
    for total in (3, 30):
        for i in range(total):
            issue(purpose=TicketPurpose.values[i % len(TicketPurpose.values)])
        for window in range(total // 3):
            call(counter=f"{total}-{window}番窓口")
        if not Ticket.objects.filter(counter="1番窓口", status="called").exists():
            call(counter="1番窓口")
        counts["board"].append(_queries(client, "/131016/counter/board/"))
        counts["calls"].append(_queries(client, "/131016/counter/board/calls/"))
        counts["call"].append(_queries(staff, "/131016/counter/call/"))
        counts["queue"].append(_queries(staff, "/131016/counter/call/queue/"))
    for name, (small, large) in counts.items():
        assert small == large, (name, small, large)
    # the public board: two tenant queries (calls, waiting count)
    assert counts["calls"][0][0] == 2 and counts["board"][0][0] == 2


# --- polling is not activity --------------------------------------------------------------


def _last_seen(client) -> float:
    from machi.accounts.middleware import LAST_SEEN

    return client.session[LAST_SEEN]


def _age_session(client, seconds: float) -> float:
    from django.utils import timezone

    from machi.accounts.middleware import LAST_SEEN

    session = client.session
    session[LAST_SEEN] = timezone.now().timestamp() - seconds
    session.save()
    return session[LAST_SEEN]


def test_polling_keeps_no_session_alive(clerk, signed_in, in_a):
    """The console's waiting list and the board refresh themselves: that must not hold
    an unattended staff session open past the 15-minute idle timeout."""
    client = signed_in(clerk)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "console-queue"}
    before = _age_session(client, 60)
    assert client.get("/131016/counter/call/queue/", **htmx).status_code == 200
    assert client.get("/131016/counter/board/calls/", **htmx).status_code == 200
    assert _last_seen(client) == before
    # a real action is activity
    client.get("/131016/counter/call/")
    assert _last_seen(client) > before


def test_console_stops_polling_before_the_idle_timeout(clerk, signed_in, in_a):
    client = signed_in(clerk)
    _age_session(client, 15 * 60 - 5)
    response = client.get("/131016/counter/call/queue/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx: stop polling
    assert "自動更新を止めました" in response.content.decode()

"""The agent's ticket list sorted by SLA due time (next breach first, tickets whose
clock stands last) besides the newest-first order: the choice is a form control
(keyboard: a native select and the submit button), kept in the query string and the
page links, and the query count stays constant."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from machi.contact.models import Channel, Priority
from machi.contact.services.sla import sla_policy_set
from machi.contact.services.tickets import ticket_create, ticket_reply, ticket_state_change
from machi.contact.tests.test_staff_tickets import _queries
from machi.japanese.business_time import JST

pytestmark = pytest.mark.django_db(databases="__all__")
A = "131016"
MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=JST)  # a working day


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


@pytest.fixture
def policies(agent, make_staff, municipality_a):
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    for priority, first, resolution in (
        (Priority.URGENT, 30, 240),
        (Priority.HIGH, 120, 480),
        (Priority.NORMAL, 240, 2400),
        (Priority.LOW, 480, 4800),
    ):
        sla_policy_set(priority=priority, first_response_minutes=first,
                       resolution_minutes=resolution, actor=admin)  # fmt: skip


def ticket(agent, subject, priority, minutes):
    return ticket_create(channel=Channel.PHONE, subject=subject, body="質問", actor=agent,
                         priority=priority, now=MONDAY + dt.timedelta(minutes=minutes))  # fmt: skip


def numbers(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([0-9-]+)</a>', html)


def test_sort_by_due_puts_the_next_breach_first(agent, policies, signed_in):
    low = ticket(agent, "低", Priority.LOW, 0)  # first response due 17:00
    urgent = ticket(agent, "緊急", Priority.URGENT, 60)  # due 10:30
    high = ticket(agent, "高", Priority.HIGH, 30)  # due 11:30
    waiting = ticket(agent, "回答待ち", Priority.URGENT, 10)  # the clock stands: no due
    ticket_state_change(ticket=waiting, state="pending_customer", actor=agent,
                        now=MONDAY + dt.timedelta(minutes=11))  # fmt: skip
    answered = ticket(agent, "回答済み", Priority.NORMAL, 5)  # resolution due days later
    ticket_reply(ticket=answered, body="回答", actor=agent, now=MONDAY + dt.timedelta(minutes=6))
    client = signed_in(agent)
    path = reverse("contact:tickets", args=[A])
    by_due = client.get(path, {"sort": "due"})
    assert numbers(by_due.content.decode()) == [
        urgent.number,
        high.number,
        low.number,
        answered.number,
        waiting.number,
    ]
    newest = client.get(path)
    assert numbers(newest.content.decode()) == [
        urgent.number,
        high.number,
        waiting.number,
        answered.number,
        low.number,
    ]
    # filters and the sort together
    urgent_only = client.get(path, {"sort": "due", "priority": Priority.URGENT})
    assert numbers(urgent_only.content.decode()) == [urgent.number, waiting.number]


def test_the_choice_is_a_form_control_kept_in_the_query_string(agent, policies, signed_in):
    for i in range(51):
        ticket(agent, f"件 {i}", Priority.NORMAL, i)
    client = signed_in(agent)
    page = client.get(reverse("contact:tickets", args=[A]), {"sort": "due"})
    html = page.content.decode()
    assert re.search(r'<label for="id_sort">並び順', html)
    assert re.search(r'<select name="sort"[^>]*id="id_sort"', html)
    assert '<option value="due" selected>' in html
    assert 'aria-sort="ascending"' in html and "SLA期限の近い順" in html
    assert "?sort=due&amp;page=2" in html  # the next page keeps the order
    second = client.get(reverse("contact:tickets", args=[A]), {"sort": "due", "page": 2})
    assert len(numbers(second.content.decode())) == 1
    # an unknown order is refused by the form: the default list, not an error
    odd = client.get(reverse("contact:tickets", args=[A]), {"sort": "created_at; drop"})
    assert odd.status_code == 200 and 'aria-sort="descending"' in odd.content.decode()


def test_sort_by_due_runs_a_constant_number_of_queries(agent, policies, signed_in):
    client = signed_in(agent)
    path = reverse("contact:tickets", args=[A]) + "?sort=due"
    for i in range(3):
        ticket(agent, f"件 {i}", Priority.NORMAL, i)
    few = _queries(client, path)
    for i in range(30):
        ticket(agent, f"件 {i}", Priority.HIGH if i % 2 else Priority.LOW, 10 + i)
    assert _queries(client, path) == few


def test_sort_refuses_wrong_role_and_other_municipality(agent, make_staff, municipality_a,
                                                        municipality_b, signed_in):  # fmt: skip
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get(reverse("contact:tickets", args=[A]),
                                {"sort": "due"}).status_code == 403  # fmt: skip
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(other).get(reverse("contact:tickets", args=[A]),
                                {"sort": "due"}).status_code in (403, 404)  # fmt: skip

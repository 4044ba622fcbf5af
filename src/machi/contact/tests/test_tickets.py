"""Tickets and their SLA timers on business time: weekend, holiday, 年末年始, pauses,
escalation before breach, breaches, first-contact resolution, rights and isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from machi.audit.models import AuditEntry
from machi.contact.models import Channel, FaqSearch, Priority, Ticket, TicketState
from machi.contact.selectors import contact_metrics
from machi.contact.services.faq import faq_search_log
from machi.contact.services.sla import contact_hours_set, sla_policy_set, sla_sweep
from machi.contact.services.tickets import (
    TicketError,
    ticket_assign,
    ticket_create,
    ticket_customer_message,
    ticket_escalate,
    ticket_link_resident,
    ticket_merge,
    ticket_note,
    ticket_reply,
    ticket_state_change,
)
from machi.japanese.business_time import JST
from machi.registry.tests.conftest import person

pytestmark = pytest.mark.django_db(databases="__all__")


def J(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


@pytest.fixture
def admin(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"))


@pytest.fixture
def policy(admin):
    # 2 hours to answer, 1 business day (525 min) to resolve, escalate 30 min before
    return sla_policy_set(priority=Priority.NORMAL, first_response_minutes=120,
                          resolution_minutes=525, warn_before_minutes=30, actor=admin)  # fmt: skip


def phone(agent, at: dt.datetime, **kwargs) -> Ticket:
    return ticket_create(channel=Channel.PHONE, subject="住民票について", body="住民票を取りたい",
                         actor=agent, now=at, **kwargs)  # fmt: skip


@pytest.mark.parametrize(
    ("created", "first_due", "resolution_due"),
    [
        (J(2025, 4, 8, 9, 0), J(2025, 4, 8, 11, 0), J(2025, 4, 9, 9, 0)),  # Tuesday
        (J(2025, 4, 4, 16, 0), J(2025, 4, 7, 9, 15), J(2025, 4, 7, 16, 0)),  # over a weekend
        (J(2025, 5, 2, 16, 0), J(2025, 5, 7, 9, 15), J(2025, 5, 7, 16, 0)),  # 5/6 振替休日
        (J(2025, 12, 26, 16, 0), J(2026, 1, 5, 9, 15), J(2026, 1, 5, 16, 0)),  # 年末年始
        (J(2025, 4, 5, 11, 0), J(2025, 4, 7, 10, 30), J(2025, 4, 7, 17, 15)),  # on a Saturday
        (J(2025, 4, 8, 20, 0), J(2025, 4, 9, 10, 30), J(2025, 4, 9, 17, 15)),  # after hours
    ],
)
def test_due_moments_count_business_time(agent, policy, created, first_due, resolution_due):
    ticket = phone(agent, created)
    assert ticket.number.startswith(str(created.year) + "-")
    assert (ticket.sla_first_response_due_at, ticket.sla_resolution_due_at) == (
        first_due, resolution_due,
    )  # fmt: skip
    assert ticket.sla_warn_at < first_due


def test_a_municipality_closed_day_and_its_hours(agent, admin, policy, settings):
    from machi.procedures import services as catalogue

    catalogue.catalogue_upload(text="closed_days: [2025-04-09]\n", actor=admin, comment="休庁日")
    ticket = phone(agent, J(2025, 4, 8, 16, 0))
    assert ticket.sla_first_response_due_at == J(2025, 4, 10, 9, 15)  # 4/9 closed
    contact_hours_set(hours={"3": "9:00-12:00"}, actor=admin)  # Thursday mornings only
    ticket.refresh_from_db()
    assert ticket.sla_first_response_due_at == J(2025, 4, 10, 9, 45)
    with pytest.raises(TicketError):
        contact_hours_set(hours={"3": "9時から"}, actor=admin)
    with pytest.raises(PermissionDenied):
        contact_hours_set(hours={"3": "9:00-12:00"}, actor=agent)


def test_pending_pauses_the_clock(agent, policy):
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_reply(ticket=ticket, body="本人確認書類はお持ちですか。", actor=agent,
                 state=TicketState.PENDING_CUSTOMER, now=J(2025, 4, 8, 10, 0))  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.first_response_business_minutes == 60
    assert ticket.sla_resolution_due_at is None and ticket.sla_paused_since is not None
    # the resident answers the next day at 10:00: 525 open minutes stood paused
    ticket_customer_message(ticket=ticket, body="あります。", channel=Channel.WEB,
                            now=J(2025, 4, 9, 10, 0))  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN and ticket.sla_paused_seconds == 525 * 60
    assert ticket.sla_resolution_due_at == J(2025, 4, 10, 9, 0)  # 525 + 525 paused
    ticket_state_change(ticket=ticket, state=TicketState.RESOLVED, actor=agent,
                        now=J(2025, 4, 9, 11, 0))  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.resolution_business_minutes == 120  # 9–10 on the 8th, 10–11 on the 9th
    assert ticket.first_contact_resolution is False  # it waited for the resident


def test_sweep_escalates_before_and_records_breaches(agent, policy):
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    assert sla_sweep(now=J(2025, 4, 8, 10, 29)) == {
        "escalated": 0, "first_response_breached": 0, "resolution_breached": 0}  # fmt: skip
    assert sla_sweep(now=J(2025, 4, 8, 10, 30))["escalated"] == 1  # 30 min before 11:00
    assert sla_sweep(now=J(2025, 4, 8, 10, 45))["escalated"] == 0  # marked once
    result = sla_sweep(now=J(2025, 4, 9, 9, 5))
    assert result == {"escalated": 0, "first_response_breached": 1, "resolution_breached": 1}
    ticket.refresh_from_db()
    assert ticket.sla_escalated_at == J(2025, 4, 8, 10, 30)
    assert ticket.sla_first_response_breached_at == J(2025, 4, 8, 11, 0)  # the due moment
    assert ticket.sla_resolution_breached_at == J(2025, 4, 9, 9, 0)
    assert sla_sweep(now=J(2025, 4, 10, 9, 0))["first_response_breached"] == 0
    actions = list(ticket.events.values_list("action", flat=True))
    assert actions.count("sla_escalated") == 1 and "sla_resolution_breached" in actions
    assert AuditEntry.objects.filter(action="contact.ticket.sla_first_response_breached",
                                     object_id=ticket.number).count() == 1  # fmt: skip


def test_paused_tickets_are_not_swept(agent, policy):
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_state_change(ticket=ticket, state=TicketState.PENDING_CUSTOMER, actor=agent,
                        now=J(2025, 4, 8, 9, 10))  # fmt: skip
    assert sla_sweep(now=J(2025, 4, 20, 9, 0))["first_response_breached"] == 0


def test_a_late_reply_records_the_breach(agent, policy):
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_reply(ticket=ticket, body="お待たせしました。", actor=agent, now=J(2025, 4, 8, 13, 0))
    ticket.refresh_from_db()
    assert ticket.sla_first_response_breached_at == J(2025, 4, 8, 11, 0)
    assert ticket.sla_first_response_due_at is None  # met: no longer due


def test_first_contact_resolution(agent, policy):
    answered = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_reply(ticket=answered, body="市民課の窓口で請求できます。", actor=agent,
                 state=TicketState.RESOLVED, now=J(2025, 4, 8, 9, 5))  # fmt: skip
    answered.refresh_from_db()
    assert answered.first_contact_resolution is True and answered.state == TicketState.RESOLVED
    twice = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_reply(ticket=twice, body="確認します。", actor=agent, now=J(2025, 4, 8, 9, 5))
    ticket_customer_message(ticket=twice, body="まだですか", channel=Channel.WEB,
                            now=J(2025, 4, 8, 9, 30))  # fmt: skip
    ticket_reply(ticket=twice, body="請求できます。", actor=agent, state=TicketState.RESOLVED,
                 now=J(2025, 4, 8, 10, 0))  # fmt: skip
    twice.refresh_from_db()
    assert twice.first_contact_resolution is False
    # a note is no reply; reopening loses the mark
    ticket_note(ticket=answered, body="念のため", actor=agent, now=J(2025, 4, 8, 9, 6))
    ticket_state_change(ticket=answered, state=TicketState.OPEN, actor=agent,
                        now=J(2025, 4, 8, 9, 7))  # fmt: skip
    answered.refresh_from_db()
    assert answered.first_contact_resolution is False
    metrics = contact_metrics(since=J(2025, 4, 1), until=J(2025, 5, 1))
    assert metrics["channels"]["phone"]["tickets"] == 2


def test_assign_escalate_merge(agent, policy, make_staff, municipality_a, municipality_b):
    ticket = phone(agent, J(2025, 4, 8, 9, 0), group="shimin", group_name="市民課")
    colleague = make_staff(municipality_a, ("zeimu", "department_staff"))
    ticket_assign(ticket=ticket, owner=colleague, actor=agent, now=J(2025, 4, 8, 9, 1))
    ticket.refresh_from_db()
    assert ticket.owner_id == colleague.pk and ticket.state == TicketState.OPEN
    stranger = make_staff(municipality_b, ("shimin", "counter_clerk"))
    with pytest.raises(TicketError):
        ticket_assign(ticket=ticket, owner=stranger, actor=agent)
    with pytest.raises(TicketError):
        ticket_escalate(ticket=ticket, department="zeimu", reason=" ", actor=agent)
    with pytest.raises(TicketError):
        ticket_escalate(ticket=ticket, department="nowhere", reason="税の質問", actor=agent)
    ticket_escalate(ticket=ticket, department="zeimu", reason="税の質問", actor=agent,
                    now=J(2025, 4, 8, 9, 2))  # fmt: skip
    ticket.refresh_from_db()
    assert (ticket.group, ticket.group_name, ticket.owner_id) == ("zeimu", "税務課", None)
    assert ticket.events.get(action="escalated").from_value == "shimin"
    duplicate = phone(agent, J(2025, 4, 8, 9, 30))
    ticket_merge(ticket=duplicate, into=ticket, actor=agent, now=J(2025, 4, 8, 9, 31))
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == ticket.pk and duplicate.state == TicketState.CLOSED
    assert ticket.articles.count() == 2
    with pytest.raises(TicketError):
        ticket_reply(ticket=duplicate, body="回答", actor=agent)
    with pytest.raises(TicketError):
        ticket_merge(ticket=ticket, into=ticket, actor=agent)


def test_bad_input_and_transitions(agent, admin, policy):
    with pytest.raises(TicketError):
        ticket_create(channel="fax", subject="件名", body="内容", actor=agent)
    with pytest.raises(TicketError):
        ticket_create(channel=Channel.PHONE, subject=" ", body="内容", actor=agent)
    with pytest.raises(TicketError):
        ticket_create(channel=Channel.PHONE, subject="件名", body="内容", actor=agent, priority=9)
    assert Ticket.objects.count() == 0
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    ticket_state_change(ticket=ticket, state=TicketState.CLOSED, actor=agent,
                        now=J(2025, 4, 8, 9, 1))  # fmt: skip
    with pytest.raises(TicketError):
        ticket_state_change(ticket=ticket, state=TicketState.OPEN, actor=agent)
    with pytest.raises(TicketError):
        sla_policy_set(priority=Priority.HIGH, first_response_minutes=60, resolution_minutes=30,
                       actor=admin)  # fmt: skip


def test_rights(agent, admin, make_staff, municipality_a, municipality_b):
    # an administrator without a working role, and another municipality's clerk
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    for actor in (admin, other, None):
        with pytest.raises(PermissionDenied):
            ticket_create(channel=Channel.PHONE, subject="件名", body="内容", actor=actor)
    web = ticket_create(channel=Channel.WEB, subject="件名", body="内容", actor=None)
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=web, body="回答", actor=admin)
    with pytest.raises(PermissionDenied):
        sla_policy_set(priority=1, first_response_minutes=1, resolution_minutes=2, actor=agent)


def test_link_resident_is_audited_and_needs_the_right(agent, admin, move_in):
    (resident,) = move_in([person("山田 太郎", "ヤマダ タロウ")])
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    with pytest.raises(PermissionDenied):
        ticket_link_resident(ticket=ticket, atena_number=resident.atena_number, actor=admin,
                             purpose="本人確認")  # fmt: skip
    with pytest.raises(TicketError):
        ticket_link_resident(ticket=ticket, atena_number=resident.atena_number, actor=agent,
                             purpose=" ")  # fmt: skip
    with pytest.raises(TicketError):
        ticket_link_resident(ticket=ticket, atena_number="999", actor=agent, purpose="本人確認")
    ticket_link_resident(ticket=ticket, atena_number=resident.atena_number, actor=agent,
                         purpose="本人確認")  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.atena_number == resident.atena_number
    viewed = AuditEntry.objects.filter(action="resident.viewed", object_id=resident.atena_number)
    linked = AuditEntry.objects.get(action="contact.ticket.resident_linked")
    assert viewed.filter(function="contact.ticket_link_resident").count() == 1
    assert linked.purpose == "本人確認" and linked.detail == {"ticket": ticket.number}
    assert "山田" not in str(linked.detail)


def test_searches_before_a_ticket_are_not_deflected(in_a):
    followed = faq_search_log(query="住民票", source="resident", result_ids=[])
    deflected = faq_search_log(query="ごみ", source="resident", result_ids=[])
    ticket = ticket_create(channel=Channel.WEB, subject="件名", body="内容", actor=None,
                           faq_search_ids=[followed.pk])  # fmt: skip
    assert FaqSearch.objects.get(pk=followed.pk).ticket_id == ticket.pk
    assert FaqSearch.objects.get(pk=deflected.pk).ticket_id is None


def test_tickets_stay_in_their_municipality(agent, municipality_b):
    from machi.tenancy.context import tenant_context

    phone(agent, J(2025, 4, 8, 9, 0))
    with tenant_context("271403"):
        assert Ticket.objects.count() == 0


def test_the_periodic_sweep_runs_in_every_municipality(agent, policy, time_machine):
    from machi.contact.tasks import SWEEP_EVERY, contact_sla_sweep_task
    from machi.tenancy.periodic import periodic_tasks

    assert periodic_tasks()["machi.contact.tasks.contact_sla_sweep_task"] == SWEEP_EVERY
    ticket = phone(agent, J(2025, 4, 8, 9, 0))
    time_machine.move_to(J(2025, 4, 9, 9, 5), tick=False)
    done = contact_sla_sweep_task.call()
    assert done["131016"]["first_response_breached"] == 1
    assert done["271403"] == {"escalated": 0, "first_response_breached": 0,
                              "resolution_breached": 0}  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.sla_resolution_breached_at == J(2025, 4, 9, 9, 0)

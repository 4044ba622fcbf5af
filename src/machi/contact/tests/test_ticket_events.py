"""Ticket events through the outbox: one ``jp.machi.ticket.created`` per ticket from
every channel (phone, web form, mail, counter hand-over), status changes, replies,
escalation and merge; thin data (no name, address, phone or text); nothing when the
write is refused; and a real webhook receiver gets them signed."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from machi.contact.mail.receive import mail_receive
from machi.contact.models import Channel, Ticket, TicketState
from machi.contact.services.tickets import (
    TicketError,
    ticket_create,
    ticket_escalate,
    ticket_merge,
    ticket_reply,
    ticket_state_change,
)
from machi.linkage import services as linkage
from machi.linkage.delivery import DeliveryWorker, RetryPolicy
from machi.linkage.models import OutboxEvent
from machi.linkage.tests.receiver import Receiver
from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate

pytestmark = pytest.mark.django_db(databases="__all__")
A = "131016"
NAME, PHONE, MAIL = "山田 太郎", "03-1234-5678", "taro@example.jp"
QUESTION = "xyzzy の件で相談したい"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


def ticket_events(prefix: str = "jp.machi.ticket."):
    return list(OutboxEvent.objects.filter(type__startswith=prefix).order_by("seq"))


def assert_thin(event: OutboxEvent) -> None:
    text = json.dumps(event.data, ensure_ascii=False)
    for personal in (NAME, PHONE, MAIL, "taro", QUESTION, "xyzzy"):
        assert personal not in text


FORM = {"subject": "相談", "question": QUESTION, "priority": "2", "group": "shimin",
        "topic": "", "contact_name": NAME, "contact_phone": PHONE}  # fmt: skip


def by_phone(agent, signed_in) -> None:
    response = signed_in(agent).post(
        reverse("contact:ticket_new", args=[A]), {**FORM, "action": "create"}
    )
    assert response.status_code == 302


def by_counter(agent, signed_in) -> None:
    response = signed_in(agent).post(reverse("contact:handover", args=[A]), FORM)
    assert response.status_code == 302


def by_web(agent, signed_in) -> None:
    response = Client().post(f"/{A}/contact/", {"question": QUESTION, "name": NAME,
                                                  "email": MAIL, "confirm": "1"})  # fmt: skip
    assert response.status_code == 302


def by_mail(agent, signed_in) -> None:
    raw = (
        f"From: {MAIL}\r\nTo: contact@city.example.jp\r\nSubject: 相談\r\n"
        f"Message-ID: <e1@example.jp>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{QUESTION}\r\n"
    ).encode()
    assert mail_receive(raw=raw, source="pipe").outcome == "created"


@pytest.mark.parametrize(
    ("path", "channel"),
    [(by_phone, Channel.PHONE), (by_web, Channel.WEB), (by_mail, Channel.MAIL),
     (by_counter, Channel.COUNTER)],
)  # fmt: skip
def test_every_channel_emits_created_once(agent, signed_in, path, channel):
    path(agent, signed_in)
    ticket = Ticket.objects.get()
    (event,) = ticket_events()
    assert event.type == "jp.machi.ticket.created"
    assert event.subject == ticket.number
    assert event.data == {
        "number": ticket.number, "channel": channel, "state": TicketState.NEW,
        "priority": ticket.priority, "group": ticket.group, "topic": ticket.topic,
    }  # fmt: skip
    assert event.source == f"/municipalities/{A}"
    assert_thin(event)


def test_reply_state_escalation_and_merge_emit_their_events(agent, make_staff, municipality_a):
    ticket = ticket_create(channel=Channel.PHONE, subject="相談", body=QUESTION, actor=agent,
                           contact_name=NAME, contact_phone=PHONE, group="shimin")  # fmt: skip
    other = ticket_create(channel=Channel.PHONE, subject="同じ相談", body=QUESTION, actor=agent)
    reply = ticket_reply(ticket=ticket, body="回答です", actor=agent,
                         state=TicketState.PENDING_CUSTOMER)  # fmt: skip
    ticket_state_change(ticket=ticket, state=TicketState.OPEN, actor=agent)
    ticket_escalate(ticket=ticket, department="zeimu", reason="税の質問", actor=agent)
    ticket_merge(ticket=other, into=ticket, actor=agent)
    got = [(e.type.removeprefix("jp.machi.ticket."), e.subject, e.data)
           for e in ticket_events()[2:]]  # fmt: skip
    n, m = ticket.number, other.number
    assert got == [
        ("replied", n, {"number": n, "article_id": reply.pk, "channel": "phone"}),
        ("status_changed", n, {"number": n, "from": "new", "to": "pending_customer"}),
        ("status_changed", n, {"number": n, "from": "pending_customer", "to": "open"}),
        ("escalated", n, {"number": n, "from": "shimin", "to": "zeimu"}),
        ("merged", m, {"number": m, "into": n}),
        ("status_changed", m, {"number": m, "from": "new", "to": "closed"}),
    ]  # fmt: skip
    for event in ticket_events():
        assert_thin(event)


def test_a_refused_write_emits_nothing(agent):
    ticket = ticket_create(channel=Channel.PHONE, subject="相談", body=QUESTION, actor=agent)
    before = len(ticket_events())
    with pytest.raises(TicketError):
        ticket_state_change(ticket=ticket, state="nowhere", actor=agent)
    with pytest.raises(TicketError):
        ticket_escalate(ticket=ticket, department="nope", reason="x", actor=agent)
    with pytest.raises(TicketError):
        ticket_reply(ticket=ticket, body="  ", actor=agent)
    # no state change, no event either
    ticket_state_change(ticket=ticket, state=TicketState.NEW, actor=agent)
    assert len(ticket_events()) == before


def test_a_webhook_subscription_receives_ticket_events(agent, signed_in):
    receiver = Receiver(secret=secret_generate()).start()
    try:
        linkage.subscription_create(
            name="庁内FAQシステム", url=receiver.url, types=["jp.machi.ticket.*"],
            secret=receiver.secret,
        )  # fmt: skip
        by_phone(agent, signed_in)
        ticket = Ticket.objects.get()
        ticket_reply(ticket=ticket, body="回答です", actor=agent, state=TicketState.RESOLVED)
        worker = DeliveryWorker(
            lg_codes=[A], poll_interval=0.01, timeout=2.0,
            policy=RetryPolicy(first_delay=0.01, factor=2, max_delay=0.1, give_up_after=3600),
        )  # fmt: skip
        worker.drain()
        worker.shutdown()
        got = [r.event for r in receiver.unique() if r.event["type"] != VERIFICATION_TYPE]
    finally:
        receiver.stop()
    assert [(e["type"], e["subject"]) for e in got] == [
        ("jp.machi.ticket.created", ticket.number),
        ("jp.machi.ticket.replied", ticket.number),
        ("jp.machi.ticket.status_changed", ticket.number),
    ]
    assert got[2]["data"] == {"number": ticket.number, "from": "new", "to": "resolved"}
    assert receiver.bad_signatures == 0

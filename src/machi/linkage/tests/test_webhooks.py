"""Push webhooks with real HTTP receivers: signatures, ordering, retries, dead letters."""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from standardwebhooks import Webhook

from machi.audit.models import AuditEntry
from machi.linkage import services
from machi.linkage.delivery import DeliveryWorker, RetryPolicy
from machi.linkage.models import Delivery, DeliveryStatus, Subscription
from machi.linkage.sealing import secret_open
from machi.linkage.services import outbox_append
from machi.linkage.tests.receiver import Receiver, in_order_per_subject
from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

FAST = RetryPolicy(first_delay=0.01, factor=2, max_delay=0.1, give_up_after=3600)


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        item = Receiver(secret=kwargs.pop("secret", None) or secret_generate(), **kwargs)
        made.append(item.start())
        return item

    yield make
    for item in made:
        item.stop()


def events_of(receiver: Receiver):
    return [r for r in receiver.unique() if r.event["type"] != VERIFICATION_TYPE]


def append(count: int, *, subjects: int = 5, type: str = "jp.machi.resident.moved_in"):
    """``count`` events, one committed transaction each, round-robin over subjects."""
    made = []
    for n in range(count):
        with transaction.atomic(using="tenant_131016"):
            made.append(outbox_append(type=type, subject=f"S{n % subjects:04d}", data={"n": n}))
    return made


def subscribe(receiver: Receiver, types=("jp.machi.resident.*",), name="国保システム"):
    subscription, _ = services.subscription_create(
        name=name, url=receiver.url, types=list(types), secret=receiver.secret
    )
    return subscription


def worker(**kwargs) -> DeliveryWorker:
    kwargs.setdefault("lg_codes", ["131016"])
    kwargs.setdefault("poll_interval", 0.01)
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("policy", FAST)
    return DeliveryWorker(**kwargs)


@pytest.fixture
def in_a(municipality_a):
    with tenant_context("131016"):
        yield


def test_every_event_arrives_signed_as_a_cloudevent(in_a, receiver):
    rx = receiver()
    subscription = subscribe(rx)
    sent = append(30)
    w = worker()
    w.drain()
    got = events_of(rx)
    assert sorted(g.id for g in got) == sorted(str(e.event_id) for e in sent)
    assert len(rx.processed) == 31  # 30 events + the verification event, none twice
    assert rx.bad_signatures == 0
    check = Webhook(rx.secret)
    for item in got:
        # verify again here, independently of the receiver
        assert check.verify(item.body, item.headers)["id"] == item.id
        assert item.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
        assert item.headers["webhook-id"] == item.event["id"]
        assert item.event["specversion"] == "1.0"
        assert item.event["source"] == "/municipalities/131016"
    assert in_order_per_subject(got)
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
    assert Delivery.objects.filter(subscription=subscription).count() == 30
    subscription.refresh_from_db()
    assert subscription.cursor == sent[-1].seq
    w.shutdown()


def test_a_wrong_secret_is_refused_by_the_receiver(in_a, receiver):
    rx = receiver()
    with pytest.raises(services.VerificationFailed, match="2xx"):
        services.subscription_create(
            name="x", url=rx.url, types=[], secret=secret_generate()
        )  # not the receiver's secret: its signature check answers 401
    assert rx.bad_signatures == 1
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [(lambda r, n: "fail", "HTTP 500"), (None, "送信先に接続できませんでした")],
)
def test_creation_fails_without_a_2xx(in_a, receiver, behaviour, message):
    if behaviour is None:
        rx = receiver()
        rx.stop()  # nobody listens on that port any more
    else:
        rx = receiver(behaviour=behaviour)
    with pytest.raises(services.VerificationFailed) as caught:
        subscribe(rx)
    assert message in str(caught.value)
    assert not Subscription.objects.exists()
    assert not AuditEntry.objects.filter(action="subscription.created").exists()


def test_creation_verifies_with_a_signed_test_event_and_seals_the_secret(in_a, receiver):
    append(3)
    rx = receiver()
    subscription = subscribe(rx)
    (verification,) = rx.unique()
    assert verification.event["type"] == VERIFICATION_TYPE
    assert subscription.verified_at is not None
    assert rx.secret not in subscription.secret_sealed
    assert secret_open(subscription.secret_sealed) == rx.secret
    assert subscription.cursor == 3  # starts at the outbox's end: no history pushed
    entry = AuditEntry.objects.get(action="subscription.created")
    assert entry.object_id == str(subscription.pk)
    assert rx.secret not in str(entry.detail)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.jp/x"}, "http"),
        ({"url": "https://user:pw@example.jp/x"}, "パスワード"),
        ({"types": ["jp.machi.resident.*.x"]}, "イベント種別"),
        ({"types": ["resident.*"]}, "イベント種別"),
        ({"secret": "not-a-secret"}, "whsec_"),
        ({"secret": "whsec_AAAA"}, "24"),
        ({"name": ""}, "名称"),
    ],
)
def test_bad_input_is_refused_before_any_request(in_a, receiver, fields, message):
    rx = receiver()
    data = {"name": "x", "url": rx.url, "types": ["jp.machi.resident.*"], "secret": rx.secret}
    data.update(fields)
    with pytest.raises(ValidationError) as caught:
        services.subscription_create(**data)
    assert message in " ".join(caught.value.messages)
    assert rx.requests == 0


def test_type_filters(in_a, receiver):
    moved = receiver()
    tasks = receiver()
    everything = receiver()
    subscribe(moved, types=["jp.machi.resident.moved_in", "jp.machi.resident.moved_out"])
    subscribe(tasks, types=["jp.machi.task.*"])
    subscribe(everything, types=[])
    append(2, type="jp.machi.resident.moved_in")
    append(2, type="jp.machi.resident.born")
    append(2, type="jp.machi.task.created")
    append(1, type="jp.machi.resident.moved_out")
    worker().drain()
    assert [r.event["type"] for r in events_of(moved)] == [
        "jp.machi.resident.moved_in",
        "jp.machi.resident.moved_in",
        "jp.machi.resident.moved_out",
    ]
    assert {r.event["type"] for r in events_of(tasks)} == {"jp.machi.task.created"}
    assert len(events_of(everything)) == 7


def test_a_receiver_failing_at_random_gets_everything_once_in_order(in_a, receiver):
    chance = random.Random(20261126)

    def flaky(rx, n):
        roll = chance.random()
        return "fail" if roll < 0.25 else "process_then_fail" if roll < 0.35 else "ok"

    rx = receiver()
    subscription = subscribe(rx)
    rx.behaviour = flaky
    sent = append(120, subjects=7)
    w = worker(threads=4)
    w.drain(timeout=60)
    got = events_of(rx)
    assert sorted(g.id for g in got) == sorted(str(e.event_id) for e in sent)
    assert in_order_per_subject(got)
    assert len(rx.processed) > len(got) + 1  # there were duplicates, dropped by id
    assert w.stats.failed > 10
    assert Delivery.objects.filter(subscription=subscription, attempts__gt=1).exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    w.shutdown()


def test_a_receiver_down_for_a_while_gets_the_backlog(in_a, receiver):
    rx = receiver()
    subscribe(rx)
    port = rx.port
    rx.stop()
    sent = append(40, subjects=4)
    w = worker()
    # The receiver is down: every first attempt fails, nothing is delivered.
    w.drain(until=lambda: Delivery.objects.filter(attempts__gte=2).count() >= 4, timeout=20)
    assert not Delivery.objects.filter(status=DeliveryStatus.DELIVERED).exists()
    # Only the head of each subject was tried: the rest wait behind it, in order.
    assert set(Delivery.objects.filter(attempts__gt=0).values_list("subject", flat=True)) == {
        "S0000",
        "S0001",
        "S0002",
        "S0003",
    }
    assert Delivery.objects.filter(attempts__gt=0).count() == 4
    back = Receiver(secret=rx.secret, port=port).start()
    try:
        w.drain(timeout=60)
        got = events_of(back)
        assert sorted(g.id for g in got) == sorted(str(e.event_id) for e in sent)
        assert in_order_per_subject(got)
    finally:
        back.stop()
        w.shutdown()


def test_dead_letter_after_the_retry_window_then_resend(in_a, receiver):
    rx = receiver()
    subscription = subscribe(rx)
    rx.behaviour = lambda r, n: "fail"
    first, second = append(2, subjects=1)  # same subject: the second waits for the first
    other = append(1, subjects=1, type="jp.machi.resident.born")[0]
    short = RetryPolicy(first_delay=0.02, factor=2, max_delay=0.05, give_up_after=0.3)
    w = worker(policy=short)
    w.drain(timeout=30)
    dead = Delivery.objects.filter(status=DeliveryStatus.DEAD).order_by("seq")
    assert [d.event_id for d in dead] == [first.pk, second.pk, other.pk]
    # a dead letter no longer blocks its subject: the later ones were tried and died too
    assert all(d.attempts >= 2 and d.last_status_code == 500 for d in dead)
    assert all(d.last_error == "HTTP 500" for d in dead)
    assert events_of(rx) == []

    rx.behaviour = lambda r, n: "ok"
    count = services.delivery_resend(deliveries=list(dead[:1]))
    assert count == 1
    w.drain(timeout=30)
    assert [g.id for g in events_of(rx)] == [str(first.event_id)]
    assert services.delivery_resend(deliveries=list(Delivery.objects.all())) == 2
    w.drain(timeout=30)
    assert {g.id for g in events_of(rx)} == {str(e.event_id) for e in (first, second, other)}
    assert Delivery.objects.filter(subscription=subscription, status="delivered").count() == 3
    assert AuditEntry.objects.filter(action="delivery.resent").count() == 2
    w.shutdown()


def test_a_disabled_subscription_gets_nothing_more(in_a, receiver):
    rx = receiver()
    subscription = subscribe(rx)
    append(3)
    w = worker()
    w.drain()
    services.subscription_disable(subscription=subscription)
    append(3)
    w.drain()
    assert len(events_of(rx)) == 3
    assert AuditEntry.objects.filter(action="subscription.disabled").count() == 1
    w.shutdown()


def test_a_subscription_of_a_never_receives_events_of_b(municipality_a, municipality_b, receiver):
    rx_a, rx_b = receiver(), receiver()
    with tenant_context("131016"):
        subscribe(rx_a)
    with tenant_context("271403"):
        subscribe(rx_b)
        with transaction.atomic(using="tenant_271403"):
            b_event = outbox_append(type="jp.machi.resident.born", subject="B1")
    with tenant_context("131016"), transaction.atomic(using="tenant_131016"):
        a_event = outbox_append(type="jp.machi.resident.born", subject="A1")
    w = worker(lg_codes=["131016", "271403"])
    w.drain()
    assert [g.id for g in events_of(rx_a)] == [str(a_event.event_id)]
    assert [g.id for g in events_of(rx_b)] == [str(b_event.event_id)]
    assert events_of(rx_b)[0].event["source"] == "/municipalities/271403"
    w.shutdown()


def test_an_idle_cycle_is_cheap(in_a, receiver, django_assert_max_num_queries):
    rx = receiver()
    subscribe(rx)
    append(2)
    w = worker()
    w.drain()
    with django_assert_max_num_queries(2):  # "is any subscription behind?" + "anything due?"
        w.run_once()
    w.shutdown()


def test_a_failing_municipality_does_not_hold_up_the_others(in_a, receiver, caplog):
    rx = receiver()
    subscribe(rx)
    sent = append(3)
    w = worker(lg_codes=["011002", "131016"])  # 011002 is on no database here
    with pytest.raises(Exception, match="011002"):
        w.run_once()  # tests see errors…
    for _ in range(50):  # …the long-running loop logs them and goes on
        w.run_once(raise_errors=False)
        if len(events_of(rx)) == 3:
            break
        w._sleep(0.05)
    assert sorted(g.id for g in events_of(rx)) == sorted(str(e.event_id) for e in sent)
    assert "011002" in caplog.text
    w.shutdown()


def test_the_default_retry_schedule_spans_24_hours():
    policy = RetryPolicy(jitter=0)
    delays = [policy.delay(n) for n in range(1, 9)]
    assert delays == [5, 15, 45, 135, 405, 1215, 3645, 10935]
    assert policy.delay(20) == 4 * 3600
    from datetime import UTC, datetime, timedelta

    start = now = datetime(2026, 11, 26, tzinfo=UTC)
    attempts = 1
    while (
        at := policy.next_attempt(attempts=attempts, first_attempt_at=start, now=now)
    ) is not None:
        now, attempts = at, attempts + 1
    assert attempts == 13  # the 13th failure is the last: dead after it
    assert timedelta(hours=20) < now - start <= timedelta(hours=24)
    jittered = RetryPolicy()
    assert all(4 <= jittered.delay(1) <= 6 for _ in range(100))

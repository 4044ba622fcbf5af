"""Delivery: signed POSTs, retries with backoff on 5xx, a 410 Gone drops the follower."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from machi.activitypub.delivery import deliveries_drain, deliveries_send_due
from machi.activitypub.models import Actor, Delivery, DeliveryState, Follower
from machi.activitypub.services import note_delivery_status, note_publish
from machi.tenancy.context import tenant_context

from .conftest import B, cavage_verify

pytestmark = pytest.mark.django_db(databases="__all__")

PUBLISHED = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"


def _publish(remote, key: str = "n-1") -> None:
    with tenant_context(B):
        Follower.objects.get_or_create(
            actor_id=remote.actor_id,
            defaults={"inbox": remote.inbox, "accepted_at": timezone.now()},
        )
        note_publish(
            object_key=key,
            url="https://machi.example.jp/271403/news/1/",
            content={"ja": "<p>お知らせ</p>"},
            summary=None,
            published=PUBLISHED,
        )


def _delivery() -> Delivery:
    with tenant_context(B):
        return Delivery.objects.get()


def test_a_failing_inbox_is_retried_with_backoff_then_delivered(municipality_b, remote):
    remote.statuses = [500, 503]
    start = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        _publish(remote)
        deliveries_drain(lg_codes=[B], threads=1)
        first = _delivery()
        assert first.state == DeliveryState.RETRYING and first.attempts == 1
        assert first.last_status == 500
        first_wait = first.next_attempt_at - start
        assert datetime.timedelta(seconds=3) <= first_wait <= datetime.timedelta(seconds=7)
        with tenant_context(B):
            assert note_delivery_status(object_key="n-1")["retrying"] == 1
        deliveries_drain(lg_codes=[B], threads=1)  # not due yet: nothing sent
        assert len(remote.received) == 1
    with time_machine.travel(first.next_attempt_at, tick=False):
        deliveries_drain(lg_codes=[B], threads=1)
        second = _delivery()
        assert second.attempts == 2 and second.last_status == 503
        assert second.next_attempt_at - first.next_attempt_at > first_wait  # grows
    with time_machine.travel(second.next_attempt_at, tick=False):
        deliveries_drain(lg_codes=[B], threads=1)
    third = _delivery()
    assert third.state == DeliveryState.SENT and third.attempts == 3
    with tenant_context(B):
        assert note_delivery_status(object_key="n-1") == {
            "pending": 0,
            "retrying": 0,
            "sent": 1,
            "failed": 0,
        }
        pem = Actor.objects.get().public_key_pem
    # Each attempt is signed afresh, and each verifies.
    assert len(remote.received) == 3
    for request in remote.received:
        cavage_verify(
            method="POST",
            path=request.path,
            headers=request.headers,
            body=request.body,
            public_pem=pem,
        )
    assert len({request.headers["date"] for request in remote.received}) == 3


def test_gone_inbox_drops_the_follower(municipality_b, remote):
    remote.statuses = [410]
    _publish(remote)
    deliveries_drain(lg_codes=[B], threads=1)
    assert _delivery().state == DeliveryState.FAILED
    with tenant_context(B):
        assert not Follower.objects.exists()
        assert note_delivery_status(object_key="n-1")["failed"] == 1


def test_a_refusing_inbox_is_not_retried(municipality_b, remote):
    remote.statuses = [400]
    _publish(remote)
    deliveries_drain(lg_codes=[B], threads=1)
    delivery = _delivery()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 1
    with tenant_context(B):
        assert Follower.objects.exists()  # only a 410 says the follower is gone


def test_retries_end_after_the_window(municipality_b, remote):
    remote.statuses = [500] * 50
    start = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        _publish(remote)
    moment = start
    for _ in range(40):
        with time_machine.travel(moment, tick=False):
            deliveries_drain(lg_codes=[B], threads=1)
        delivery = _delivery()
        if delivery.state == DeliveryState.FAILED:
            break
        moment = delivery.next_attempt_at
    assert delivery.state == DeliveryState.FAILED
    assert moment - start <= datetime.timedelta(hours=24)
    assert 5 <= delivery.attempts <= 20


def test_an_unreachable_inbox_retries(municipality_b):
    with tenant_context(B):
        Follower.objects.create(
            actor_id="http://127.0.0.1:9/users/nobody",
            inbox="http://127.0.0.1:9/users/nobody/inbox",  # discard port: refused
            accepted_at=timezone.now(),
        )
        note_publish(
            object_key="n-1",
            url="https://machi.example.jp/271403/news/1/",
            content={"ja": "<p>お知らせ</p>"},
            summary=None,
            published=PUBLISHED,
        )
        counts = deliveries_send_due(threads=1)
    assert counts["retrying"] == 1
    delivery = _delivery()
    assert delivery.last_status is None and delivery.last_error == "connection failed"


def test_an_internal_address_is_refused_by_the_url_policy(municipality_b, settings):
    settings.MACHI_WEBHOOK_ALLOWED_NETWORKS = []
    with tenant_context(B):
        Follower.objects.create(
            actor_id="http://169.254.169.254/users/x",
            inbox="http://169.254.169.254/latest/meta-data/",
            accepted_at=timezone.now(),
        )
        note_publish(
            object_key="n-1",
            url="https://machi.example.jp/271403/news/1/",
            content={"ja": "<p>お知らせ</p>"},
            summary=None,
            published=PUBLISHED,
        )
        deliveries_send_due(threads=1)
    assert _delivery().last_error == "refused by the URL policy"


def test_the_periodic_task_delivers_in_every_municipality(municipality_b, remote):
    from machi.activitypub.tasks import activitypub_retry_task

    _publish(remote)
    result = activitypub_retry_task.call()
    assert result[B]["sent"] == 1
    assert _delivery().state == DeliveryState.SENT

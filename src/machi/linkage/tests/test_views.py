"""The administrator's webhook pages: roles, isolation, create (verified), disable,
dead letters and resend, the operations view (with query counts)."""

from __future__ import annotations

import pytest
from django.db import transaction

from machi.linkage import services
from machi.linkage.delivery import RetryPolicy
from machi.linkage.models import Delivery, DeliveryStatus, Subscription
from machi.linkage.services import outbox_append
from machi.linkage.tests.receiver import Receiver
from machi.linkage.tests.test_webhooks import worker
from machi.linkage.webhooks import secret_generate
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

LIST = "/131016/admin/subscriptions/"
OPS = "/131016/admin/linkage/"


@pytest.fixture
def admin_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"))


@pytest.fixture
def rx():
    receiver = Receiver(secret=secret_generate()).start()
    yield receiver
    receiver.stop()


def _subscribe(rx, name="国保連携テスト"):
    with tenant_context("131016"):
        subscription, _ = services.subscription_create(
            name=name, url=rx.url, types=["jp.machi.resident.*"], secret=rx.secret
        )
    return subscription


def test_only_municipality_admins(make_staff, municipality_a, signed_in, rx):
    sub = _subscribe(rx)
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), ("shimin", "supervisor"))
    client = signed_in(clerk)
    for url in (LIST, OPS, f"{LIST}{sub.pk}/"):
        assert client.get(url).status_code == 403
    for url in (LIST, f"{LIST}{sub.pk}/disable/", f"{LIST}{sub.pk}/resend/"):
        assert client.post(url, {"name": "x", "url": rx.url, "all": "1"}).status_code == 403
    with tenant_context("131016"):
        assert Subscription.objects.get().active


def test_admin_of_another_municipality_is_refused(make_staff, municipality_b, signed_in, rx):
    sub = _subscribe(rx)
    admin_b = make_staff(municipality_b, ("shimin", "municipality_admin"))
    client = signed_in(admin_b)
    assert client.get(LIST).status_code == 403
    assert client.post(f"{LIST}{sub.pk}/disable/").status_code == 403
    # and at home, B sees none of A's subscriptions (ids are per database)
    page = client.get("/271403/admin/subscriptions/").content.decode()
    assert "国保連携テスト" not in page
    assert client.get(f"/271403/admin/subscriptions/{sub.pk}/").status_code == 404


def test_anonymous_is_sent_to_login(client, municipality_a):
    for url in (LIST, OPS):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_create_with_a_given_secret_then_disable(admin_a, signed_in, rx):
    client = signed_in(admin_a)
    page = client.get(LIST).content.decode()
    assert 'for="id_url"' in page and "まだ購読はありません" in page
    response = client.post(
        LIST,
        {"name": "国保連携テスト", "url": rx.url, "types": "jp.machi.resident.*\njp.machi.task.*",
         "secret": rx.secret},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(LIST).content.decode()
    assert "国保連携テスト" in page and "jp.machi.task.*" in page
    assert rx.secret not in page
    with tenant_context("131016"):
        sub = Subscription.objects.get()
        assert sub.created_by_username == admin_a.username
        assert sub.types == ["jp.machi.resident.*", "jp.machi.task.*"]
    assert client.post(f"{LIST}{sub.pk}/disable/").status_code == 302
    with tenant_context("131016"):
        assert not Subscription.objects.get().active
    assert client.get(f"{LIST}{sub.pk}/disable/").status_code == 405


def test_create_shows_a_generated_secret_once(admin_a, signed_in):
    lenient = Receiver(secret=secret_generate(), verify=False).start()
    try:
        response = signed_in(admin_a).post(LIST, {"name": "学校", "url": lenient.url})
    finally:
        lenient.stop()
    assert response.status_code == 200
    page = response.content.decode()
    assert "一度だけ表示します" in page
    with tenant_context("131016"):
        from machi.linkage.sealing import secret_open

        secret = secret_open(Subscription.objects.get().secret_sealed)
    assert secret in page
    assert secret not in signed_in(admin_a).get(LIST).content.decode()


def test_verification_failure_is_shown_and_nothing_saved(admin_a, signed_in, rx):
    rx.behaviour = lambda r, n: "fail"
    response = signed_in(admin_a).post(
        LIST, {"name": "x", "url": rx.url, "secret": rx.secret, "types": "jp.machi.resident.*"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and "2xx" in page and "HTTP 500" in page
    response = signed_in(admin_a).post(LIST, {"name": "x", "url": rx.url, "types": "bad"})
    assert "イベント種別の指定が正しくありません" in response.content.decode()
    with tenant_context("131016"):
        assert not Subscription.objects.exists()


def test_dead_letters_listed_and_resent(admin_a, signed_in, rx):
    sub = _subscribe(rx)
    rx.behaviour = lambda r, n: "fail"
    with tenant_context("131016"):
        for n in range(3):
            with transaction.atomic(using="tenant_131016"):
                outbox_append(type="jp.machi.resident.born", subject=f"R{n}")
        worker(policy=RetryPolicy(first_delay=0.01, max_delay=0.02, give_up_after=0.1)).drain()
        dead = list(Delivery.objects.filter(status=DeliveryStatus.DEAD).order_by("seq"))
    assert len(dead) == 3
    client = signed_in(admin_a)
    page = client.get(f"{LIST}{sub.pk}/").content.decode()
    assert "配信不能をすべて再送" in page and "HTTP 500" in page
    assert client.post(f"{LIST}{sub.pk}/resend/", {"delivery": dead[0].pk}).status_code == 302
    with tenant_context("131016"):
        assert Delivery.objects.get(pk=dead[0].pk).status == DeliveryStatus.PENDING
    client.post(f"{LIST}{sub.pk}/resend/", {"all": "1"})
    with tenant_context("131016"):
        assert not Delivery.objects.filter(status=DeliveryStatus.DEAD).exists()
    ops = client.get(OPS).content.decode()
    assert "国保連携テスト" in ops


def test_operations_view_query_count(admin_a, signed_in, rx, django_assert_max_num_queries):
    for n in range(5):
        _subscribe(rx, name=f"システム{n}")
    client = signed_in(admin_a)
    client.get(OPS)
    with django_assert_max_num_queries(15):
        response = client.get(OPS)
    assert response.status_code == 200
    assert response.content.decode().count("システム") >= 5

"""`machi subscription …` and `machi linkage status` (in process, real receivers)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from standardwebhooks import Webhook

from machi.linkage.models import Delivery, DeliveryStatus, Subscription
from machi.linkage.services import outbox_append
from machi.linkage.tests.receiver import Receiver
from machi.linkage.tests.test_webhooks import worker
from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def rx(municipality_a):
    receiver = Receiver(secret=secret_generate()).start()
    yield receiver
    receiver.stop()


def test_create_list_disable(rx, municipality_b):
    out = run(
        "subscription", "create", "--tenant", "131016", "--url", rx.url,
        "--types", "jp.machi.resident.*,jp.machi.task.created", "--secret", rx.secret,
    )  # fmt: skip
    assert "を登録しました（確認用イベントに応答あり）" in out
    assert rx.secret not in out  # a given secret is not echoed
    with tenant_context("131016"):
        sub = Subscription.objects.get()
        assert sub.types == ["jp.machi.resident.*", "jp.machi.task.created"]
    listing = json.loads(run("subscription", "list", "--tenant", "131016", "--json"))
    assert [row["id"] for row in listing] == [sub.pk]
    assert listing[0]["active"] is True
    assert run("subscription", "list", "--tenant", "271403", "--json").strip() == "[]"
    assert "停止しました" in run("subscription", "disable", "--tenant", "131016", str(sub.pk))
    with tenant_context("131016"):
        assert not Subscription.objects.get().active
    with pytest.raises(CommandError, match="ありません"):
        run("subscription", "disable", "--tenant", "271403", str(sub.pk))


def test_create_generates_and_prints_a_secret_once(rx):
    # The receiver checks signatures with its own secret, so a generated one fails…
    with pytest.raises(CommandError, match="2xx"):
        run("subscription", "create", "--tenant", "131016", "--url", rx.url)
    # …a receiver that does not check yet (it learns the secret from this output) gets
    # the test event signed with the secret printed once.
    lenient = Receiver(secret=secret_generate(), verify=False).start()
    try:
        out = run("subscription", "create", "--tenant", "131016", "--url", lenient.url)
    finally:
        lenient.stop()
    printed = out.strip().splitlines()[-1]
    assert printed.startswith("whsec_")
    (request,) = lenient.processed
    assert Webhook(printed).verify(request.body, request.headers)["type"] == VERIFICATION_TYPE
    with tenant_context("131016"):
        assert Subscription.objects.get().name == "127.0.0.1"
    assert printed not in run("subscription", "list", "--tenant", "131016", "--json")


def test_bad_input_is_a_command_error(rx):
    with pytest.raises(CommandError, match="イベント種別"):
        run("subscription", "create", "--tenant", "131016", "--url", rx.url, "--types", "x.*")
    with pytest.raises(CommandError, match="登録されていません"):
        run("subscription", "list", "--tenant", "011002")
    with pytest.raises(CommandError, match="どちらか"):
        run("subscription", "resend", "--tenant", "131016")


def test_status_and_resend(rx):
    rx.behaviour = lambda r, n: "ok"
    run(
        "subscription", "create", "--tenant", "131016", "--url", rx.url,
        "--types", "jp.machi.resident.*", "--secret", rx.secret,
    )  # fmt: skip
    with tenant_context("131016"):
        for n in range(4):
            with transaction.atomic(using="tenant_131016"):
                outbox_append(type="jp.machi.resident.born", subject=f"R{n}")
        with transaction.atomic(using="tenant_131016"):
            outbox_append(type="jp.machi.task.created", subject="T1")  # not subscribed
    status = json.loads(run("linkage", "status", "--tenant", "131016", "--json"))
    (row,) = status["131016"]
    assert row["lag_events"] == 4 and row["unscheduled"] == 4 and row["pending"] == 0
    assert row["lag_seconds"] >= 0

    rx.behaviour = lambda r, n: "fail"
    from machi.linkage.delivery import RetryPolicy

    with tenant_context("131016"):
        worker(policy=RetryPolicy(first_delay=0.01, max_delay=0.02, give_up_after=0.1)).drain()
        dead = list(Delivery.objects.filter(status=DeliveryStatus.DEAD).order_by("pk"))
    assert len(dead) == 4
    status = json.loads(run("linkage", "status", "--json"))
    assert set(status) == {"131016", "271403"}
    (row,) = status["131016"]
    assert (row["lag_events"], row["pending"], row["dead"]) == (0, 0, 4)
    text = run("linkage", "status", "--tenant", "131016")
    assert "配信不能 4" in text

    listing = run("subscription", "deliveries", "--tenant", "131016", str(row["id"]), "--json")
    assert {d["status"] for d in json.loads(listing)} == {"dead"}
    with pytest.raises(CommandError, match="ありません"):
        run("subscription", "resend", "--tenant", "131016", "999999")
    assert "1 件を再送" in run("subscription", "resend", "--tenant", "131016", str(dead[0].pk))
    with pytest.raises(CommandError, match="配信不能ではありません"):
        run("subscription", "resend", "--tenant", "131016", str(dead[0].pk))
    assert "3 件を再送" in run("subscription", "resend", "--tenant", "131016", "--all-dead")
    (row,) = json.loads(run("linkage", "status", "--tenant", "131016", "--json"))["131016"]
    assert (row["pending"], row["dead"], row["failing"]) == (4, 0, 0)

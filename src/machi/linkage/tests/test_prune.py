"""Retention of webhook delivery history: `deliveries_prune`, the worker, the command."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.linkage import services
from machi.linkage.delivery import DeliveryWorker
from machi.linkage.models import Delivery, DeliveryStatus, Subscription
from machi.linkage.sealing import secret_seal
from machi.linkage.services import NewEvent, deliveries_prune, outbox_append_many
from machi.linkage.webhooks import secret_generate
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

DELIVERED, DEAD, PENDING = DeliveryStatus.DELIVERED, DeliveryStatus.DEAD, DeliveryStatus.PENDING


def subscription() -> Subscription:
    return Subscription.objects.create(
        name="国保システム",
        url="http://127.0.0.1:9/hook",
        secret_sealed=secret_seal(secret_generate()),
    )


def deliveries(specs: list[tuple[str, float, int]], *, now: datetime) -> list[Delivery]:
    """One delivery per (status, days ago, attempts), each of its own event.

    The row looks as the worker leaves it: attempted when due (``next_attempt_at``),
    delivered or given up at that moment."""
    sub = Subscription.objects.first() or subscription()
    with transaction.atomic(using=current_tenant_alias()):
        events = outbox_append_many(
            events=[NewEvent(type="jp.machi.resident.moved_in", subject=f"S{n}") for n in specs]
        )
    rows = []
    for event, (status, days, attempts) in zip(events, specs, strict=True):
        at = now - timedelta(days=days)
        rows.append(
            Delivery(
                subscription=sub,
                event=event,
                seq=event.seq,
                subject=event.subject,
                status=status,
                attempts=attempts,
                next_attempt_at=at,
                created_at=at - timedelta(seconds=1),
                first_attempt_at=at if attempts else None,
                last_attempt_at=at if attempts else None,
                delivered_at=at if status == DELIVERED else None,
                dead_at=at if status == DEAD else None,
            )
        )
    return Delivery.objects.bulk_create(rows)


def remaining() -> set[int]:
    return set(Delivery.objects.values_list("pk", flat=True))


def prune_entries():
    return AuditEntry.objects.filter(action="delivery.pruned").order_by("seq")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def in_a(municipality_a, municipality_b):
    with tenant_context("131016"):
        yield


# (status, days ago, attempts, kept?) with the defaults: delivered 30 days, dead 180.
CASES = [
    (DELIVERED, 31, 1, False),
    (DELIVERED, 400, 3, False),
    (DELIVERED, 29.9, 1, True),
    (DELIVERED, 0, 1, True),
    (DEAD, 29.9, 13, True),
    (DEAD, 31, 13, True),  # dead letters stay well beyond the delivered ones
    (DEAD, 179, 13, True),
    (DEAD, 181, 13, False),
    (PENDING, 400, 0, True),  # never sent (subscription stopped, say): never deleted
    (PENDING, 400, 7, True),  # failing: never deleted
    (PENDING, 0, 0, True),
]


def test_old_delivered_rows_and_very_old_dead_letters_go(in_a):
    now = timezone.now()
    made = deliveries([(s, d, a) for s, d, a, _ in CASES], now=now)
    with tenant_context("271403"):  # the same in the other municipality
        other = {d.pk for d in deliveries([(s, d, a) for s, d, a, _ in CASES], now=now)}

    counts = deliveries_prune(now=now)

    kept = {row.pk for row, case in zip(made, CASES, strict=True) if case[3]}
    assert remaining() == kept
    assert (counts.delivered, counts.dead, counts.batches, counts.more) == (2, 1, 2, False)
    with tenant_context("271403"):
        assert remaining() == other
        assert not prune_entries().exists()
    (entry,) = prune_entries()
    assert entry.function == "linkage.deliveries_prune"
    assert entry.detail == {
        "delivered": 2,
        "dead": 1,
        "batches": 2,
        "more": False,
        "delivered_retention_days": 30,
        "dead_retention_days": 180,
    }
    # A second run finds nothing, and says so in the log.
    assert deliveries_prune(now=now).total == 0
    assert prune_entries().last().detail["delivered"] == 0
    assert remaining() == kept


def test_the_age_is_that_of_the_delivery_not_of_its_scheduling(in_a):
    """Due 40 days ago but delivered yesterday (the worker was down): kept."""
    now = timezone.now()
    (row,) = deliveries([(DELIVERED, 40, 1)], now=now)
    Delivery.objects.filter(pk=row.pk).update(delivered_at=now - timedelta(days=1))
    (dead,) = deliveries([(DEAD, 200, 13)], now=now)
    Delivery.objects.filter(pk=dead.pk).update(dead_at=now - timedelta(days=2))
    assert deliveries_prune(now=now).total == 0
    assert remaining() == {row.pk, dead.pk}


def test_retention_comes_from_the_settings_and_zero_keeps_for_ever(in_a, settings):
    now = timezone.now()
    deliveries([(DELIVERED, 8, 1), (DELIVERED, 6, 1), (DEAD, 8, 13), (DEAD, 400, 13)], now=now)
    settings.MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS = 7
    settings.MACHI_WEBHOOK_DEAD_RETENTION_DAYS = 0
    counts = deliveries_prune(now=now)
    assert (counts.delivered, counts.dead) == (1, 0)
    assert sorted(Delivery.objects.values_list("status", flat=True)) == [DEAD, DEAD, DELIVERED]
    settings.MACHI_WEBHOOK_DEAD_RETENTION_DAYS = 7
    settings.MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS = 0
    assert deliveries_prune(now=now).dead == 2
    assert list(Delivery.objects.values_list("status", flat=True)) == [DELIVERED]


def deletes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "linkage_delivery"')]


def test_batches_each_in_its_own_transaction(in_a):
    now = timezone.now()
    deliveries([(DELIVERED, 40, 1)] * 5 + [(DEAD, 200, 13)] * 3 + [(PENDING, 40, 2)], now=now)
    connection = connections[current_tenant_alias()]
    # max_batches stops early and says there is more.
    with CaptureQueriesContext(connection) as queries:
        counts = deliveries_prune(now=now, batch_size=2, max_batches=2)
    assert (counts.delivered, counts.dead, counts.batches, counts.more) == (4, 0, 2, True)
    assert len(deletes(queries)) == 2
    counts = deliveries_prune(now=now, batch_size=2, max_batches=2)
    assert (counts.delivered, counts.dead, counts.batches, counts.more) == (1, 2, 2, True)
    # The rest; a short batch is the last.
    with CaptureQueriesContext(connection) as queries:
        counts = deliveries_prune(now=now, batch_size=2, max_batches=None)
    assert (counts.delivered, counts.dead, counts.batches, counts.more) == (0, 1, 1, False)
    assert len(deletes(queries)) == 1
    assert list(Delivery.objects.values_list("status", flat=True)) == [PENDING]
    assert [e.detail["more"] for e in prune_entries()] == [True, True, False]


def test_a_dry_run_counts_deletes_nothing_and_is_not_audited(in_a):
    now = timezone.now()
    made = deliveries([(DELIVERED, 40, 1), (DEAD, 200, 13), (DEAD, 20, 13)], now=now)
    counts = deliveries_prune(now=now, dry_run=True)
    assert (counts.delivered, counts.dead, counts.dry_run) == (1, 1, True)
    assert remaining() == {d.pk for d in made}
    assert not prune_entries().exists()


def test_the_worker_prunes_once_per_interval(in_a):
    now = timezone.now()
    deliveries([(DELIVERED, 40, 1), (PENDING, 40, 0)], now=now)
    Subscription.objects.update(active=False)  # nothing to send: only pruning happens
    clock = [1000.0]  # the worker's prune schedule runs on this clock, not the wall's
    w = DeliveryWorker(
        lg_codes=["131016"], poll_interval=0.01, prune_interval=60.0, clock=lambda: clock[0]
    )
    try:
        w.run_once()  # the first cycle prunes
        assert list(Delivery.objects.values_list("status", flat=True)) == [PENDING]
        assert prune_entries().count() == 1
        assert prune_entries().get().user_agent == "machi linkage worker"
        deliveries([(DELIVERED, 40, 1)], now=now)
        clock[0] += 59.9
        w.run_once()
        w.run_once()
        assert prune_entries().count() == 1  # not again within the interval
        assert Delivery.objects.filter(status=DELIVERED).count() == 1
        clock[0] += 0.1  # the interval has passed
        w.run_once()
        assert prune_entries().count() == 2
        assert not Delivery.objects.filter(status=DELIVERED).exists()
        assert w.stats.pruned == 2
    finally:
        w.shutdown()


def test_the_worker_works_off_a_backlog_over_several_cycles(in_a, monkeypatch):
    monkeypatch.setattr(services, "PRUNE_BATCH", 2)
    deliveries([(DELIVERED, 40, 1)] * 5, now=timezone.now())
    with tenant_context("271403"):
        deliveries([(DELIVERED, 40, 1)] * 3, now=timezone.now())
    w = DeliveryWorker(lg_codes=["131016", "271403"], poll_interval=0.01, prune_max_batches=1)
    try:
        left = []
        for _ in range(5):
            w.run_once()  # one municipality per cycle, one batch of 2 each
            with tenant_context("271403"):
                in_b = Delivery.objects.count()
            left.append((Delivery.objects.count(), in_b))
        assert left == [(3, 3), (1, 3), (0, 3), (0, 1), (0, 0)]
        with tenant_context("271403"):
            assert prune_entries().count() == 2
        w.run_once()  # both done: not due again for an hour
        assert prune_entries().count() == 3
    finally:
        w.shutdown()


def test_the_prune_command(in_a):
    now = timezone.now()
    deliveries([(DELIVERED, 40, 1), (DELIVERED, 39, 1), (DEAD, 200, 13), (PENDING, 40, 1)], now=now)
    with tenant_context("271403"):
        deliveries([(DELIVERED, 40, 1)], now=now)

    status = run("linkage", "status", "--tenant", "131016").splitlines()
    assert status[:2] == [
        "配信履歴の保存期間: 配信済み 30日, 配信不能 180日",
        "131016: 購読 1 件, 削除の記録なし",
    ]

    dry = run("linkage", "prune", "--tenant", "131016", "--dry-run")
    assert dry.splitlines() == [
        "保存期間: 配信済み 30日, 配信不能 180日（試行のみ、削除しません）",
        "131016: 削除対象 配信済み 2件, 配信不能 1件",
    ]
    assert Delivery.objects.count() == 4 and not prune_entries().exists()

    out = run("linkage", "prune", "--tenant", "131016")
    assert out.splitlines()[-1] == "131016: 削除 配信済み 2件, 配信不能 1件"
    assert list(Delivery.objects.values_list("status", flat=True)) == [PENDING]
    assert prune_entries().get().user_agent == "machi CLI"
    assert "最終削除 " in run("linkage", "status", "--tenant", "131016")
    assert "（配信済み 2件, 配信不能 1件）" in run("linkage", "status", "--tenant", "131016")
    with tenant_context("271403"):
        assert Delivery.objects.count() == 1

    report = json.loads(run("linkage", "prune", "--json"))  # every municipality
    assert report["131016"]["delivered"] == 0
    assert report["271403"] == {
        "delivered": 1, "dead": 0, "batches": 1, "more": False, "dry_run": False
    }  # fmt: skip
    with tenant_context("271403"):
        assert not Delivery.objects.exists()
    with pytest.raises(CommandError, match="011002"):
        run("linkage", "prune", "--tenant", "011002")

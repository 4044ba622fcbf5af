"""The webhook delivery worker: outbox → deliveries → signed POSTs, retried, in order.

One cycle, for each municipality:

1. **outcomes**: the results of finished requests are written (delivered; or the next
   attempt after a backoff; or dead after the retry window);
2. **schedule**: each active subscription whose cursor is behind the outbox gets a
   ``Delivery`` row for every later event its type patterns select, and its cursor
   moves on (one transaction: a crash repeats the step, the unique
   (subscription, event) keeps it from doubling);
3. **claim**: pending deliveries that are due, not leased, and **the earliest pending
   one of their (subscription, subject)** are leased for ``timeout + 5`` seconds and
   handed to a small thread pool that signs and POSTs them. An event of a subject is
   therefore not sent while an earlier one of the same subject is pending; other
   subjects go on in parallel. A dead letter is no longer pending and blocks nothing.

About once an hour per municipality (``prune_interval``; at most one municipality per
cycle, the first soon after start) old delivered deliveries and old dead letters are
deleted (``services.deliveries_prune``), at most ``prune_max_batches`` batches per
cycle: a large backlog is worked off over the next cycles without holding up delivery.

Only the main thread touches the database; the pool does HTTP only. Nothing is marked
delivered before the receiver answered 2xx, so a worker killed at any moment loses
nothing: leased deliveries are sent again when their lease runs out (at-least-once).
Several workers on PostgreSQL may run at once: the claim locks rows with
``FOR UPDATE SKIP LOCKED`` and leases them, and scheduling locks the subscription rows.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from machi.audit.services import Terminal
from machi.linkage.events import event_type_matches
from machi.linkage.models import (
    Delivery,
    DeliveryStatus,
    OutboxEvent,
    OutboxSequence,
    Subscription,
)
from machi.linkage.sealing import secret_open
from machi.linkage.services import deliveries_prune
from machi.linkage.webhooks import SendResult, body_of, send
from machi.tenancy.context import current_tenant_alias, tenant_context

logger = logging.getLogger("machi.linkage.worker")

SCHEDULE_BATCH = 5000
WORKER_TERMINAL = Terminal(ip_address="", user_agent="machi linkage worker")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``first_delay · factor^(n-1)`` (at most
    ``max_delay``) after the n-th failed attempt, ±``jitter``; a delivery whose next
    attempt would fall more than ``give_up_after`` seconds after its first attempt is
    dead. The default: 5 s, 15 s, 45 s, 2¼ min, 6¾ min, 20 min, 1 h, 3 h, then every
    4 h, for 24 hours (13 attempts without jitter)."""

    first_delay: float = 5.0
    factor: float = 3.0
    max_delay: float = 4 * 3600.0
    give_up_after: float = 24 * 3600.0
    jitter: float = 0.2

    def delay(self, attempts: int) -> float:
        base = min(self.first_delay * self.factor ** max(attempts - 1, 0), self.max_delay)
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def next_attempt(
        self, *, attempts: int, first_attempt_at: datetime, now: datetime
    ) -> datetime | None:
        """When to try again after ``attempts`` failures, or ``None``: give up."""
        at = now + timedelta(seconds=self.delay(attempts))
        if (at - first_attempt_at).total_seconds() > self.give_up_after:
            return None
        return at


@dataclass
class _Claimed:
    lg_code: str
    delivery_id: int
    subscription_id: int
    attempts: int
    first_attempt_at: datetime


@dataclass
class _TenantState:
    in_flight: dict[int, Future] = field(default_factory=dict)
    subscriptions: dict[int, tuple[str, str]] = field(default_factory=dict)  # url, secret


@dataclass
class WorkerStats:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    scheduled: int = 0
    pruned: int = 0


class DeliveryWorker:
    """Delivers every municipality's webhooks (or those of ``lg_codes``).

    ``run()`` loops until ``stop()``; tests call ``run_once()`` / ``drain()``.
    """

    def __init__(
        self,
        *,
        lg_codes: Iterable[str] | None = None,
        threads: int = 8,
        poll_interval: float = 0.1,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        claim_limit: int = 200,
        on_result: Callable[[str, int, SendResult], None] | None = None,
        on_cycle: Callable[[DeliveryWorker], None] | None = None,
        prune_interval: float | None = 3600.0,
        prune_max_batches: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fixed_lg_codes = list(lg_codes) if lg_codes is not None else None
        self.threads = threads
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.lease = timedelta(seconds=timeout + 5)
        self.policy = policy or RetryPolicy()
        self.claim_limit = claim_limit
        self.on_result = on_result
        self.on_cycle = on_cycle
        self.prune_interval = prune_interval  # seconds; None or 0: never prune
        self.prune_max_batches = prune_max_batches
        self.clock = clock  # the prune schedule's (injected by tests)
        self._pruned_at: dict[str, float] = {}  # clock() at the last prune
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self.tenants: dict[str, _TenantState] = {}
        self.stats = WorkerStats()
        self._stopping = threading.Event()
        self._lg_codes_at = 0.0
        self._lg_codes: list[str] = []

    # --- the loop ---------------------------------------------------------------

    def lg_codes(self) -> list[str]:
        if self.fixed_lg_codes is not None:
            return self.fixed_lg_codes
        if time.monotonic() - self._lg_codes_at > 30:
            from machi.tenancy.models import Municipality

            self._lg_codes = list(Municipality.objects.values_list("lg_code", flat=True))
            self._lg_codes_at = time.monotonic()
        return self._lg_codes

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.run_once(raise_errors=False)
            if self.on_cycle is not None:
                self.on_cycle(self)
            self._sleep(max(self.poll_interval - (time.monotonic() - started), 0.0))
        self.shutdown()

    def shutdown(self) -> None:
        """Wait for requests in flight and record their outcomes (a graceful stop)."""
        pending = [f for state in self.tenants.values() for f in state.in_flight.values()]
        if pending:
            wait(pending, timeout=self.timeout + 1)
        for lg_code in list(self.tenants):
            with tenant_context(lg_code):
                self._record_outcomes(lg_code)
        self.pool.shutdown(wait=True)

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake as soon as a request finishes (its outcome frees a subject)."""
        in_flight = [f for state in self.tenants.values() for f in state.in_flight.values()]
        if in_flight:
            wait(in_flight, timeout=seconds, return_when=FIRST_COMPLETED)
        elif seconds:
            self._stopping.wait(seconds)

    def run_once(self, *, raise_errors: bool = True) -> None:
        """One cycle over every municipality. With ``raise_errors=False`` (the
        long-running loop) a municipality whose database fails is logged and skipped
        for this cycle: the others are not held up, and it is tried again next cycle."""
        try:
            lg_codes = self.lg_codes()
        except Exception:
            if raise_errors:
                raise
            logger.exception("cannot list the municipalities; retrying")
            self._close_broken_connections()
            self._stopping.wait(1)
            return
        pruned = False
        for lg_code in lg_codes:
            try:
                with tenant_context(lg_code):
                    self._record_outcomes(lg_code)
                    if self._stopping.is_set():
                        continue
                    self._schedule(lg_code)
                    self._claim_and_send(lg_code)
                    if not pruned and self._prune_due(lg_code):
                        pruned = True
                        self._prune(lg_code)
            except Exception:
                if raise_errors:
                    raise
                logger.exception("webhook delivery failed for municipality %s", lg_code)
                self._close_broken_connections()

    @staticmethod
    def _close_broken_connections() -> None:
        """Close connections a database error left unusable (reconnected next cycle)."""
        for conn in connections.all(initialized_only=True):
            if conn.connection is None or not conn.errors_occurred or conn.in_atomic_block:
                continue
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()

    def drain(self, *, timeout: float = 30.0, until: Callable[[], bool] | None = None) -> None:
        """Cycle until nothing is in flight or pending, retries included (or ``until()``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_once()
            busy = any(state.in_flight for state in self.tenants.values())
            if until is not None:
                if until():
                    return
            elif not busy and not self._anything_pending():
                return
            self._sleep(self.poll_interval)
        raise TimeoutError("deliveries still pending after the drain timeout")

    def _anything_pending(self) -> bool:
        for lg_code in self.lg_codes():
            with tenant_context(lg_code):
                behind = Subscription.objects.filter(
                    active=True,
                    cursor__lt=Subquery(OutboxSequence.objects.filter(pk=1).values("last_seq")),
                ).exists()
                pending = Delivery.objects.filter(
                    status=DeliveryStatus.PENDING, subscription__active=True
                ).exists()
                if behind or pending:
                    return True
        return False

    # --- steps ------------------------------------------------------------------

    def _prune_due(self, lg_code: str) -> bool:
        if not self.prune_interval:
            return False
        last = self._pruned_at.get(lg_code)
        return last is None or self.clock() - last >= self.prune_interval

    def _prune(self, lg_code: str) -> None:
        """Old deliveries away (no queries at all until the interval has passed)."""
        self._pruned_at[lg_code] = self.clock()  # a failing prune waits an interval
        counts = deliveries_prune(max_batches=self.prune_max_batches, terminal=WORKER_TERMINAL)
        self.stats.pruned += counts.total
        if counts.more:  # a backlog: go on next cycle
            self._pruned_at[lg_code] -= self.prune_interval or 0

    def _state(self, lg_code: str) -> _TenantState:
        return self.tenants.setdefault(lg_code, _TenantState())

    def _schedule(self, lg_code: str) -> None:
        behind = Subscription.objects.filter(
            active=True,
            cursor__lt=Subquery(OutboxSequence.objects.filter(pk=1).values("last_seq")),
        )
        if not behind.exists():
            return
        with transaction.atomic(using=current_tenant_alias()):
            for sub in behind.select_for_update(skip_locked=True).order_by("pk"):
                events = list(
                    OutboxEvent.objects.filter(seq__gt=sub.cursor)
                    .order_by("seq")
                    .values_list("pk", "seq", "type", "subject")[:SCHEDULE_BATCH]
                )
                if not events:
                    continue
                now = timezone.now()
                rows = [
                    Delivery(
                        subscription_id=sub.pk,
                        event_id=pk,
                        seq=seq,
                        subject=subject,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    for pk, seq, type_, subject in events
                    if event_type_matches(sub.types, type_)
                ]
                Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
                Subscription.objects.filter(pk=sub.pk).update(cursor=events[-1][1])
                self.stats.scheduled += len(rows)

    def _claim_and_send(self, lg_code: str) -> None:
        state = self._state(lg_code)
        room = self.claim_limit - len(state.in_flight)
        if room <= 0:
            return
        now = timezone.now()
        earlier_pending = Delivery.objects.filter(
            subscription=OuterRef("subscription"),
            subject=OuterRef("subject"),
            status=DeliveryStatus.PENDING,
            seq__lt=OuterRef("seq"),
        )
        due = (
            Delivery.objects.filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                subscription__active=True,
            )
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .exclude(pk__in=list(state.in_flight))
            .filter(~Exists(earlier_pending))
            .order_by("seq")
        )
        with transaction.atomic(using=current_tenant_alias()):
            claimed = list(
                due.select_for_update(skip_locked=True, of=("self",)).values_list(
                    "pk", "subscription_id", "event_id", "attempts", "first_attempt_at"
                )[:room]
            )
            if not claimed:
                return
            ids = [row[0] for row in claimed]
            Delivery.objects.filter(pk__in=ids).update(leased_until=now + self.lease)
            Delivery.objects.filter(pk__in=ids, first_attempt_at__isnull=True).update(
                first_attempt_at=now
            )
        events = {
            event.pk: event
            for event in OutboxEvent.objects.filter(pk__in=[row[2] for row in claimed])
        }
        missing = {row[1] for row in claimed} - set(state.subscriptions)
        if missing:
            for pk, url, sealed in Subscription.objects.filter(pk__in=missing).values_list(
                "pk", "url", "secret_sealed"
            ):
                state.subscriptions[pk] = (url, secret_open(sealed))
        for delivery_id, subscription_id, event_pk, attempts, first_at in claimed:
            url, secret = state.subscriptions[subscription_id]
            event = events[event_pk]
            claim = _Claimed(lg_code, delivery_id, subscription_id, attempts, first_at or now)
            future = self.pool.submit(
                self._send,
                claim,
                url=url,
                secret=secret,
                msg_id=str(event.event_id),
                body=body_of(event.as_cloudevent()),
            )
            state.in_flight[delivery_id] = future

    def _send(self, claim: _Claimed, **kwargs: str) -> tuple[_Claimed, SendResult]:
        try:
            result = send(timeout=self.timeout, **kwargs)
        except Exception as error:  # a bug must not leave the delivery in flight for ever
            logger.exception("sending delivery %s failed", claim.delivery_id)
            result = SendResult(None, f"{error.__class__.__name__}"[:300], 0.0)
        if self.on_result is not None:
            self.on_result(claim.lg_code, claim.delivery_id, result)
        return claim, result

    def _record_outcomes(self, lg_code: str) -> None:
        state = self.tenants.get(lg_code)
        if state is None or not state.in_flight:
            return
        done = [f for f in state.in_flight.values() if f.done()]
        if not done:
            return
        now = timezone.now()
        delivered: dict[int | None, list[int]] = {}
        failed: list[tuple[_Claimed, SendResult]] = []
        for future in done:
            claim, result = future.result()
            if result.ok:
                delivered.setdefault(result.status_code, []).append(claim.delivery_id)
            else:
                failed.append((claim, result))
        with transaction.atomic(using=current_tenant_alias()):
            for status_code, ids in delivered.items():
                Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
                    status=DeliveryStatus.DELIVERED,
                    attempts=F("attempts") + 1,
                    last_attempt_at=now,
                    delivered_at=now,
                    last_status_code=status_code,
                    last_error="",
                    leased_until=None,
                )
                self.stats.delivered += len(ids)
            for claim, result in failed:
                attempts = claim.attempts + 1
                at = self.policy.next_attempt(
                    attempts=attempts, first_attempt_at=claim.first_attempt_at, now=now
                )
                changes = {
                    "attempts": attempts,
                    "last_attempt_at": now,
                    "last_status_code": result.status_code,
                    "last_error": result.error[:300],
                    "leased_until": None,
                }
                if at is None:
                    changes.update(status=DeliveryStatus.DEAD, dead_at=now)
                    self.stats.dead += 1
                else:
                    changes["next_attempt_at"] = at
                    self.stats.failed += 1
                Delivery.objects.filter(pk=claim.delivery_id, status=DeliveryStatus.PENDING).update(
                    **changes
                )
        for future in done:
            claim, _ = future.result()
            state.in_flight.pop(claim.delivery_id, None)

"""Sending queued activities: signed POSTs to inboxes, retried with backoff.

A run (``deliveries_send_due``) leases the deliveries that are due (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the work), sends them from a small
thread pool (HTTP only; the database is written by the calling thread) and records
each outcome:

* 2xx: sent;
* 410 Gone: the inbox is gone, its followers are removed, the delivery failed;
* another 4xx except 401, 408 and 429: the receiver refuses it for good (as Mastodon
  judges it), failed;
* anything else (5xx, 401, 408, 429, no answer): retrying, the next attempt after an
  exponential backoff (``machi.linkage.delivery.RetryPolicy``: 5 s, 15 s, 45 s, … up to
  4 h apart, for 24 hours), then failed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from machi.activitypub import documents
from machi.activitypub.keys import private_key_open
from machi.activitypub.models import Delivery, DeliveryState
from machi.activitypub.remote import POST_TIMEOUT, PostResult, Signer, post_activity
from machi.activitypub.services import actor_ensure, followers_remove_by_inbox
from machi.linkage.delivery import RetryPolicy
from machi.tenancy.context import current_lg_code, current_tenant_alias, tenant_context

logger = logging.getLogger("machi.activitypub")

POLICY = RetryPolicy()
BATCH = 200
LEASE = timedelta(seconds=POST_TIMEOUT + 5)
_WAITING = (DeliveryState.PENDING, DeliveryState.RETRYING)


def signer_for_current() -> Signer:
    actor = actor_ensure()
    origin = documents.public_origin()
    return Signer(
        key_id=documents.key_id(origin, current_lg_code()),
        private_key=private_key_open(actor.private_key_sealed),
    )


def _permanent(status: int) -> bool:
    return 400 <= status < 500 and status not in (401, 408, 429)


def _claim(now: datetime, limit: int) -> list[tuple[int, str, dict, int, datetime | None]]:
    due = (
        Delivery.objects.filter(state__in=_WAITING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at", "pk")
    )
    with transaction.atomic(using=current_tenant_alias()):
        rows = list(
            due.select_for_update(skip_locked=True).values_list(
                "pk", "inbox", "activity", "attempts", "first_attempt_at"
            )[:limit]
        )
        ids = [row[0] for row in rows]
        if ids:
            Delivery.objects.filter(pk__in=ids).update(leased_until=now + LEASE)
    return rows


def _record(
    delivery_id: int,
    inbox: str,
    attempts: int,
    first_at: datetime,
    result: PostResult,
    now: datetime,
    counts: dict[str, int],
) -> None:
    attempts += 1
    update: dict = {
        "attempts": attempts,
        "first_attempt_at": first_at,
        "leased_until": None,
        "last_status": result.status,
        "last_error": result.error[:300],
    }
    if result.status is not None and 200 <= result.status < 300:
        update.update(state=DeliveryState.SENT, sent_at=now)
    elif result.status == 410:
        removed = followers_remove_by_inbox(inbox=inbox)
        logger.info("inbox gone (410): %s follower(s) removed", removed)
        update["state"] = DeliveryState.FAILED
    elif result.status is not None and _permanent(result.status):
        update["state"] = DeliveryState.FAILED
    else:
        at = POLICY.next_attempt(attempts=attempts, first_attempt_at=first_at, now=now)
        if at is None:
            update["state"] = DeliveryState.FAILED
        else:
            update.update(state=DeliveryState.RETRYING, next_attempt_at=at)
    Delivery.objects.filter(pk=delivery_id).update(**update)
    counts[update["state"]] += 1


def deliveries_send_due(
    *, now: datetime | None = None, limit: int = BATCH, threads: int = 8
) -> dict[str, int]:
    """Send the municipality's due deliveries (batches until none is due); returns how
    many ended in each state."""
    counts = {state: 0 for state in DeliveryState.values}
    signer: Signer | None = None
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="activitypub") as pool:
        while True:
            started = now or timezone.now()
            rows = _claim(started, limit)
            if not rows:
                break
            signer = signer or signer_for_current()
            futures = [
                pool.submit(
                    post_activity,
                    inbox,
                    body=json.dumps(activity, ensure_ascii=False).encode(),
                    signer=signer,
                )
                for _pk, inbox, activity, _attempts, _first in rows
            ]
            # Every answer first, then the writes: the database is touched by this
            # thread alone, never while a request is still in flight.
            results = []
            for (pk, *_rest), future in zip(rows, futures, strict=True):
                try:
                    results.append(future.result())
                except Exception as error:  # a bug must not leave the delivery leased
                    logger.exception("ActivityPub delivery %s failed", pk)
                    results.append(PostResult(None, error.__class__.__name__))
            moment = now or timezone.now()
            for (pk, inbox, _activity, attempts, first_at), result in zip(
                rows, results, strict=True
            ):
                _record(pk, inbox, attempts, first_at or started, result, moment, counts)
            if now is not None:  # an injected clock: one pass (retries are not yet due)
                break
    return counts


def deliveries_drain(
    *, lg_codes: Iterable[str] | None = None, timeout: float = 60.0, threads: int = 8
) -> dict[str, dict[str, int]]:
    """Send everything due now in the given (or every) municipality, and repeat until
    nothing is due (tests and the benchmark; the worker uses the tasks)."""
    from machi.tenancy.models import Municipality

    codes = (
        list(lg_codes)
        if lg_codes is not None
        else list(Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True))
    )
    totals: dict[str, dict[str, int]] = {}
    deadline = time.monotonic() + timeout
    while True:
        sent_any = False
        for lg_code in codes:
            with tenant_context(lg_code):
                counts = deliveries_send_due(threads=threads)
            total = totals.setdefault(lg_code, dict.fromkeys(DeliveryState.values, 0))
            for state, n in counts.items():
                total[state] += n
            sent_any = sent_any or any(counts.values())
        if not sent_any or time.monotonic() > deadline:
            return totals

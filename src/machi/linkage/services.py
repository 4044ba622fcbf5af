"""Appending to the outbox (delivery reads what is appended here); webhook subscriptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone

from machi.audit.services import Terminal, audit_append
from machi.linkage.events import EVENT_TYPE_PREFIX, event_id_new, event_type_pattern_valid
from machi.linkage.models import (
    Delivery,
    DeliveryStatus,
    OutboxEvent,
    OutboxSequence,
    Subscription,
)
from machi.linkage.sealing import secret_seal
from machi.linkage.urlpolicy import REFUSED_ADDRESS, scheme_problem
from machi.linkage.webhooks import (
    POLICY_REFUSED,
    body_of,
    secret_generate,
    secret_problem,
    send,
    url_problem,
    verification_event,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias
from machi.tenancy.rows import rows_insert, rows_new


@dataclass(frozen=True)
class NewEvent:
    """One event to append: see ``outbox_append`` for the meaning of the fields."""

    type: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime | None = None


def outbox_append(
    *,
    type: str,
    subject: str,
    data: dict[str, Any] | None = None,
    time: datetime | None = None,
) -> OutboxEvent:
    """Append one event for the municipality in force, inside the caller's transaction.

    Call it inside the same ``transaction.atomic`` as the change the event describes:
    if the change rolls back, so does the event. ``data`` must be thin (ids, kinds of
    change, dates), never names, addresses or My Numbers.
    """
    (event,) = outbox_append_many(
        events=[NewEvent(type=type, subject=subject, data=data or {}, time=time)]
    )
    return event


def outbox_append_many(*, events: list[NewEvent]) -> list[OutboxEvent]:
    """Append several events with consecutive sequence numbers (one lock, one insert)."""
    for event in events:
        if not event.type.startswith(EVENT_TYPE_PREFIX):
            raise ValueError(f"event types start with {EVENT_TYPE_PREFIX!r}: {event.type!r}")
    if not events:
        return []
    using = current_tenant_alias()
    source = f"/municipalities/{current_lg_code()}"
    now = timezone.now()
    table = connections[using].ops.quote_name(OutboxSequence._meta.db_table)
    with transaction.atomic(using=using, savepoint=False):
        # One statement takes the numbers (and on PostgreSQL locks the counter's row until
        # commit): sequence numbers stay gapless in commit order.
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_seq = last_seq + %s WHERE id = 1 RETURNING last_seq",  # noqa: S608
                [len(events)],
            )
            row = cursor.fetchone()
        if row is None:
            OutboxSequence.objects.using(using).create(pk=1, last_seq=len(events))
            row = (len(events),)
        first = row[0] - len(events) + 1
        return rows_insert(
            OutboxEvent,
            [
                rows_new(
                    OutboxEvent,
                    {
                        "seq": first + offset,
                        "event_id": event_id_new(),
                        "type": event.type,
                        "source": source,
                        "subject": event.subject,
                        "time": event.time or now,
                        "data": event.data,
                    },
                )
                for offset, event in enumerate(events)
            ],
            using=using,
            returning=True,
        )


# --- Webhook subscriptions -----------------------------------------------------------


class VerificationFailed(ValidationError):
    """The subscription's URL did not answer the signed test event with a 2xx."""


def subscription_create(
    *,
    name: str,
    url: str,
    types: list[str],
    secret: str | None = None,
    actor: Any = None,
    terminal: Terminal | None = None,
    verify_timeout: float = 10.0,
) -> tuple[Subscription, str]:
    """Register a webhook endpoint for the municipality in force; returns it and its secret.

    ``types`` are patterns (``jp.machi.resident.*`` or exact types; none = every type).
    ``secret`` (``whsec_…``) is generated when not given; it is stored sealed. Before
    anything is saved a signed test event of type ``jp.machi.webhook.verification`` is
    POSTed to ``url``: anything but a 2xx refuses the subscription (``VerificationFailed``
    naming the status, or one message for every connection failure). A URL the policy
    refuses (``urlpolicy``: scheme, internal addresses) is refused before any request
    leaves. The subscription starts at the outbox's end.
    """
    name = (name or "").strip()
    url = (url or "").strip()
    types = [t.strip() for t in types if t and t.strip()]
    problems = []
    if not name or len(name) > 100:
        problems.append("名称を100文字以内で入力してください。")
    if problem := url_problem(url) or scheme_problem(url):
        problems.append(problem)
    bad = [t for t in types if not event_type_pattern_valid(t)]
    if bad:
        problems.append(
            "イベント種別の指定が正しくありません: "
            + ", ".join(bad)
            + "（例: jp.machi.resident.* または jp.machi.resident.moved_in）"
        )
    secret = (secret or "").strip() or secret_generate()
    if problem := secret_problem(secret):
        problems.append(problem)
    if problems:
        raise ValidationError(problems)
    lg_code = current_lg_code()
    event = verification_event(lg_code=lg_code, subscription_name=name)
    result = send(
        url=url, secret=secret, msg_id=event["id"], body=body_of(event), timeout=verify_timeout
    )
    if result.error == POLICY_REFUSED:
        raise ValidationError(REFUSED_ADDRESS, code="url_refused")
    if not result.ok:
        raise VerificationFailed(
            "確認用のイベント（jp.machi.webhook.verification）に 2xx の応答がなかったため、"
            f"登録しませんでした（{result.error}）。受信側の URL と署名の確認を見直してください。",
            code="verification_failed",
        )
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using):
        last_seq = (
            OutboxSequence.objects.using(using).filter(pk=1).values_list("last_seq", flat=True)
        ).first() or 0
        subscription = Subscription.objects.using(using).create(
            name=name,
            url=url,
            types=types,
            secret_sealed=secret_seal(secret),
            created_at=now,
            created_by_id=getattr(actor, "pk", None),
            created_by_username=getattr(actor, "username", "") or "",
            verified_at=now,
            cursor=last_seq,
        )
        audit_append(
            action="subscription.created",
            actor=actor,
            object_type="subscription",
            object_id=str(subscription.pk),
            function="linkage.subscription_create",
            terminal=terminal,
            detail={"url": url, "types": types, "cursor": last_seq},
        )
    return subscription, secret


def subscription_disable(
    *, subscription: Subscription, actor: Any = None, terminal: Terminal | None = None
) -> Subscription:
    """Stop delivering to a subscription (pending deliveries stay, unsent, for the record)."""
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        updated = Subscription.objects.using(using).filter(pk=subscription.pk, active=True)
        now = timezone.now()
        username = getattr(actor, "username", "") or ""
        if updated.update(active=False, disabled_at=now, disabled_by_username=username):
            audit_append(
                action="subscription.disabled",
                actor=actor,
                object_type="subscription",
                object_id=str(subscription.pk),
                function="linkage.subscription_disable",
                terminal=terminal,
            )
    subscription.refresh_from_db(using=using)
    return subscription


def delivery_resend(
    *,
    deliveries: list[Delivery],
    actor: Any = None,
    terminal: Terminal | None = None,
) -> int:
    """Dead letters back to pending, due now, with a fresh retry window; returns how many.

    Deliveries that are not dead are left alone. A resent event may reach the receiver
    after later events of its subject (it was given up on): receivers order by
    ``sequence``.
    """
    ids = [d.pk for d in deliveries]
    if not ids:
        return 0
    using = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=using):
        dead = Delivery.objects.using(using).filter(pk__in=ids, status=DeliveryStatus.DEAD)
        resent = sorted(dead.values_list("pk", flat=True))
        count = dead.update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            leased_until=None,
            first_attempt_at=None,
            dead_at=None,
        )
        if count:
            audit_append(
                action="delivery.resent",
                actor=actor,
                object_type="delivery",
                object_id=str(resent[0]) if count == 1 else "",
                function="linkage.delivery_resend",
                terminal=terminal,
                detail={"deliveries": resent[:1000], "count": count},
            )
    return count


# --- Retention of delivery history --------------------------------------------------

PRUNE_BATCH = 1000


@dataclass(frozen=True)
class PruneCounts:
    """What one ``deliveries_prune`` removed (or, in a dry run, would remove).

    ``more`` is true when ``max_batches`` stopped it before everything due was gone.
    """

    delivered: int = 0
    dead: int = 0
    batches: int = 0
    more: bool = False
    dry_run: bool = False

    @property
    def total(self) -> int:
        return self.delivered + self.dead

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _prune_rows(status: str, days: int, now: datetime):
    """Deliveries of ``status`` older than ``days`` (none when ``days`` is 0: kept for ever).

    Delivered rows are aged by ``delivered_at``, dead letters by ``dead_at``. The
    condition on ``next_attempt_at`` adds nothing to the result (an attempt is only made
    once it is due, so ``next_attempt_at`` ≤ ``delivered_at`` / ``dead_at``) but lets the
    database read the existing (status, next_attempt_at) index instead of every row.
    """
    if days <= 0:
        return None
    cutoff = now - timedelta(days=days)
    stamp = "delivered_at" if status == DeliveryStatus.DELIVERED else "dead_at"
    return Delivery.objects.filter(
        status=status, next_attempt_at__lt=cutoff, **{f"{stamp}__lt": cutoff}
    ).order_by("next_attempt_at")


def deliveries_prune(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    max_batches: int | None = None,
    actor: Any = None,
    terminal: Terminal | None = None,
) -> PruneCounts:
    """Delete the municipality's old webhook deliveries; returns the counts.

    Delivered deliveries go after ``MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS`` (default
    30), dead letters after ``MACHI_WEBHOOK_DEAD_RETENTION_DAYS`` (default 180): an
    operator must still see and resend them. Pending deliveries (failing ones
    included) are never deleted; the outbox events stay (the pull feed reads them).
    Rows go ``batch_size`` per transaction, so a large backlog never holds SQLite's
    write lock for long; ``max_batches`` stops early (``more`` tells). One audit entry
    per run with the counts (also when nothing was due: the record that the retention
    ran); a dry run counts, deletes nothing and is not audited.
    """
    now = now or timezone.now()
    batch_size = batch_size or PRUNE_BATCH
    using = current_tenant_alias()
    plans = [
        (DeliveryStatus.DELIVERED, settings.MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS),
        (DeliveryStatus.DEAD, settings.MACHI_WEBHOOK_DEAD_RETENTION_DAYS),
    ]
    if dry_run:
        counts = {}
        for status, days in plans:
            rows = _prune_rows(status, days, now)
            counts[status] = rows.using(using).count() if rows is not None else 0
        return PruneCounts(
            delivered=counts[DeliveryStatus.DELIVERED],
            dead=counts[DeliveryStatus.DEAD],
            dry_run=True,
        )
    deleted = {DeliveryStatus.DELIVERED: 0, DeliveryStatus.DEAD: 0}
    batches = 0
    more = False
    for status, days in plans:
        rows = _prune_rows(status, days, now)
        if rows is None:
            continue
        while True:
            if max_batches is not None and batches >= max_batches:
                more = rows.using(using).exists()
                break
            with transaction.atomic(using=using):
                # On PostgreSQL a second worker pruning at the same time skips these rows.
                ids = list(
                    rows.using(using)
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[:batch_size]
                )
                if ids:
                    Delivery.objects.using(using).filter(pk__in=ids).delete()
            if not ids:
                break
            batches += 1
            deleted[status] += len(ids)
            if len(ids) < batch_size:
                break
        if more:
            break
    counts = PruneCounts(
        delivered=deleted[DeliveryStatus.DELIVERED],
        dead=deleted[DeliveryStatus.DEAD],
        batches=batches,
        more=more,
    )
    with transaction.atomic(using=using):
        audit_append(
            action="delivery.pruned",
            actor=actor,
            object_type="delivery",
            function="linkage.deliveries_prune",
            terminal=terminal,
            detail={
                "delivered": counts.delivered,
                "dead": counts.dead,
                "batches": counts.batches,
                "more": counts.more,
                "delivered_retention_days": plans[0][1],
                "dead_retention_days": plans[1][1],
            },
        )
    return counts

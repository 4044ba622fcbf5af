"""Appending to the outbox (delivery reads what is appended here); webhook subscriptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone

from machi.audit.services import Terminal, audit_append
from machi.linkage.events import EVENT_TYPE_PREFIX, event_type_pattern_valid
from machi.linkage.models import (
    Delivery,
    DeliveryStatus,
    OutboxEvent,
    OutboxSequence,
    Subscription,
)
from machi.linkage.sealing import secret_seal
from machi.linkage.webhooks import (
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
    naming the status or error). The subscription starts at the outbox's end.
    """
    name = (name or "").strip()
    url = (url or "").strip()
    types = [t.strip() for t in types if t and t.strip()]
    problems = []
    if not name or len(name) > 100:
        problems.append("名称を100文字以内で入力してください。")
    if problem := url_problem(url):
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

"""Writes of the ActivityPub channel: the actor, its outbox, followers and deliveries.

Every function works in the municipality in force (``tenant_context``): the actor is
the one of its database.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from urllib.parse import urlsplit

import nh3
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from machi.activitypub import documents
from machi.activitypub.keys import key_pair_generate
from machi.activitypub.models import (
    Actor,
    BlockedServer,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Follower,
    Following,
    Note,
    ReceivedNote,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias

logger = logging.getLogger("machi.activitypub")

LANGUAGES = ("ja", "ja-easy", "en")
OBJECT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_WAITING = (DeliveryState.PENDING, DeliveryState.RETRYING)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


def actor_ensure() -> Actor:
    """The municipality's actor, made with a new key pair the first time."""
    actor = Actor.objects.order_by("pk").first()
    if actor is not None:
        return actor
    public_pem, sealed = key_pair_generate()
    with transaction.atomic(using=current_tenant_alias()):
        # Two first requests at once: the second finds the first one's row.
        actor = Actor.objects.select_for_update().order_by("pk").first()
        if actor is None:
            actor = Actor.objects.create(public_key_pem=public_pem, private_key_sealed=sealed)
    return actor


def _content_clean(content: dict[str, str]) -> dict[str, str]:
    if not isinstance(content, dict) or not str(content.get("ja") or "").strip():
        raise ValueError("content needs the Japanese text (key 'ja')")
    unknown = set(content) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"unknown language codes: {', '.join(sorted(unknown))}")
    return {code: nh3.clean(text) for code, text in content.items() if str(text or "").strip()}


def _deliveries_queue(*, kind: str, activity: dict, inboxes: list[str], note=None) -> int:
    now = timezone.now()
    rows = [
        Delivery(kind=kind, note=note, inbox=inbox, activity=activity, next_attempt_at=now)
        for inbox in dict.fromkeys(inboxes)
    ]
    Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=note is not None)
    return len(rows)


def _wake_worker(lg_code: str) -> None:
    """Deliver soon, on the background worker (the periodic task is the safety net)."""
    from machi.activitypub.tasks import activitypub_deliver_task

    try:
        activitypub_deliver_task.enqueue(lg_code)
    except Exception:  # the caller's publication must not fail for the queue
        logger.exception("could not enqueue the ActivityPub delivery for %s", lg_code)


def follower_inboxes() -> list[str]:
    """Where a public activity goes: each follower's shared inbox (once) or inbox."""
    return list(
        dict.fromkeys(
            shared or inbox
            for inbox, shared in Follower.objects.order_by("pk").values_list(
                "inbox", "shared_inbox"
            )
        )
    )


def note_publish(
    *,
    object_key: str,
    url: str,
    content: dict[str, str],
    summary: str | None,
    published: datetime,
) -> None:
    """Put a Note in the municipality's outbox and queue its ``Create`` for every
    follower's inbox (delivered by the worker: this never waits for a remote server).

    ``content`` is sanitised HTML by language code (``ja`` required). Publishing the
    same ``object_key`` again changes nothing: an announcement is delivered once.
    """
    if not isinstance(object_key, str) or not OBJECT_KEY.match(object_key):
        raise ValueError("object_key: 1–100 letters, digits, '.', '_' or '-'")
    if not url.startswith(("https://", "http://")):
        raise ValueError("url must be an absolute http(s) URL")
    if timezone.is_naive(published):
        raise ValueError("published must be an aware datetime")
    cleaned = _content_clean(content)
    lg_code = current_lg_code()
    origin = documents.public_origin()
    actor_ensure()
    with transaction.atomic(using=current_tenant_alias()):
        if Note.objects.filter(object_key=object_key).exists():
            return
        try:
            with transaction.atomic(using=current_tenant_alias()):
                note = Note.objects.create(
                    object_key=object_key,
                    url=url,
                    content=cleaned,
                    summary=(summary or "")[:500],
                    published=published,
                )
        except IntegrityError:  # published at the same moment by another process
            return
        activity = documents.create_activity(origin, lg_code=lg_code, note=note)
        queued = _deliveries_queue(
            kind=DeliveryKind.CREATE, activity=activity, inboxes=follower_inboxes(), note=note
        )
        if queued:
            transaction.on_commit(lambda: _wake_worker(lg_code), using=current_tenant_alias())


def _note_live(object_key: str) -> Note | None:
    """The Note to change (locked), or None: never published here, or already deleted
    (a change after the withdrawal has nobody left to tell)."""
    if not isinstance(object_key, str) or not OBJECT_KEY.match(object_key):
        raise ValueError("object_key: 1–100 letters, digits, '.', '_' or '-'")
    return (
        Note.objects.select_for_update()
        .filter(object_key=object_key, deleted_at__isnull=True)
        .first()
    )


def note_update(
    *,
    object_key: str,
    content: dict[str, str],
    summary: str | None,
    updated: datetime,
) -> bool:
    """The announcement was edited after publication: change the Note and queue an
    ``Update`` for every follower's inbox (delivered by the worker, never waited for).

    Returns whether an ``Update`` was queued: not for a Note never published or already
    deleted, nor when nothing changed, nor for an ``updated`` no later than the Note's
    last version (receivers keep the latest by that moment).
    """
    if timezone.is_naive(updated):
        raise ValueError("updated must be an aware datetime")
    cleaned = _content_clean(content)
    summary = (summary or "")[:500]
    lg_code = current_lg_code()
    alias = current_tenant_alias()
    with transaction.atomic(using=alias):
        note = _note_live(object_key)
        if note is None or updated <= (note.updated or note.published):
            return False
        if note.content == cleaned and note.summary == summary:
            return False
        note.content, note.summary, note.updated = cleaned, summary, updated
        note.save(update_fields=["content", "summary", "updated"])
        # An Update not yet under way would carry an older version: this one replaces it.
        Delivery.objects.filter(note=note, kind=DeliveryKind.UPDATE, state__in=_WAITING).filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=timezone.now())
        ).delete()
        activity = documents.update_activity(documents.public_origin(), lg_code=lg_code, note=note)
        if _deliveries_queue(
            kind=DeliveryKind.UPDATE, activity=activity, inboxes=follower_inboxes(), note=note
        ):
            transaction.on_commit(lambda: _wake_worker(lg_code), using=alias)
    return True


def note_delete(*, object_key: str, deleted: datetime | None = None) -> bool:
    """The announcement was withdrawn: the Note becomes a Tombstone (its URL answers
    410 Gone), what has not gone out of it is not sent, and a ``Delete`` is queued for
    every follower and every inbox that was sent the Note.

    Returns whether a ``Delete`` was queued (not for a Note never published here or
    deleted before); safe to call twice.
    """
    lg_code = current_lg_code()
    alias = current_tenant_alias()
    now = timezone.now()
    with transaction.atomic(using=alias):
        note = _note_live(object_key)
        if note is None:
            return False
        note.deleted_at = deleted or now
        note.save(update_fields=["deleted_at"])
        Delivery.objects.filter(
            note=note, kind__in=[DeliveryKind.CREATE, DeliveryKind.UPDATE], state__in=_WAITING
        ).filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now)).update(
            state=DeliveryState.FAILED, last_error="withdrawn before delivery", leased_until=None
        )
        reached = Delivery.objects.filter(
            note=note, kind=DeliveryKind.CREATE, state=DeliveryState.SENT
        ).values_list("inbox", flat=True)
        activity = documents.delete_activity(documents.public_origin(), lg_code=lg_code, note=note)
        if _deliveries_queue(
            kind=DeliveryKind.DELETE,
            activity=activity,
            inboxes=[*follower_inboxes(), *reached],
            note=note,
        ):
            transaction.on_commit(lambda: _wake_worker(lg_code), using=alias)
    return True


def note_delivery_status(*, object_key: str, kind: str = DeliveryKind.CREATE) -> dict[str, int]:
    """How the Note's deliveries stand: counts by state (all four keys, zeros too), of
    its ``Create`` unless ``kind`` names another (``"update"``, ``"delete"``)."""
    counts = dict.fromkeys(DeliveryState.values, 0)
    rows = (
        Delivery.objects.filter(note__object_key=object_key, kind=kind)
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    for state, n in rows:
        counts[state] = n
    return counts


def follower_add(*, actor_id: str, inbox: str, shared_inbox: str, follow: dict) -> Follower:
    """Store (or refresh) a follower and queue the ``Accept`` of its ``Follow``."""
    lg_code = current_lg_code()
    origin = documents.public_origin()
    with transaction.atomic(using=current_tenant_alias()):
        follower, _ = Follower.objects.update_or_create(
            actor_id=actor_id,
            defaults={"inbox": inbox, "shared_inbox": shared_inbox, "accepted_at": timezone.now()},
        )
        me = documents.actor_url(origin, lg_code)
        accept = {
            "@context": documents.AS_CONTEXT,
            "id": f"{me}#accepts/{uuid.uuid4()}",
            "type": "Accept",
            "actor": me,
            "object": follow,
        }
        _deliveries_queue(kind=DeliveryKind.ACCEPT, activity=accept, inboxes=[inbox])
        transaction.on_commit(lambda: _wake_worker(lg_code), using=current_tenant_alias())
    return follower


def follower_remove(*, actor_id: str) -> bool:
    deleted, _ = Follower.objects.filter(actor_id=actor_id).delete()
    return bool(deleted)


def followers_remove_by_inbox(*, inbox: str) -> int:
    """A 410 Gone from an inbox: whoever it served follows no more."""
    deleted, _ = Follower.objects.filter(inbox=inbox).delete()
    shared, _ = Follower.objects.filter(shared_inbox=inbox).delete()
    return deleted + shared


def following_request(*, actor_id: str, inbox: str) -> Following:
    """Ask a remote actor to be followed by the municipality (a ``Follow`` queued)."""
    lg_code = current_lg_code()
    origin = documents.public_origin()
    me = documents.actor_url(origin, lg_code)
    actor_ensure()
    with transaction.atomic(using=current_tenant_alias()):
        existing = Following.objects.filter(actor_id=actor_id).first()
        if existing is not None:
            return existing
        follow_id = f"{me}#follows/{uuid.uuid4()}"
        following = Following.objects.create(
            actor_id=actor_id,
            inbox=inbox,
            follow_activity_id=follow_id,
            requested_at=timezone.now(),
        )
        follow = {
            "@context": documents.AS_CONTEXT,
            "id": follow_id,
            "type": "Follow",
            "actor": me,
            "object": actor_id,
        }
        _deliveries_queue(kind=DeliveryKind.FOLLOW, activity=follow, inboxes=[inbox])
        transaction.on_commit(lambda: _wake_worker(lg_code), using=current_tenant_alias())
    return following


def following_accepted(*, actor_id: str, follow_id: str) -> bool:
    """The remote actor accepted our ``Follow`` (its id must be ours, to that actor)."""
    updated = Following.objects.filter(
        actor_id=actor_id, follow_activity_id=follow_id, accepted_at__isnull=True
    ).update(accepted_at=timezone.now())
    return bool(updated)


def following_start(*, address: str) -> Following:
    """Follow a remote actor named by ``acct:user@host`` / ``@user@host`` (WebFinger
    over https) or by its actor URL; its document is fetched for the inbox.

    Raises ``ValueError`` with a message for the operator when it cannot be found.
    """
    from machi.activitypub.delivery import signer_for_current
    from machi.activitypub.remote import RemoteError, fetch_json

    signer = signer_for_current()
    address = address.strip()
    try:
        if address.startswith(("http://", "https://")):
            actor_id = address
        else:
            user, _, host = address.removeprefix("acct:").lstrip("@").rpartition("@")
            if not user or not host or "/" in host:
                raise ValueError("address: acct:user@host, @user@host or the actor's URL")
            jrd = fetch_json(f"https://{host}/.well-known/webfinger?resource=acct:{user}@{host}")
            links = jrd.get("links") if isinstance(jrd.get("links"), list) else []
            actor_id = next(
                (
                    link.get("href")
                    for link in links
                    if isinstance(link, dict)
                    and link.get("rel") == "self"
                    and isinstance(link.get("href"), str)
                ),
                "",
            )
            if not actor_id:
                raise ValueError(f"{host} names no ActivityPub actor for {user}")
        document = fetch_json(actor_id, signer=signer)
    except RemoteError as error:
        raise ValueError(f"the actor could not be fetched: {error}") from None
    inbox = document.get("inbox")
    if document.get("id") != actor_id or not isinstance(inbox, str):
        raise ValueError("the document is not that actor's (id or inbox missing)")
    return following_request(actor_id=actor_id, inbox=inbox)


def _on_host(url: str, host: str) -> bool:
    name = (urlsplit(url).hostname or "").lower()
    return name == host or name.endswith("." + host)


def server_block(*, host: str, reason: str = "") -> int:
    """Block a remote server (and its subdomains): its followers and followings go,
    what is waiting for its inboxes is not sent, what it sent us goes, and its inbox
    requests are refused from now on. Returns how many followers were removed.

    Raises ``ValueError`` for what is not a host name (``spam.example``)."""
    host = host.strip().lower().rstrip(".")
    if not HOST.match(host):
        raise ValueError("host: a domain name such as spam.example (no scheme, no path)")
    with transaction.atomic(using=current_tenant_alias()):
        BlockedServer.objects.update_or_create(
            host=host, defaults={"reason": reason.strip()[:300], "blocked_at": timezone.now()}
        )
        near = Q(inbox__icontains=host)  # narrowed in Python: the host must match exactly
        followers = [
            f.pk
            for f in Follower.objects.filter(near | Q(actor_id__icontains=host))
            if _on_host(f.actor_id, host) or _on_host(f.inbox, host)
        ]
        Follower.objects.filter(pk__in=followers).delete()
        Following.objects.filter(
            pk__in=[f.pk for f in Following.objects.all() if _on_host(f.actor_id, host)]
        ).delete()
        ReceivedNote.objects.filter(
            pk__in=[
                n.pk
                for n in ReceivedNote.objects.filter(actor_id__icontains=host)
                if _on_host(n.actor_id, host)
            ]
        ).delete()
        waiting = Delivery.objects.filter(near, state__in=_WAITING)
        Delivery.objects.filter(
            pk__in=[d.pk for d in waiting.only("pk", "inbox") if _on_host(d.inbox, host)]
        ).update(state=DeliveryState.FAILED, last_error="server blocked", leased_until=None)
    logger.info("ActivityPub server %s blocked: %s follower(s) removed", host, len(followers))
    return len(followers)


def server_unblock(*, host: str) -> bool:
    """Lift a block (the followers it removed must follow again)."""
    deleted, _ = BlockedServer.objects.filter(host=host.strip().lower().rstrip(".")).delete()
    return bool(deleted)

"""What arrives at a municipality's inbox: checked, then Follow / Undo / Accept /
Create / Update / Delete.

The order of the checks keeps a stranger's request cheap: size, then what the
``Signature`` covers, the ``Date`` window and the ``Digest`` (no network), then the
JSON, and only then the signer's key, fetched over HTTP (cached). The activity's
``actor`` must be the key's owner: a server can only speak for its own actors.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urldefrag, urlsplit

import nh3
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from machi.activitypub import httpsig
from machi.activitypub.keys import public_key_load
from machi.activitypub.models import Following, ReceivedNote
from machi.activitypub.remote import RemoteError, fetch_json
from machi.activitypub.selectors import server_blocked
from machi.activitypub.services import follower_add, follower_remove, following_accepted
from machi.tenancy.context import current_tenant_alias

logger = logging.getLogger("machi.activitypub.inbox")

MAX_BODY = 256 * 1024  # Mastodon's activities are a few kB; a Note with a long text ~20 kB
KEY_TTL = 3600.0
KEY_CACHE_SIZE = 1000


class InboxRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class RemoteActor:
    actor_id: str
    public_key_pem: str
    inbox: str
    shared_inbox: str


class _KeyCache:
    """Remote actors' keys by keyId, for an hour (a rotated key is fetched again when a
    signature fails to verify with the cached one)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, RemoteActor]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: str) -> RemoteActor | None:
        with self._lock:
            item = self._items.get(key_id)
            if item is None or time.monotonic() - item[0] > KEY_TTL:
                return None
            self._items.move_to_end(key_id)
            return item[1]

    def put(self, key_id: str, actor: RemoteActor) -> None:
        with self._lock:
            self._items[key_id] = (time.monotonic(), actor)
            self._items.move_to_end(key_id)
            while len(self._items) > KEY_CACHE_SIZE:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


KEYS = _KeyCache()


def _http_url(value: object) -> str:
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https") and len(value) < 2000:
        return value
    return ""


def _actor_from(document: dict, key_id: str) -> RemoteActor | None:
    key = document.get("publicKey")
    keys = key if isinstance(key, list) else [key]
    for candidate in keys:
        if not isinstance(candidate, dict) or candidate.get("id") != key_id:
            continue
        pem = candidate.get("publicKeyPem")
        actor_id = _http_url(document.get("id"))
        if not isinstance(pem, str) or not actor_id or candidate.get("owner") != actor_id:
            return None
        endpoints = document.get("endpoints")
        shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
        return RemoteActor(
            actor_id=actor_id,
            public_key_pem=pem,
            inbox=_http_url(document.get("inbox")),
            shared_inbox=_http_url(shared),
        )
    return None


def remote_actor_fetch(key_id: str, *, signer=None) -> RemoteActor:
    """The actor holding ``key_id``: its document, fetched (the key's own document
    names its owner, whose document is then fetched). Raises ``RemoteError``."""
    url = urldefrag(key_id).url
    document = fetch_json(url, signer=signer)
    actor = _actor_from(document, key_id)
    if actor is None and isinstance(document.get("owner"), str):
        owner_url = _http_url(document["owner"])
        if owner_url and owner_url != url:
            actor = _actor_from(fetch_json(owner_url, signer=signer), key_id)
    if actor is None:
        raise RemoteError(f"{urlsplit(url).hostname}: no key {key_id!r} owned by the document")
    if urlsplit(actor.actor_id).hostname != urlsplit(key_id).hostname:
        raise RemoteError("the key's owner is on another host")
    return actor


def _verified_actor(
    parsed: httpsig.ParsedSignature,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    signer,
) -> RemoteActor:
    cached = KEYS.get(parsed.key_id)
    if cached is not None:
        try:
            httpsig.verify(
                parsed,
                public_key=public_key_load(cached.public_key_pem),
                method=method,
                path=path,
                headers=headers,
            )
        except httpsig.SignatureError:
            pass  # perhaps a new key: fetch it once more
        else:
            return cached
    try:
        actor = remote_actor_fetch(parsed.key_id, signer=signer)
    except RemoteError as error:
        raise httpsig.SignatureError(f"key not available: {error}") from None
    try:
        public_key = public_key_load(actor.public_key_pem)
    except ValueError:
        raise httpsig.SignatureError("the key is not an RSA public key") from None
    httpsig.verify(parsed, public_key=public_key, method=method, path=path, headers=headers)
    KEYS.put(parsed.key_id, actor)
    return actor


def _object_id(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def inbox_receive(
    *,
    lg_code: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    signer=None,
    now: datetime | None = None,
) -> str:
    """Handle one POST to the inbox of ``lg_code`` (in force); returns what was done.

    ``headers`` maps lower-case names to values. Raises ``InboxRefused`` (status 400,
    401, 403 for a blocked server, or 413) when the request is not taken; never for a
    well-signed activity of a type that is not handled (those are ignored).
    """
    if len(body) > MAX_BODY:
        raise InboxRefused(413, "payload too large")
    try:
        parsed = httpsig.precheck(headers=headers, body=body, now=now)
    except httpsig.SignatureError as error:
        raise InboxRefused(401, str(error)) from None
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboxRefused(400, "malformed JSON") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise InboxRefused(400, "not an activity")
    # Before the key is fetched: a blocked server costs us no request of ours.
    if server_blocked(urlsplit(parsed.key_id).hostname or ""):
        raise InboxRefused(403, "server blocked")
    try:
        actor = _verified_actor(parsed, method="POST", path=path, headers=headers, signer=signer)
    except httpsig.SignatureError as error:
        raise InboxRefused(401, str(error)) from None
    if activity.get("actor") != actor.actor_id:
        raise InboxRefused(401, "the activity's actor is not the signer")
    kind = activity["type"]
    if kind == "Follow":
        return _follow(lg_code, actor, activity)
    if kind == "Undo":
        return _undo(actor, activity)
    if kind == "Accept":
        follow_id = _object_id(activity.get("object"))
        return (
            "accepted"
            if following_accepted(actor_id=actor.actor_id, follow_id=follow_id)
            else "ignored"
        )
    if kind == "Create":
        return _create(actor, activity)
    if kind == "Update":
        return _update(actor, activity)
    if kind == "Delete":
        return _delete(actor, activity)
    return "ignored"


def _follow(lg_code: str, actor: RemoteActor, activity: dict) -> str:
    target = _object_id(activity.get("object"))
    if urlsplit(target).path != f"/ap/{lg_code}/actor":
        return "ignored"
    if not actor.inbox:
        raise InboxRefused(400, "the follower has no inbox")
    follow = {key: activity[key] for key in ("id", "type", "actor", "object") if key in activity}
    follower_add(
        actor_id=actor.actor_id, inbox=actor.inbox, shared_inbox=actor.shared_inbox, follow=follow
    )
    return "followed"


def _undo(actor: RemoteActor, activity: dict) -> str:
    inner = activity.get("object")
    if isinstance(inner, dict):
        if inner.get("type") != "Follow" or inner.get("actor", actor.actor_id) != actor.actor_id:
            return "ignored"
    elif not isinstance(inner, str):
        return "ignored"
    # A bare id: the only thing of theirs we keep is the follow, so that is what goes.
    return "unfollowed" if follower_remove(actor_id=actor.actor_id) else "ignored"


def _create(actor: RemoteActor, activity: dict) -> str:
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return "ignored"
    if not Following.objects.filter(actor_id=actor.actor_id, accepted_at__isnull=False).exists():
        return "ignored"
    object_id = _http_url(note.get("id"))
    if not object_id or note.get("attributedTo") != actor.actor_id:
        return "ignored"
    if urlsplit(object_id).hostname != urlsplit(actor.actor_id).hostname:
        return "ignored"
    published = note.get("published")
    published_at = parse_datetime(published) if isinstance(published, str) else None
    content = note.get("content")
    try:
        with transaction.atomic(using=current_tenant_alias()):
            ReceivedNote.objects.get_or_create(
                object_id=object_id,
                defaults={
                    "actor_id": actor.actor_id,
                    "content": nh3.clean(content if isinstance(content, str) else "")[:100_000],
                    "url": _http_url(note.get("url")),
                    "published": published_at,
                    "received_at": timezone.now(),
                },
            )
    except IntegrityError:  # the same Note twice at once
        pass
    return "received"


def _update(actor: RemoteActor, activity: dict) -> str:
    """A Note we hold, edited by its author: the newer text replaces ours."""
    note = activity.get("object")
    if not isinstance(note, dict) or note.get("type") != "Note":
        return "ignored"
    if note.get("attributedTo") != actor.actor_id:
        return "ignored"
    content = note.get("content")
    updated = ReceivedNote.objects.filter(
        object_id=_object_id(note), actor_id=actor.actor_id
    ).update(content=nh3.clean(content if isinstance(content, str) else "")[:100_000])
    return "updated" if updated else "ignored"


def _delete(actor: RemoteActor, activity: dict) -> str:
    """The author took a Note back (the object is its id or a Tombstone): ours goes.
    Only the author's own: the row must carry the signer as its actor."""
    deleted, _ = ReceivedNote.objects.filter(
        object_id=_object_id(activity.get("object")), actor_id=actor.actor_id
    ).delete()
    return "deleted" if deleted else "ignored"

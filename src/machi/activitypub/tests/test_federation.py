"""Follow → Accept → Create/Note between two machi municipalities on one live server,
and to a Mastodon-like neighbour whose inbox checks every signature independently."""

from __future__ import annotations

import datetime
import json

import pytest
import requests

from machi.activitypub.delivery import deliveries_drain
from machi.activitypub.models import Follower, Following, ReceivedNote
from machi.activitypub.services import following_request, note_delivery_status, note_publish
from machi.tenancy.context import tenant_context

from .conftest import A, B, cavage_sign, cavage_verify

pytestmark = pytest.mark.django_db(databases="__all__")

AS = "application/activity+json"
TIMEOUT = 30  # a loaded CI machine makes keys slowly; no timing is asserted
PUBLISHED = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)


def _actor(url: str) -> dict:
    return requests.get(url, headers={"Accept": AS}, timeout=TIMEOUT).json()


def test_municipality_a_follows_b_and_receives_its_note(live_machi):
    b_actor = _actor(f"{live_machi}/ap/{B}/actor")
    with tenant_context(A):
        following_request(actor_id=b_actor["id"], inbox=b_actor["inbox"])
    # A's Follow goes to B; B checks A's signature (fetching A's key over HTTP).
    assert deliveries_drain(lg_codes=[A], threads=1)[A]["sent"] == 1
    with tenant_context(B):
        follower = Follower.objects.get()
    assert follower.actor_id == f"{live_machi}/ap/{A}/actor"
    assert follower.inbox == f"{live_machi}/ap/{A}/inbox"
    # B's Accept goes back to A, which now follows B.
    assert deliveries_drain(lg_codes=[B], threads=1)[B]["sent"] == 1
    with tenant_context(A):
        assert Following.objects.get().accepted_at is not None

    with tenant_context(B):
        note_publish(
            object_key="announcement-7",
            url=f"{live_machi}/{B}/news/7/",
            content={"ja": "<p>避難所を開設しました</p>", "en": "<p>Shelters are open</p>"},
            summary=None,
            published=PUBLISHED,
        )
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(B):
        assert note_delivery_status(object_key="announcement-7") == {
            "pending": 0,
            "retrying": 0,
            "sent": 1,
            "failed": 0,
        }
    with tenant_context(A):
        received = ReceivedNote.objects.get()
    assert received.object_id == f"{live_machi}/ap/{B}/notes/announcement-7"
    assert received.content == "<p>避難所を開設しました</p>"
    assert received.url == f"{live_machi}/{B}/news/7/"


def _follow_b(live_machi: str, remote) -> requests.Response:
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{remote.actor_id}#follows/1",
            "type": "Follow",
            "actor": remote.actor_id,
            "object": f"{live_machi}/ap/{B}/actor",
        }
    ).encode()
    path = f"/ap/{B}/inbox"
    headers = cavage_sign(
        method="POST",
        path=path,
        host=live_machi.removeprefix("http://"),
        body=body,
        key_id=remote.key_id,
        private_key=remote.private_key,
    )
    headers["Content-Type"] = AS
    return requests.post(live_machi + path, data=body, headers=headers, timeout=TIMEOUT)


def test_a_mastodon_like_follower_gets_a_signed_accept_and_the_note(live_machi, remote):
    assert _follow_b(live_machi, remote).status_code == 202
    deliveries_drain(lg_codes=[B], threads=1)
    b_actor = _actor(f"{live_machi}/ap/{B}/actor")
    pem = b_actor["publicKey"]["publicKeyPem"]

    (accept,) = remote.received
    assert accept.path == "/users/alice/inbox"
    key_id = cavage_verify(
        method="POST", path=accept.path, headers=accept.headers, body=accept.body, public_pem=pem
    )
    assert key_id == b_actor["publicKey"]["id"]
    assert accept.headers["content-type"] == AS
    assert accept.json()["type"] == "Accept"
    assert accept.json()["object"]["id"] == f"{remote.actor_id}#follows/1"

    with tenant_context(B):
        note_publish(
            object_key="announcement-8",
            url=f"{live_machi}/{B}/news/8/",
            content={
                "ja": "<p>断水のお知らせ</p>",
                "ja-easy": "<p>みずが でません</p>",
                "en": "<p>Water outage</p>",
            },
            summary="断水",
            published=PUBLISHED,
        )
    deliveries_drain(lg_codes=[B], threads=1)
    create = remote.received[1]
    cavage_verify(
        method="POST", path=create.path, headers=create.headers, body=create.body, public_pem=pem
    )
    activity = create.json()
    assert activity["type"] == "Create" and activity["actor"] == b_actor["id"]
    note = activity["object"]
    assert note["type"] == "Note"
    assert note["content"] == "<p>断水のお知らせ</p>"
    assert note["contentMap"] == {"ja": "<p>断水のお知らせ</p>", "en": "<p>Water outage</p>"}
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [b_actor["followers"]]
    assert note["url"] == f"{live_machi}/{B}/news/8/"
    assert note["published"] == "2026-12-07T09:00:00+00:00"
    assert note["summary"] == "断水"
    # What was delivered is what the Note's id serves.
    assert _actor(note["id"])["content"] == note["content"]


def test_undo_of_the_follow_removes_the_follower(live_machi, remote):
    assert _follow_b(live_machi, remote).status_code == 202
    with tenant_context(B):
        assert Follower.objects.filter(actor_id=remote.actor_id).exists()
    body = json.dumps(
        {
            "id": f"{remote.actor_id}#undo/1",
            "type": "Undo",
            "actor": remote.actor_id,
            "object": {
                "id": f"{remote.actor_id}#follows/1",
                "type": "Follow",
                "actor": remote.actor_id,
                "object": f"{live_machi}/ap/{B}/actor",
            },
        }
    ).encode()
    path = f"/ap/{B}/inbox"
    headers = cavage_sign(
        method="POST",
        path=path,
        host=live_machi.removeprefix("http://"),
        body=body,
        key_id=remote.key_id,
        private_key=remote.private_key,
    )
    assert (
        requests.post(live_machi + path, data=body, headers=headers, timeout=TIMEOUT).status_code
        == 202
    )
    with tenant_context(B):
        assert not Follower.objects.exists()

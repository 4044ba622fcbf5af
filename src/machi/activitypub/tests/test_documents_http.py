"""WebFinger, NodeInfo, the actor and its collections, fetched over real HTTP."""

from __future__ import annotations

import datetime

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from machi.activitypub.services import note_publish
from machi.tenancy.context import tenant_context

from .conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")

AS = "application/activity+json"
TIMEOUT = 30  # a loaded CI machine makes keys slowly; no timing is asserted
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _host(url: str) -> str:
    return url.removeprefix("http://")


def test_webfinger_then_actor_as_mastodon_resolves_them(live_machi):
    reply = requests.get(
        f"{live_machi}/.well-known/webfinger",
        params={"resource": f"acct:{A}@{_host(live_machi)}"},
        timeout=TIMEOUT,
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/jrd+json")
    jrd = reply.json()
    assert jrd["subject"] == f"acct:{A}@{_host(live_machi)}"
    (self_link,) = [link for link in jrd["links"] if link["rel"] == "self"]
    assert self_link["type"] == AS
    assert self_link["href"] == f"{live_machi}/ap/{A}/actor"

    actor = requests.get(self_link["href"], headers={"Accept": AS}, timeout=TIMEOUT)
    assert actor.status_code == 200
    assert actor.headers["Content-Type"].startswith(AS)
    document = actor.json()
    assert document["id"] == self_link["href"]
    assert document["preferredUsername"] == A
    assert document["name"] == "千代田区"
    assert document["url"] == f"{live_machi}/{A}/"
    for name in ("inbox", "outbox", "followers"):
        assert document[name] == f"{live_machi}/ap/{A}/{name}"
    key = document["publicKey"]
    assert key["id"] == f"{document['id']}#main-key" and key["owner"] == document["id"]
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert public.key_size == 2048
    icon = requests.get(document["icon"]["url"], timeout=TIMEOUT)
    assert icon.status_code == 200 and icon.content.startswith(b"\x89PNG")

    # The same key on every fetch (made once), and each municipality its own.
    again = requests.get(self_link["href"], headers={"Accept": AS}, timeout=TIMEOUT).json()
    assert again["publicKey"]["publicKeyPem"] == key["publicKeyPem"]
    other = requests.get(
        f"{live_machi}/ap/{B}/actor", headers={"Accept": AS}, timeout=TIMEOUT
    ).json()
    assert other["publicKey"]["publicKeyPem"] != key["publicKeyPem"]


def test_actor_content_negotiation(live_machi):
    url = f"{live_machi}/ap/{A}/actor"
    ld = requests.get(url, headers={"Accept": LD}, timeout=TIMEOUT)
    assert ld.headers["Content-Type"] == LD
    assert "Accept" in ld.headers["Vary"]
    browser = requests.get(
        url,
        headers={"Accept": "text/html,application/xhtml+xml"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert browser.status_code == 302 and browser.headers["Location"] == f"{live_machi}/{A}/"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:999999@{host}",  # no such municipality
        "acct:131016@elsewhere.example",  # another host than the one asked
        "acct:alice@{host}",
        "https://elsewhere.example/ap/131016/actor",
    ],
)
def test_webfinger_unknown_resource_is_404(live_machi, resource):
    reply = requests.get(
        f"{live_machi}/.well-known/webfinger",
        params={"resource": resource.format(host=_host(live_machi))},
        timeout=TIMEOUT,
    )
    assert reply.status_code == 404


def test_webfinger_by_actor_url_and_without_resource(live_machi):
    by_url = requests.get(
        f"{live_machi}/.well-known/webfinger",
        params={"resource": f"{live_machi}/ap/{B}/actor"},
        timeout=TIMEOUT,
    )
    assert by_url.status_code == 200 and by_url.json()["subject"] == f"acct:{B}@{_host(live_machi)}"
    assert requests.get(f"{live_machi}/.well-known/webfinger", timeout=TIMEOUT).status_code == 400


def test_webfinger_for_a_host_not_allowed_is_refused(client, municipality_a):
    reply = client.get(
        "/.well-known/webfinger",
        {"resource": f"acct:{A}@evil.example"},
        headers={"host": "evil.example"},
    )
    assert reply.status_code == 400  # Django refuses a Host outside ALLOWED_HOSTS


def test_nodeinfo(live_machi):
    index = requests.get(f"{live_machi}/.well-known/nodeinfo", timeout=TIMEOUT).json()
    (link,) = index["links"]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.0"
    document = requests.get(link["href"], timeout=TIMEOUT).json()
    assert document["version"] == "2.0"
    assert document["protocols"] == ["activitypub"]
    assert document["software"]["name"] == "machi"
    assert document["usage"]["users"]["total"] >= 2
    assert document["openRegistrations"] is False


def test_outbox_pages_and_dereferenceable_notes(live_machi):
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    with tenant_context(A):
        for n in range(25):
            note_publish(
                object_key=f"a-{n}",
                url=f"{live_machi}/{A}/news/{n}/",
                content={"ja": f"<p>お知らせ{n}</p>"},
                summary=None,
                published=start + datetime.timedelta(hours=n),
            )
    outbox = requests.get(
        f"{live_machi}/ap/{A}/outbox", headers={"Accept": AS}, timeout=TIMEOUT
    ).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 25
    first = requests.get(outbox["first"], headers={"Accept": AS}, timeout=TIMEOUT).json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 20
    assert first["orderedItems"][0]["object"]["content"] == "<p>お知らせ24</p>"
    second = requests.get(first["next"], headers={"Accept": AS}, timeout=TIMEOUT).json()
    assert len(second["orderedItems"]) == 5 and "next" not in second and second["prev"]

    note_id = first["orderedItems"][0]["object"]["id"]
    note = requests.get(note_id, headers={"Accept": AS}, timeout=TIMEOUT)
    assert note.status_code == 200 and note.headers["Content-Type"].startswith(AS)
    assert note.json()["id"] == note_id and note.json()["type"] == "Note"
    missing = requests.get(
        f"{live_machi}/ap/{A}/notes/nothing", headers={"Accept": AS}, timeout=TIMEOUT
    )
    assert missing.status_code == 404
    # Municipality B's outbox does not show A's notes.
    other = requests.get(f"{live_machi}/ap/{B}/outbox", headers={"Accept": AS}, timeout=TIMEOUT)
    assert other.json()["totalItems"] == 0
    assert requests.get(f"{live_machi}/ap/{A}/outbox?page=x", timeout=TIMEOUT).status_code == 400


def test_followers_collection_shows_the_count_only(live_machi):
    from django.utils import timezone

    from machi.activitypub.models import Follower

    with tenant_context(A):
        Follower.objects.create(
            actor_id="https://social.example/users/resident",
            inbox="https://social.example/users/resident/inbox",
            accepted_at=timezone.now(),
        )
    document = requests.get(
        f"{live_machi}/ap/{A}/followers", headers={"Accept": AS}, timeout=TIMEOUT
    ).json()
    assert document["totalItems"] == 1
    assert "resident" not in str(document)


def test_unknown_municipality_is_404(live_machi):
    for path in ("actor", "outbox", "followers", "icon.png", "notes/a-1"):
        assert requests.get(f"{live_machi}/ap/999999/{path}", timeout=TIMEOUT).status_code == 404
    assert (
        requests.post(f"{live_machi}/ap/999999/inbox", data=b"{}", timeout=TIMEOUT).status_code
        == 404
    )

"""note_update / note_delete: an edited announcement goes out as ``Update``, a
withdrawn one as ``Delete`` of a Tombstone, and the Note's URL then answers 410 Gone."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from machi.activitypub.delivery import deliveries_drain
from machi.activitypub.models import Actor, Delivery, DeliveryState, Follower, Note, ReceivedNote
from machi.activitypub.services import (
    note_delete,
    note_delivery_status,
    note_publish,
    note_update,
)
from machi.tenancy.context import tenant_context

from .conftest import A, B, cavage_verify

pytestmark = pytest.mark.django_db(databases="__all__")

AS = "application/activity+json"
PUBLISHED = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)
EDITED = PUBLISHED + datetime.timedelta(hours=1)
ORIGIN = "https://machi.example.jp"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.MACHI_PUBLIC_URL = ORIGIN


def _follower(n: int, *, inbox: str = "") -> Follower:
    return Follower.objects.create(
        actor_id=f"https://social{n}.example/users/u{n}",
        inbox=inbox or f"https://social{n}.example/users/u{n}/inbox",
        accepted_at=timezone.now(),
    )


def _publish(key: str = "announcement-1") -> None:
    note_publish(
        object_key=key,
        url=f"{ORIGIN}/{B}/news/1/",
        content={"ja": "<p>断水のお知らせ</p>", "en": "<p>Water outage</p>"},
        summary=None,
        published=PUBLISHED,
    )


def _update(key: str = "announcement-1", **overrides) -> bool:
    args = {
        "object_key": key,
        "content": {"ja": "<p>断水は15時までです</p>"},
        "summary": "訂正",
        "updated": EDITED,
    }
    return note_update(**(args | overrides))


def test_an_update_goes_to_every_follower_with_the_new_text(municipality_b):
    with tenant_context(B):
        _follower(1)
        _follower(2)
        _publish()
        assert _update(content={"ja": '<p onclick="x()">断水は15時までです</p><script>1</script>'})
        note = Note.objects.get()
        assert note.content == {"ja": "<p>断水は15時までです</p>"}
        assert note.updated == EDITED
        updates = list(Delivery.objects.filter(kind="update").order_by("inbox"))
        assert note_delivery_status(object_key="announcement-1", kind="update")["pending"] == 2
        assert note_delivery_status(object_key="announcement-1")["pending"] == 2  # the Creates
    activity = updates[0].activity
    assert activity["type"] == "Update"
    assert activity["actor"] == f"{ORIGIN}/ap/{B}/actor"
    assert activity["object"]["id"] == f"{ORIGIN}/ap/{B}/notes/announcement-1"
    assert activity["object"]["updated"] == "2026-12-07T10:00:00+00:00"
    assert activity["object"]["published"] == "2026-12-07T09:00:00+00:00"
    assert activity["object"]["content"] == "<p>断水は15時までです</p>"
    assert activity["object"]["summary"] == "訂正"
    assert activity["id"] != activity["object"]["id"]


def test_a_later_update_replaces_one_not_yet_sent(municipality_b):
    with tenant_context(B):
        _follower(1)
        _publish()
        assert _update()
        assert _update(content={"ja": "<p>断水は16時までです</p>"}, updated=EDITED.replace(hour=11))
        (update,) = Delivery.objects.filter(kind="update")
    assert update.activity["object"]["content"] == "<p>断水は16時までです</p>"


@pytest.mark.parametrize(
    "overrides",
    [
        {"object_key": "never-published"},
        {"content": {"ja": "<p>断水のお知らせ</p>", "en": "<p>Water outage</p>"}, "summary": None},
        {"updated": PUBLISHED},  # not later than the version the receivers hold
    ],
)
def test_an_update_that_changes_nothing_is_not_sent(municipality_b, overrides):
    with tenant_context(B):
        _follower(1)
        _publish()
        assert not _update(**overrides)
        assert not Delivery.objects.filter(kind="update").exists()
        assert Note.objects.get().updated is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"object_key": "../etc"},
        {"content": {"en": "<p>only English</p>"}},
        {"content": {"ja": "<p>本文</p>", "fr": "<p>non</p>"}},
        {"updated": datetime.datetime(2026, 12, 7, 10, 0)},
    ],
)
def test_bad_update_input_is_refused_and_changes_nothing(municipality_b, overrides):
    with tenant_context(B):
        _follower(1)
        _publish()
        with pytest.raises(ValueError):
            _update(**overrides)
        assert Note.objects.get().content["ja"] == "<p>断水のお知らせ</p>"
        assert not Delivery.objects.filter(kind="update").exists()


def test_delete_makes_a_tombstone_and_stops_what_has_not_gone_out(municipality_b, client):
    with tenant_context(B):
        _follower(1)
        _follower(2)
        _publish()
        _publish("announcement-2")
        Delivery.objects.filter(inbox__contains="social2", kind="create").update(
            state=DeliveryState.SENT
        )
        Follower.objects.filter(actor_id__contains="social2").delete()  # left since
        _update()
        assert note_delete(object_key="announcement-1")
        assert note_delivery_status(object_key="announcement-1") == {
            "pending": 0,
            "retrying": 0,
            "sent": 1,
            "failed": 1,
        }
        assert Delivery.objects.get(kind="update").state == DeliveryState.FAILED
        deletes = list(Delivery.objects.filter(kind="delete").order_by("inbox"))
        # The follower, and the inbox that holds a copy though its owner left.
        assert [d.inbox for d in deletes] == [
            "https://social1.example/users/u1/inbox",
            "https://social2.example/users/u2/inbox",
        ]
        assert note_delivery_status(object_key="announcement-1", kind="delete")["pending"] == 2
        # Twice is once; a later publication or edit of the same key changes nothing.
        assert not note_delete(object_key="announcement-1")
        assert not _update(updated=EDITED.replace(hour=12))
        _publish()
        assert Delivery.objects.filter(kind="delete").count() == 2
        assert Note.objects.get(object_key="announcement-1").deleted_at is not None
    activity = deletes[0].activity
    assert activity["type"] == "Delete"
    assert activity["actor"] == f"{ORIGIN}/ap/{B}/actor"
    assert activity["object"]["type"] == "Tombstone"
    assert activity["object"]["id"] == f"{ORIGIN}/ap/{B}/notes/announcement-1"

    response = client.get(f"/ap/{B}/notes/announcement-1", HTTP_ACCEPT=AS)
    assert response.status_code == 410
    assert response["Content-Type"] == AS
    assert response.json()["type"] == "Tombstone"
    outbox = client.get(f"/ap/{B}/outbox?page=1", HTTP_ACCEPT=AS).json()
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [
        f"http://testserver/ap/{B}/notes/announcement-2"
    ]
    assert client.get(f"/ap/{B}/outbox", HTTP_ACCEPT=AS).json()["totalItems"] == 1
    assert client.get(f"/ap/{B}/notes/announcement-2", HTTP_ACCEPT=AS).status_code == 200


def test_delete_of_an_unknown_note_does_nothing(municipality_b):
    with tenant_context(B):
        _follower(1)
        assert not note_delete(object_key="never-published")
        assert not Delivery.objects.exists()
        with pytest.raises(ValueError):
            note_delete(object_key="../etc")


def test_notes_of_another_municipality_are_out_of_reach(municipality_a, municipality_b):
    with tenant_context(B):
        _follower(1)
        _publish()
    with tenant_context(A):
        assert not _update()
        assert not note_delete(object_key="announcement-1")
    with tenant_context(B):
        assert Note.objects.get().deleted_at is None
        assert Note.objects.get().updated is None


def test_update_and_delete_reach_a_remote_inbox_signed(municipality_b, remote):
    with tenant_context(B):
        Follower.objects.create(
            actor_id=remote.actor_id, inbox=remote.inbox, accepted_at=timezone.now()
        )
        _publish()
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(B):
        _update()
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(B):
        note_delete(object_key="announcement-1")
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(B):
        pem = Actor.objects.get().public_key_pem
        assert note_delivery_status(object_key="announcement-1", kind="update")["sent"] == 1
        assert note_delivery_status(object_key="announcement-1", kind="delete")["sent"] == 1
    assert [r.json()["type"] for r in remote.received] == ["Create", "Update", "Delete"]
    for request in remote.received:
        key_id = cavage_verify(
            method="POST",
            path=request.path,
            headers=request.headers,
            body=request.body,
            public_pem=pem,
        )
        assert key_id == f"{ORIGIN}/ap/{B}/actor#main-key"
    assert remote.received[1].json()["object"]["content"] == "<p>断水は15時までです</p>"
    assert remote.received[2].json()["object"]["type"] == "Tombstone"


def test_a_following_municipality_applies_the_update_and_the_delete(live_machi):
    """A follows B on one live server; B's edit and withdrawal reach A's inbox, whose
    signature check fetches B's key over HTTP."""
    from machi.activitypub.services import following_request

    with tenant_context(A):
        following_request(actor_id=f"{live_machi}/ap/{B}/actor", inbox=f"{live_machi}/ap/{B}/inbox")
    deliveries_drain(lg_codes=[A], threads=1)  # Follow
    deliveries_drain(lg_codes=[B], threads=1)  # Accept
    with tenant_context(B):
        _publish()
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(A):
        assert ReceivedNote.objects.get().content == "<p>断水のお知らせ</p>"
    with tenant_context(B):
        _update()
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(A):
        assert ReceivedNote.objects.get().content == "<p>断水は15時までです</p>"
    with tenant_context(B):
        note_delete(object_key="announcement-1")
    deliveries_drain(lg_codes=[B], threads=1)
    with tenant_context(A):
        assert not ReceivedNote.objects.exists()
    with tenant_context(B):
        assert note_delivery_status(object_key="announcement-1", kind="delete")["sent"] == 1


def test_only_the_author_may_delete_or_update_a_received_note(live_machi, remote):
    """alice (a stranger's server, validly signed) cannot touch B's Note that A holds."""
    import json

    import requests

    from .conftest import cavage_sign

    object_id = f"{live_machi}/ap/{B}/notes/announcement-1"
    with tenant_context(A):
        ReceivedNote.objects.create(
            object_id=object_id,
            actor_id=f"{live_machi}/ap/{B}/actor",
            content="<p>本物</p>",
            received_at=timezone.now(),
        )
    path = f"/ap/{A}/inbox"
    for activity in (
        {"type": "Delete", "object": {"id": object_id, "type": "Tombstone"}},
        {
            "type": "Update",
            "object": {
                "id": object_id,
                "type": "Note",
                "attributedTo": remote.actor_id,
                "content": "<p>偽物</p>",
            },
        },
    ):
        body = json.dumps(
            {"id": f"{remote.actor_id}#x", "actor": remote.actor_id} | activity
        ).encode()
        headers = cavage_sign(
            method="POST",
            path=path,
            host=live_machi.removeprefix("http://"),
            body=body,
            key_id=remote.key_id,
            private_key=remote.private_key,
        )
        response = requests.post(live_machi + path, data=body, headers=headers, timeout=30)
        assert response.status_code == 202
    with tenant_context(A):
        assert ReceivedNote.objects.get().content == "<p>本物</p>"


def test_withdrawing_an_announcement_sends_the_delete(make_staff, municipality_b):
    """announce's withdrawal (its one call into this app) queues the Delete."""
    from machi.announce import services as announce
    from machi.announce.delivery import deliveries_run, note_key

    approver = make_staff(municipality_b, ("bosai", "web_author"), ("bosai", "web_approver"))
    with tenant_context(B):
        _follower(1)
        announcement = announce.announcement_create(
            actor=approver, title={"ja": "避難所を開設しました"}, body={"ja": "本文"},
            category="bousai",
        )  # fmt: skip
        announce.announcement_publish(announcement=announcement, actor=approver)
        deliveries_run(announcement_id=announcement.pk)
        key = note_key(announcement)
        assert note_delivery_status(object_key=key)["pending"] == 1
        announce.announcement_withdraw(announcement=announcement, actor=approver)
        assert Note.objects.get(object_key=key).deleted_at is not None
        assert note_delivery_status(object_key=key, kind="delete")["pending"] == 1
        assert note_delivery_status(object_key=key)["failed"] == 1  # not sent any more


def test_the_note_of_one_municipality_is_not_served_under_another(
    municipality_a, municipality_b, client
):
    with tenant_context(A):
        note_publish(
            object_key="announcement-9",
            url=f"{ORIGIN}/{A}/news/9/",
            content={"ja": "<p>千代田区のお知らせ</p>"},
            summary=None,
            published=PUBLISHED,
        )
    assert client.get(f"/ap/{A}/notes/announcement-9", HTTP_ACCEPT=AS).status_code == 200
    assert client.get(f"/ap/{B}/notes/announcement-9", HTTP_ACCEPT=AS).status_code == 404
    with tenant_context(A):
        note_delete(object_key="announcement-9")
    # Nor its tombstone: B never had that Note.
    assert client.get(f"/ap/{B}/notes/announcement-9", HTTP_ACCEPT=AS).status_code == 404
    assert client.get(f"/ap/{A}/notes/announcement-9", HTTP_ACCEPT=AS).status_code == 410

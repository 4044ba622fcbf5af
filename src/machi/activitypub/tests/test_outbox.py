"""note_publish / note_delivery_status: the interface the announce app calls."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from machi.activitypub.models import Delivery, Follower, Note
from machi.activitypub.services import note_delivery_status, note_publish
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
PUBLISHED = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"


def _follower(n: int, *, shared: str = "") -> Follower:
    return Follower.objects.create(
        actor_id=f"https://social{n}.example/users/u{n}",
        inbox=f"https://social{n}.example/users/u{n}/inbox",
        shared_inbox=shared,
        accepted_at=timezone.now(),
    )


def _publish(key: str = "announcement-1", **overrides) -> None:
    args = {
        "object_key": key,
        "url": f"https://machi.example.jp/{A}/news/1/",
        "content": {"ja": "<p>断水のお知らせ</p>", "en": "<p>Water outage</p>"},
        "summary": None,
        "published": PUBLISHED,
    }
    note_publish(**(args | overrides))


def test_publish_queues_one_delivery_per_inbox_and_shared_inbox_once(municipality_a):
    with tenant_context(A):
        _follower(1)
        _follower(2, shared="https://big.example/inbox")
        _follower(3, shared="https://big.example/inbox")
        _publish()
        note = Note.objects.get(object_key="announcement-1")
        inboxes = sorted(Delivery.objects.filter(note=note).values_list("inbox", flat=True))
        assert inboxes == ["https://big.example/inbox", "https://social1.example/users/u1/inbox"]
        assert note_delivery_status(object_key="announcement-1") == {
            "pending": 2,
            "retrying": 0,
            "sent": 0,
            "failed": 0,
        }
        activity = Delivery.objects.filter(note=note).first().activity
    assert activity["type"] == "Create"
    assert activity["object"]["contentMap"] == {
        "ja": "<p>断水のお知らせ</p>",
        "en": "<p>Water outage</p>",
    }
    assert activity["object"]["id"] == f"https://machi.example.jp/ap/{A}/notes/announcement-1"


def test_publish_twice_delivers_once(municipality_a):
    with tenant_context(A):
        _follower(1)
        _publish()
        _publish(content={"ja": "<p>別の本文</p>"})
        assert Note.objects.count() == 1
        assert Delivery.objects.count() == 1
        assert Note.objects.get().content["ja"] == "<p>断水のお知らせ</p>"


def test_content_is_sanitised(municipality_a):
    with tenant_context(A):
        _publish(content={"ja": '<p onclick="x()">本文<script>alert(1)</script></p>'})
        assert Note.objects.get().content["ja"] == "<p>本文</p>"


@pytest.mark.parametrize(
    "overrides",
    [
        {"object_key": "../etc"},
        {"object_key": ""},
        {"content": {"en": "<p>only English</p>"}},
        {"content": {"ja": "<p>本文</p>", "fr": "<p>non</p>"}},
        {"url": "javascript:alert(1)"},
        {"published": datetime.datetime(2026, 12, 7, 9, 0)},
    ],
)
def test_bad_input_is_refused_and_stores_nothing(municipality_a, overrides):
    with tenant_context(A):
        with pytest.raises(ValueError):
            _publish(**overrides)
        assert not Note.objects.exists()


def test_status_of_an_unknown_note_is_all_zero(municipality_a):
    with tenant_context(A):
        assert note_delivery_status(object_key="nothing") == {
            "pending": 0,
            "retrying": 0,
            "sent": 0,
            "failed": 0,
        }


def test_notes_are_per_municipality(municipality_a, municipality_b):
    with tenant_context(A):
        _follower(1)
        _publish()
    with tenant_context(B):
        assert not Note.objects.exists()
        assert note_delivery_status(object_key="announcement-1")["pending"] == 0

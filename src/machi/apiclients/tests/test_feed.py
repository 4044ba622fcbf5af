"""The pull feed: order, cursor, type filters, limits, long poll, staff access, queries."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections, transaction

from machi.accounts.roles import Role
from machi.linkage.models import OutboxEvent
from machi.linkage.selectors import FEED_POLL_INTERVAL, feed_read, outbox_last_seq
from machi.linkage.services import NewEvent, outbox_append_many
from machi.tenancy.context import tenant_context

from .conftest import A, B, QueryCount, audit_entries

pytestmark = pytest.mark.django_db(databases="__all__")

TYPES = [
    "jp.machi.resident.moved_in",
    "jp.machi.task.created",
    "jp.machi.resident.died",
    "jp.machi.visit.closed",
    "jp.machi.resident.name_changed",
    "jp.machi.task.completed",
]


def append(lg_code: str, types: list[str]) -> list[OutboxEvent]:
    with tenant_context(lg_code):
        return outbox_append_many(
            events=[
                NewEvent(type=t, subject=f"{n:08d}", data={"n": n}) for n, t in enumerate(types)
            ]
        )


@pytest.fixture
def feed(api, make_client):
    _, token = make_client("events:read")
    return api(token)


def test_events_in_order_with_a_cursor(feed, municipality_a):
    events = append(A, TYPES)
    base = events[0].seq - 1
    seen, after, calls = [], base, 0
    while True:
        page = feed.get("/events", after=after, limit=4).json()
        calls += 1
        seen += page["events"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert calls == 2
    with tenant_context(A):
        expected = [e.as_cloudevent() for e in OutboxEvent.objects.filter(seq__gt=base)]
    assert seen == expected  # the very documents as_cloudevent() gives, in sequence order
    assert [e["sequence"] for e in seen] == list(range(base + 1, base + 7))
    assert seen[0]["specversion"] == "1.0" and seen[0]["source"] == f"/municipalities/{A}"
    assert after == events[-1].seq
    # Nothing new: the same cursor comes back, nothing more.
    assert feed.get("/events", after=after).json() == {
        "events": [], "next_after": after, "has_more": False,
    }  # fmt: skip
    # Events appended later continue from the cursor.
    (late,) = append(A, ["jp.machi.resident.born"])
    page = feed.get("/events", after=after).json()
    assert [e["id"] for e in page["events"]] == [str(late.event_id)]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("jp.machi.resident.*", [0, 2, 4]),
        ("jp.machi.task.created", [1]),
        ("jp.machi.task.*,jp.machi.visit.closed", [1, 3, 5]),
        ("jp.machi.resident.died, jp.machi.resident.moved_in", [0, 2]),
        ("jp.machi.registry.*", []),
        ("", [0, 1, 2, 3, 4, 5]),
    ],
)
def test_types_filter(feed, municipality_a, types, expected):
    events = append(A, TYPES)
    base = events[0].seq - 1
    page = feed.get("/events", after=base, types=types).json()
    assert [e["data"]["n"] for e in page["events"]] == expected
    # The cursor moves past the events the filter skipped.
    assert page["next_after"] == events[-1].seq
    assert page["has_more"] is False


def test_types_filter_pages_and_cursor(feed, municipality_a):
    events = append(A, TYPES * 3)
    base = events[0].seq - 1
    page = feed.get("/events", after=base, types="jp.machi.task.*", limit=2).json()
    assert [e["type"] for e in page["events"]] == [
        "jp.machi.task.created",
        "jp.machi.task.completed",
    ]
    assert page["has_more"] is True and page["next_after"] == events[5].seq
    rest = feed.get("/events", after=page["next_after"], types="jp.machi.task.*", limit=10).json()
    assert len(rest["events"]) == 4 and rest["has_more"] is False
    assert rest["next_after"] == events[-1].seq


@pytest.mark.parametrize(
    "types", ["resident.*", "jp.machi.*.moved_in", "jp.machi.resident.", "jp.machi..x", "*"]
)
def test_bad_type_patterns_are_400_naming_them(feed, municipality_a, types):
    response = feed.get("/events", types=f"jp.machi.task.created,{types}")
    assert response.status_code == 400
    assert types in response.json()["detail"]


def test_limit_bounds(feed, municipality_a):
    events = append(A, ["jp.machi.task.created"] * 1001)
    base = events[0].seq - 1
    assert len(feed.get("/events", after=base).json()["events"]) == 100  # the default
    assert len(feed.get("/events", after=base, limit=1).json()["events"]) == 1
    page = feed.get("/events", after=base, limit=1000).json()
    assert len(page["events"]) == 1000 and page["has_more"] is True
    for limit in (0, -1, 1001):
        response = feed.get("/events", after=base, limit=limit)
        assert response.status_code == 400 and "limit" in response.json()["detail"]
    assert feed.get("/events", limit="many").status_code == 422


@pytest.mark.parametrize("wait", [-1, 30.5, 600])
def test_wait_bounds(feed, municipality_a, wait):
    response = feed.get("/events", wait=wait)
    assert response.status_code == 400 and "wait" in response.json()["detail"]


class _Reads(list):
    looked: threading.Event


@pytest.fixture
def reads(monkeypatch):
    """Every outbox read of the long poll, recorded (``looked`` is set at the first);
    how a test knows the poll is waiting without measuring time."""
    from machi.linkage import selectors

    made, looked = _Reads(), threading.Event()
    read = selectors.feed_read

    def recorded(**kwargs):
        page = read(**kwargs)
        made.append(len(page.events))
        looked.set()
        return page

    monkeypatch.setattr(selectors, "feed_read", recorded)
    made.looked = looked
    return made


def test_long_poll_returns_empty_after_wait(feed, municipality_a, reads):
    """Nothing arrives: the poll looks again at its interval, then answers the empty page
    with the cursor unchanged."""
    with tenant_context(A):
        last = outbox_last_seq()
    page = feed.get("/events", after=last, wait=3 * FEED_POLL_INTERVAL).json()
    assert page == {"events": [], "next_after": last, "has_more": False}
    assert len(reads) >= 2 and set(reads) == {0}  # it looked again before giving up


def test_long_poll_sleeps_in_steps_until_the_wait_is_over(municipality_a):
    """The selector's sleeps never exceed the poll interval and stop at the deadline."""
    from machi.linkage.selectors import feed_wait

    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with tenant_context(A):
        last = outbox_last_seq()
        page = feed_wait(after=last, wait=2.5 * FEED_POLL_INTERVAL, sleep=sleep)
    assert page.events == [] and page.next_after == last
    assert slept and all(0 <= s <= FEED_POLL_INTERVAL for s in slept)
    assert sum(slept) <= 2.5 * FEED_POLL_INTERVAL


def test_long_poll_returns_early_when_an_event_is_committed(new_tenants, api, reads):
    """A real commit from another thread (a municipality of its own, outside the test's
    rolled-back transactions) while the poll waits ends it with the event: with ``wait``
    at 20 s, an empty page would mean the poll never saw the commit."""
    from machi.apiclients.services import apiclient_create
    from machi.tenancy.services import municipality_create

    code = "131059"
    new_tenants.append(code)
    municipality_create(lg_code=code, name="文京区")
    with tenant_context(code):
        token = apiclient_create(name="国保システム", scopes=["events:read"]).token
        append(code, ["jp.machi.task.created"])  # something before the cursor

    def later() -> None:
        try:
            assert reads.looked.wait(timeout=20)  # the poll found nothing and waits
            with tenant_context(code) as alias, transaction.atomic(using=alias):
                append(code, ["jp.machi.visit.closed", "jp.machi.resident.moved_in"])
        finally:
            connections.close_all()

    writer = threading.Thread(target=later)
    writer.start()
    try:
        page = (
            api(token, lg_code=code)
            .get("/events", after=1, wait=20, types="jp.machi.resident.*")
            .json()
        )
    finally:
        writer.join()
    assert [e["type"] for e in page["events"]] == ["jp.machi.resident.moved_in"]
    assert page["next_after"] == 3
    assert reads[0] == 0 and reads[-1] == 1  # empty first, then the committed event


def test_feed_of_a_shows_nothing_of_b(feed, municipality_a, municipality_b):
    append(B, TYPES)
    with tenant_context(A):
        last_a = outbox_last_seq()
    page = feed.get("/events", after=0, limit=1000).json()
    assert all(e["source"] == f"/municipalities/{A}" for e in page["events"])
    assert len(page["events"]) == last_a


def test_every_feed_call_is_audited(feed, municipality_a):
    events = append(A, TYPES)
    feed.get("/events", after=events[0].seq - 1, types="jp.machi.resident.*")
    (entry,) = audit_entries(A, action="api.events.read")
    assert entry.actor_username.startswith("api:") and entry.actor_id is None
    assert entry.detail == {
        "after": events[0].seq - 1, "types": ["jp.machi.resident.*"], "returned": 3,
        "next_after": events[-1].seq,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.MUNICIPALITY_ADMIN, 200),
        (Role.SUPERVISOR, 200),
        (Role.COUNTER_CLERK, 401),
        (Role.DEPARTMENT_STAFF, 401),
    ],
)
def test_staff_sessions(role, status, make_staff, signed_in, municipality_a, municipality_b):
    append(A, TYPES)
    staff = make_staff(municipality_a, ("shimin", role))
    assert signed_in(staff).get(f"/api/v1/{A}/events").status_code == status
    assert signed_in(staff).get(f"/api/v1/{B}/events").status_code == 401
    if status == 200:
        (entry,) = audit_entries(A, action="api.events.read")
        assert entry.actor_id == staff.pk


def test_feed_query_count_does_not_grow_with_events(feed, municipality_a):
    feed.get("/events")  # connections opened
    append(A, TYPES)
    with QueryCount() as few:
        assert len(feed.get("/events", limit=1000).json()["events"]) == 6
    append(A, TYPES * 150)
    with QueryCount() as many:
        assert len(feed.get("/events", limit=1000).json()["events"]) == 906
    with QueryCount() as filtered:
        page = feed.get("/events", limit=1000, types="jp.machi.resident.*").json()
    assert len(page["events"]) == 453
    assert many.total == few.total <= 8, many.sql()
    assert filtered.total == few.total + 1  # the newest sequence number bounds the scan


def test_selector_matches_as_cloudevent(municipality_a):
    events = append(A, TYPES)
    with tenant_context(A):
        page = feed_read(after=events[0].seq - 1, limit=10)
    assert page.events == [e.as_cloudevent() for e in events]

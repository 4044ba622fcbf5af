"""Event ids are UUIDs of version 7 (RFC 9562): unique, and ordered by time, so the
outbox's unique index on them grows at its end."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
import time_machine
from django.db import transaction

from machi.linkage.events import event_id_new
from machi.linkage.models import OutboxEvent
from machi.linkage.services import NewEvent, outbox_append_many
from machi.tenancy.context import current_tenant_alias, tenant_context


def test_version_7_with_the_time_in_front():
    before = time.time_ns() // 1_000_000
    made = event_id_new()
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after  # 48 bits of Unix milliseconds
    assert uuid.UUID(str(made)) == made


def test_unique_and_later_ids_sort_later():
    start = datetime.datetime(2026, 4, 6, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):  # all in one millisecond
        ids = [event_id_new() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)  # the random bits alone keep them apart
    with time_machine.travel(start + datetime.timedelta(milliseconds=1), tick=False):
        later = event_id_new()
    assert all(earlier < later for earlier in ids)
    assert str(max(ids)) < str(later)  # as text too (how the database compares them)


@pytest.mark.django_db(databases="__all__")
def test_appended_events_get_them():
    with tenant_context("131016"), transaction.atomic(using=current_tenant_alias()):
        events = outbox_append_many(
            events=[NewEvent(type="jp.machi.test.made", subject=str(n)) for n in range(3)]
        )
        stored = list(OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("seq"))
    assert [e.event_id.version for e in stored] == [7, 7, 7]
    assert [e.event_id for e in stored] == [e.event_id for e in events]

"""The intake writes its rows in one batch: a fixed, small number of statements on the
municipality's database (history, keys, tasks, outbox events and audit entries one
insert each), in the order of the changes (issue 5: intake latency)."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.audit.models import AuditEntry
from machi.counter.models import Task
from machi.counter.services.intake import life_event_confirm
from machi.counter.tests.test_intake import clerk, move_in_family  # noqa: F401
from machi.linkage.models import OutboxEvent
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

# 51 before the batch (issue 5), 25 now (the test's own savepoint included).
MAX_TENANT_STATEMENTS = 25


def test_a_move_in_intake_takes_few_statements(clerk):  # noqa: F811
    with tenant_context("131016"):
        life_event_confirm(data=move_in_family(), actor=clerk)  # sequences exist now
        with CaptureQueriesContext(connections[current_tenant_alias()]) as queries:
            result = life_event_confirm(data=move_in_family(), actor=clerk)
    assert len(result.task_ids) >= 10
    assert len(queries.captured_queries) <= MAX_TENANT_STATEMENTS, "\n".join(
        q["sql"][:100] for q in queries.captured_queries
    )


def test_events_and_entries_follow_the_changes_in_order(clerk):  # noqa: F811
    with tenant_context("131016"):
        last_event = OutboxEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        last_entry = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
        result = life_event_confirm(data=move_in_family(), actor=clerk)
        events = list(OutboxEvent.objects.filter(seq__gt=last_event or 0).order_by("seq"))
        entries = list(AuditEntry.objects.filter(seq__gt=last_entry or 0).order_by("seq"))
        tasks_done = list(Task.objects.filter(visit=result.visit).order_by("id"))
    tasks = len(result.task_ids)
    # the three 転入届 were the registry change itself: done at the counter
    done = [str(t.pk) for t in tasks_done if t.procedure_code == "juki.move_in"]
    assert len(done) == 3
    assert [e.type for e in events] == ["jp.machi.resident.moved_in"] * 3 + [
        "jp.machi.task.created"
    ] * tasks + ["jp.machi.task.completed"] * 3
    assert [e.subject for e in events[3 : 3 + tasks]] == [str(pk) for pk in result.task_ids]
    assert [e.subject for e in events[3 + tasks :]] == done
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 6 + tasks))
    assert [e.action for e in entries] == ["resident.move_in"] * 3 + [
        "visit.opened",
        "task.created",
    ] + ["task.completed"] * 3
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]

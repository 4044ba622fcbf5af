"""A filing's rows in one batch: history, search keys, outbox events and audit entries
are written once at the end of ``filing_batch`` (one bulk insert each), inside the
caller's transaction, and not at all when the block fails."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident, ResidentHistory, ResidentKey
from machi.registry.selectors import resident_search
from machi.registry.services import (
    Filing,
    filing_batch,
    resident_change_name,
    resident_move_in,
)
from machi.registry.tests.conftest import ADDRESS, person
from machi.tenancy.context import current_tenant_alias

pytestmark = pytest.mark.django_db(databases="__all__")

FILING = Filing(effective_on="2026-04-03", filed_on=datetime.date(2026, 4, 6))
FAMILY = [
    person("試験 一郎", "シケン イチロウ"),
    person("試験 花子", "シケン ハナコ", relationship="妻", sex="2"),
    person("試験 陽太", "シケン ヨウタ", birth="2018-01-10", relationship="子"),
]


def _counts() -> tuple[int, ...]:
    return (
        Resident.objects.count(),
        ResidentHistory.objects.count(),
        ResidentKey.objects.count(),
        OutboxEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_rows_wait_for_the_end_of_the_batch(in_a):
    before = _counts()
    with transaction.atomic(using=current_tenant_alias()), filing_batch() as batch:
        residents = resident_move_in(persons=FAMILY, address=ADDRESS, filing=FILING)
        ichiro = residents[0]
        resident_change_name(
            resident=ichiro, name="新姓 一郎", kana="シンセイ イチロウ", reason="marriage",
            filing=FILING,
        )  # fmt: skip
        # The residents are in; their history, keys, events and entries are not yet.
        assert _counts()[0] == before[0] + 3
        assert _counts()[1:] == before[1:]
        assert len(batch.histories) == 4 and len(batch.events) == 4 and len(batch.audits) == 4
    after = _counts()
    assert after == (before[0] + 3, before[1] + 4, after[2], before[3] + 4, before[4] + 4)
    assert after[2] > before[2]
    # Keys as the names stand at the end: the new surname is found, the old one is not.
    assert [h.resident.pk for h in resident_search(query="新姓 一郎").hits] == [ichiro.pk]
    assert ichiro.pk not in [h.resident.pk for h in resident_search(query="試験 一郎").hits]
    assert {h.resident.pk for h in resident_search(query="試験 花子").hits} == {residents[1].pk}
    # Events and audit entries in the order of the changes, with consecutive numbers.
    events = list(OutboxEvent.objects.order_by("-seq")[:4])[::-1]
    assert [e.type for e in events] == ["jp.machi.resident.moved_in"] * 3 + [
        "jp.machi.resident.name_changed"
    ]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 4))
    entries = list(AuditEntry.objects.order_by("-seq")[:4])[::-1]
    assert [e.action for e in entries] == ["resident.move_in"] * 3 + [
        "resident.name_change.marriage"
    ]


def test_a_failing_batch_writes_nothing(in_a):
    before = _counts()
    with (
        pytest.raises(RuntimeError),
        transaction.atomic(using=current_tenant_alias()),
        filing_batch(),
    ):
        resident_move_in(persons=FAMILY, address=ADDRESS, filing=FILING)
        raise RuntimeError("the intake failed after the registry change")
    assert _counts() == before


def test_move_in_of_a_household_takes_a_fixed_number_of_queries(in_a):
    """3 residents or 6: the same statements (numbers, one insert per table)."""
    from django.db import connections

    def statements(size: int) -> int:
        persons = [
            person(f"試験 {n}", "シケン", relationship="世帯主" if n == 0 else "子")
            for n in range(size)
        ]
        with CaptureQueriesContext(connections[current_tenant_alias()]) as queries:
            resident_move_in(persons=persons, address=ADDRESS, filing=FILING)
        return len(queries.captured_queries)

    statements(1)  # the number sequences exist from now on
    assert statements(3) == statements(6) <= 20

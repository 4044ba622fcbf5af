"""Reports: distinct reporters only, auto-hide at the municipality's threshold, the
moderator's restore (reports resolved) and hide, every action audited with its reason."""

from __future__ import annotations

import pytest

from machi.localevents import services
from machi.localevents.models import CalendarSettings, Event, Report, Status
from machi.localevents.tests.conftest import A, B
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def report(client, event, address: str, reason: str = "spam"):
    return client.post(
        f"/{A}/events/{event.pk}/report/", {"reason": reason, "text": "宣伝です"},
        REMOTE_ADDR=address,
    )  # fmt: skip


def status(event, lg=A) -> str:
    with tenant_context(lg):
        return Event.objects.get(pk=event.pk).status


def test_three_distinct_reporters_hide_the_event(client, make_event, moderator, signed_in):
    event = make_event()
    assert client.get(f"/{A}/events/{event.pk}/report/").status_code == 200
    for _ in range(3):  # one reporter, three times: counts once
        assert report(client, event, "192.0.2.1").status_code == 200
    assert report(client, event, "192.0.2.2").status_code == 200
    assert status(event) == Status.PUBLISHED
    with tenant_context(A):
        assert Report.objects.count() == 2
    assert report(client, event, "192.0.2.3").status_code == 200
    assert status(event) == Status.HIDDEN
    assert client.get(f"/{A}/events/{event.pk}/").status_code == 404
    assert client.get(f"/{A}/events/{event.pk}.ics").status_code == 404
    assert report(client, event, "192.0.2.4").status_code == 404  # off the calendar
    staff = signed_in(moderator)
    home = staff.get(f"/{A}/events/staff/").content.decode()
    assert "通報で非公開になったイベント" in home and "未処理の通報 3件" in home
    with tenant_context(A):
        from machi.audit.models import AuditEntry

        entry = AuditEntry.objects.get(action="localevents.event.auto_hidden")
        assert entry.detail == {"status": "hidden", "reports": 3, "threshold": 3}
        assert Event.objects.get().auto_hidden

    # Restored with a reason: the three reports are resolved, it takes three new ones.
    assert staff.post(f"/{A}/events/staff/{event.pk}/restore/", {"reason": ""}).status_code == 302
    assert status(event) == Status.HIDDEN
    staff.post(f"/{A}/events/staff/{event.pk}/restore/", {"reason": "内容を確認、問題なし"})
    assert status(event) == Status.PUBLISHED
    with tenant_context(A):
        assert not Report.objects.filter(resolved=False).exists()
        entry = AuditEntry.objects.get(action="localevents.event.restored")
        assert entry.detail["reason"] == "内容を確認、問題なし"
    report(client, event, "192.0.2.1")  # a reporter whose report was resolved: counted once
    assert status(event) == Status.PUBLISHED
    staff.post(f"/{A}/events/staff/{event.pk}/hide/", {"reason": "主催者と連絡が取れない"})
    assert status(event) == Status.HIDDEN
    with tenant_context(A):
        assert Event.objects.get().actions.last().reason == "主催者と連絡が取れない"


def test_threshold_is_per_municipality(client, make_event, moderator, moderator_b, signed_in):
    event_b = make_event(lg=B, actor=moderator_b)
    assert signed_in(moderator).post(f"/{A}/events/staff/", {"threshold": "1"}).status_code == 302
    assert signed_in(moderator).post(f"/{A}/events/staff/", {"threshold": "0"}).status_code == 302
    with tenant_context(A):
        assert CalendarSettings.current().report_threshold == 1  # 0 refused
    with tenant_context(B):
        assert CalendarSettings.current().report_threshold == 3
    client.post(f"/{B}/events/{event_b.pk}/report/", {"reason": "wrong"}, REMOTE_ADDR="192.0.2.9")
    assert status(event_b, B) == Status.PUBLISHED
    event_a = make_event()
    report(client, event_a, "192.0.2.9")
    assert status(event_a) == Status.HIDDEN


def test_report_needs_a_reason(client, make_event):
    event = make_event()
    response = client.post(f"/{A}/events/{event.pk}/report/", {"reason": "nonsense"})
    assert response.status_code == 400
    with tenant_context(A):
        assert not Report.objects.exists()


def test_services_refuse_wrong_role_and_other_municipality(make_event, author, moderator_b):
    event = make_event(approve=False)
    with tenant_context(A), pytest.raises(services.EventError):
        services.event_approve(event=event, actor=author)
    with tenant_context(A), pytest.raises(services.EventError):
        services.event_approve(event=event, actor=moderator_b)
    assert status(event) == Status.PENDING

"""The review queue and a finding's page: the security officer only; reviewing and
viewing the evidence are audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from machi.analytics.accesslog.models import Finding
from machi.audit.models import AuditEntry
from machi.audit.services import audit_append
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

LG = "131016"
DAY = dt.date(2026, 11, 24)


@pytest.fixture
def officer(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "security_officer"), username="ciso")


@pytest.fixture
def findings(make_staff, municipality_a):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk-a")
    with tenant_context(LG):
        reads = [
            audit_append(
                action="resident.viewed", actor=clerk, object_type="resident", object_id=f"10000{i}"
            )
            for i in range(3)
        ]
        now = timezone.now()
        high = Finding.objects.create(
            analysis="mass_access", day=DAY, actor_id=clerk.pk, actor_username="clerk-a",
            count=45, score=27.9, evidence=[e.seq for e in reads], created_at=now,
            reasons={"analysis": {"peak_residents": 45, "minutes": 10},
                     "score": [{"feature": "residents", "value": 85, "z": 12.0,
                                "own_median": 9.0, "peer_median": 10.0},
                               {"analysis": "mass_access", "count": 85, "weight": 7.5}]},
        )  # fmt: skip
        low = Finding.objects.create(
            analysis="off_hours", day=DAY, actor_id=clerk.pk, actor_username="clerk-a",
            count=1, score=3.0, created_at=now, reasons={"analysis": {"entries": 1}},
        )  # fmt: skip
        done = Finding.objects.create(
            analysis="failed_login", day=DAY, subject="10.99.0.1", count=6, score=4.0,
            status="explained", created_at=now,
        )  # fmt: skip
    return high, low, done


def test_the_queue_lists_open_findings_by_score(officer, findings, signed_in):
    page = signed_in(officer).get(reverse("accesslog:queue", args=[LG])).content.decode()
    assert page.index("27.9") < page.index("3.0")
    assert "10.99.0.1" not in page  # explained: not in the default (open) list
    assert "<style" not in page and " style=" not in page
    client = signed_in(officer)
    page = client.get(reverse("accesslog:queue", args=[LG]), {"status": "explained"})
    assert "10.99.0.1" in page.content.decode() and "clerk-a" not in page.content.decode()
    page = client.get(
        reverse("accesslog:queue", args=[LG]), {"status": "", "analysis": "off_hours"}
    )
    body = page.content.decode()
    assert "勤務時間外のアクセス" in body and "27.9" not in body


def test_the_finding_page_shows_the_evidence_and_audits_the_viewing(officer, findings, signed_in):
    high, _, _ = findings
    url = reverse("accesslog:finding", args=[LG, high.pk])
    page = signed_in(officer).get(url).content.decode()
    assert "100001" in page and "resident.viewed" in page
    assert "z=12.0" in page and "peak_residents: 45" in page
    with tenant_context(LG):
        viewed = AuditEntry.objects.get(action="accesslog.finding.viewed")
    assert viewed.actor_id == officer.pk and viewed.object_id == str(high.pk)
    assert len(viewed.detail["seqs"]) == 3


def test_reviewing_from_the_page_is_audited(officer, findings, signed_in):
    high, _, _ = findings
    client = signed_in(officer)
    url = reverse("accesslog:finding", args=[LG, high.pk])
    response = client.post(url, {"decision": "escalated", "note": ""})
    assert response.status_code == 400
    response = client.post(url, {"decision": "escalated", "note": "所属長に報告した"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accesslog:queue", args=[LG])
    with tenant_context(LG):
        high.refresh_from_db()
        review = AuditEntry.objects.get(action="accesslog.finding.reviewed")
    assert high.status == "escalated" and high.reviewer_id == officer.pk
    assert high.note == "所属長に報告した" and high.reviewed_at is not None
    assert review.actor_id == officer.pk and review.detail["decision"] == "escalated"


def test_only_the_security_officer(findings, make_staff, municipality_a, signed_in):
    high, _, _ = findings
    urls = [
        reverse("accesslog:queue", args=[LG]),
        reverse("accesslog:finding", args=[LG, high.pk]),
    ]
    others = [
        make_staff(municipality_a, ("shimin", "counter_clerk")),
        make_staff(municipality_a, ("shimin", "supervisor")),
        make_staff(municipality_a, ("shimin", "municipality_admin")),
        make_staff(None),
    ]
    for staff in others:
        client = signed_in(staff)
        for url in urls:
            assert client.get(url).status_code == 403, (staff, url)
        assert client.post(urls[1], {"decision": "explained", "note": "x"}).status_code == 403
    with tenant_context(LG):
        assert Finding.objects.get(pk=high.pk).status == "open"
        assert not AuditEntry.objects.filter(action__startswith="accesslog.finding").exists()


def test_an_officer_of_another_municipality_cannot_open_it(findings, make_staff, municipality_b,
                                                           signed_in):  # fmt: skip
    other = make_staff(municipality_b, ("shimin", "security_officer"))
    response = signed_in(other).get(reverse("accesslog:queue", args=[LG]))
    assert response.status_code in (403, 404)

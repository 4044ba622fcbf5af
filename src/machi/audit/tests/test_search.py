from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from machi.audit.models import AuditEntry
from machi.audit.services import audit_append
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def supervisor(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "supervisor"), username="sv")


def test_supervisor_searches_by_resident(supervisor, signed_in, make_staff, municipality_a):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk-x")
    with tenant_context("131016"):
        for i in range(3):
            audit_append(action="resident.viewed", actor=clerk, object_id=f"2000{i}")
    client = signed_in(supervisor)
    url = reverse("audit:search", args=["131016"])
    page = client.get(url, {"object_id": "20001"}).content.decode()
    assert "20001" in page and "20002" not in page
    page = client.get(url, {"actor": "clerk-x", "action": "resident"}).content.decode()
    assert page.count("resident.viewed") == 3
    # The search itself is audited.
    with tenant_context("131016"):
        assert AuditEntry.objects.filter(action="audit.searched", actor_id=supervisor.pk).exists()


def test_date_filter_and_bad_date(supervisor, signed_in):
    client = signed_in(supervisor)
    url = reverse("audit:search", args=["131016"])
    response = client.get(url, {"date_from": "2099-01-01"})
    assert "該当する記録はありません" in response.content.decode()
    response = client.get(url, {"date_from": "2026-13-45"})
    assert response.status_code == 200
    assert "日付を正しく入力してください" in response.content.decode()


def test_htmx_request_gets_only_the_results(supervisor, signed_in):
    client = signed_in(supervisor)
    url = reverse("audit:search", args=["131016"])
    response = client.get(url, {"action": "login"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<table" in body and "<html" not in body


def test_only_supervisors(make_staff, municipality_a, signed_in):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    url = reverse("audit:search", args=["131016"])
    assert signed_in(clerk).get(url).status_code == 403
    assert signed_in(admin).get(url).status_code == 403


def test_operator_cannot_read_a_municipality_log(make_staff, signed_in):
    operator = make_staff(None)
    assert signed_in(operator).get(reverse("audit:search", args=["131016"])).status_code == 403


def test_search_query_count_does_not_grow_with_entries(
    supervisor, signed_in, django_assert_max_num_queries
):
    client = signed_in(supervisor)
    url = reverse("audit:search", args=["131016"])
    with tenant_context("131016"):
        for i in range(60):
            audit_append(action="resident.viewed", object_id=str(i))
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with (
        CaptureQueriesContext(connections["tenant_131016"]) as tenant_queries,
        django_assert_max_num_queries(12),
    ):
        assert client.get(url, {"action": "resident"}).status_code == 200
    # count + one page of entries + the audit of the search (head lock, insert, update)
    assert len(tenant_queries) <= 8, [q["sql"] for q in tenant_queries]


def test_entries_show_the_moment_as_every_date_is_shown(supervisor, signed_in, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    moment = datetime.datetime(2026, 12, 1, 5, 5, 9, tzinfo=datetime.UTC)  # 14:05:09 in Tokyo
    with tenant_context("131016"), time_machine.travel(moment, tick=False):
        audit_append(action="resident.viewed", actor=supervisor, object_id="30001")
    client = signed_in(supervisor)
    url = reverse("audit:search", args=["131016"])
    page = client.get(url, {"object_id": "30001"}).content.decode()
    assert "<td>令和8年12月1日 14:05:09</td>" in page and "2026-12-01" not in page
    supervisor.language = "en"  # staff read the site in the language of their account
    supervisor.save(update_fields=["language"])
    page = signed_in(supervisor).get(url, {"object_id": "30001"}).content.decode()
    assert "1 Dec 2026 14:05:09" in page

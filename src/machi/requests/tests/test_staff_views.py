"""Staff screens of requests: the 「要望・通報」 section of the department task list, the
request page and its actions, the audited reporter reveal, response templates."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.requests.models import Category, Request, ResponseTemplate, Status, UpdateKind
from machi.requests.services import Reporter, request_create
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
TASKS = f"/{A}/counter/tasks/"
EMAIL = "hanako@example.jp"


def page(pk: int, lg: str = A) -> str:
    return f"/{lg}/requests/staff/{pk}/"


def file(code: str = "streetlight", lg: str = A, **kwargs) -> Request:
    kwargs.setdefault("description", "街灯が消えています。")
    kwargs.setdefault("address", "千代田区丸の内1-1")
    with tenant_context(lg):
        return request_create(category=Category.objects.get(code=code), **kwargs).request


@pytest.fixture
def doro_staff(make_staff, municipality_a, doro):
    return make_staff(municipality_a, ("doro", "department_staff"), username="doro-staff")


@pytest.fixture
def kankyo_staff(make_staff, municipality_a):
    return make_staff(municipality_a, ("kankyo", "department_staff"), username="kankyo-staff")


@pytest.fixture
def supervisor(make_staff, municipality_a, doro):
    return make_staff(municipality_a, ("doro", "supervisor"), username="doro-chief")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk")


@pytest.fixture
def light(doro):
    return file(reporter=Reporter(email=EMAIL, last_name="山田", first_name="花子"))


def tenant_audit(action: str) -> list[AuditEntry]:
    with tenant_context(A):
        return list(AuditEntry.objects.filter(action=action))


def reload(request: Request) -> Request:
    with tenant_context(A):
        return Request.objects.get(pk=request.pk)


# --- the inbox ------------------------------------------------------------------------


def test_inbox_shows_the_departments_requests_beside_its_procedures(signed_in, doro_staff):
    now = timezone.now()
    late = file(description="古い通報", now=now - datetime.timedelta(days=10))  # 7 days expected
    fresh = file(description="新しい通報", now=now - datetime.timedelta(days=1))
    other = file(code="garbage", description="ごみ")
    html = signed_in(doro_staff).get(TASKS).content.decode()
    assert "要望・通報" in html
    assert late.public_code in html and fresh.public_code in html
    assert other.public_code not in html  # 環境衛生課's
    assert "街灯の故障" in html and "受付" in html
    assert "10 日" in html and "目安超過" in html
    assert html.index(late.public_code) < html.index(fresh.public_code)  # oldest first
    assert html.count("目安超過") == 1
    assert "振り分け待ち（" not in html  # department staff do not see triage


def test_supervisors_also_see_the_triage_queue(signed_in, supervisor, doro):
    triage = file(code="other", description="どこの課かわからない")
    with tenant_context(A):
        assert reload(triage).department == ""
    html = signed_in(supervisor).get(TASKS).content.decode()
    assert "振り分け待ち（担当課のない要望）" in html
    assert triage.public_code in html


def _count(client) -> tuple[int, int]:
    with (
        CaptureQueriesContext(connections[tenant_alias(A)]) as tenant,
        CaptureQueriesContext(connections["default"]) as control,
    ):
        assert client.get(TASKS).status_code == 200
    return len(tenant.captured_queries), len(control.captured_queries)


def test_the_inbox_runs_a_fixed_number_of_queries(signed_in, supervisor):
    client = signed_in(supervisor)
    file()
    file(code="other")
    few = _count(client)
    for _ in range(6):
        file()
        file(code="other")
    assert _count(client) == few


# --- the request page -------------------------------------------------------------------


def test_the_page_shows_history_place_and_hides_the_reporter(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    from machi.requests.services import request_answer

    with tenant_context(A):
        request_answer(request=light, text="内部の確認メモ", public=False, actor=doro_staff)
    response = client.get(page(light.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert light.public_code in html and "千代田区丸の内1-1" in html
    assert "内部の確認メモ" in html and "内部" in html
    assert "連絡先を表示" in html
    assert EMAIL not in html and "山田" not in html
    assert not tenant_audit("requests.reporter.revealed")


def test_reveal_shows_the_reporter_once_and_audits_it(signed_in, doro_staff, light):
    response = signed_in(doro_staff).post(page(light.pk) + "reporter/")
    html = response.content.decode()
    assert response.status_code == 200
    assert EMAIL in html and "山田 花子" in html
    (entry,) = tenant_audit("requests.reporter.revealed")
    assert entry.object_id == str(light.pk) and entry.actor_username == "doro-staff"
    assert EMAIL not in str(entry.detail)
    # not kept: the next page view hides it again
    assert EMAIL not in signed_in(doro_staff).get(page(light.pk)).content.decode()


def test_reveal_refused_without_the_right(signed_in, kankyo_staff, clerk, light):
    assert signed_in(kankyo_staff).post(page(light.pk) + "reporter/").status_code == 403
    assert signed_in(clerk).post(page(light.pk) + "reporter/").status_code == 403
    assert signed_in(kankyo_staff).get(page(light.pk) + "reporter/").status_code == 405
    assert not tenant_audit("requests.reporter.revealed")


@pytest.mark.parametrize("who", ["kankyo_staff", "clerk"])
def test_other_department_or_role_cannot_open_or_act(request, signed_in, who, light):
    client = signed_in(request.getfixturevalue(who))
    assert client.get(page(light.pk)).status_code == 403
    for action, data in [
        ("answer", {"text": "x", "visibility": "public"}),
        ("status", {"status": "fixed"}),
        ("hide", {"reason": "x"}),
        ("reroute", {"department": "kankyo", "reason": "x"}),
    ]:
        assert client.post(page(light.pk) + f"{action}/", data).status_code == 403
    light = reload(light)
    assert light.status == Status.OPEN and light.hidden_at is None and light.department == "doro"


def test_other_municipality_is_not_found(signed_in, make_staff, municipality_b, doro, light):
    staff_b = make_staff(municipality_b, ("doro", "department_staff"), username="sakai-doro")
    client = signed_in(staff_b)
    # A's page through B's prefix: B's database has no such request (or another one)
    assert client.get(page(light.pk)).status_code in (403, 404)
    assert client.get(page(999999, lg=B)).status_code == 404
    assert client.post(page(light.pk) + "reporter/").status_code in (403, 404)
    assert not tenant_audit("requests.reporter.revealed")


def test_unknown_request_and_action(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    assert client.get(page(999999)).status_code == 404
    assert client.post(page(light.pk) + "explode/", {}).status_code == 404


# --- actions ----------------------------------------------------------------------------


def test_answer_public_and_internal(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    client.post(page(light.pk) + "answer/", {"text": "修理します。", "visibility": "public"})
    client.post(page(light.pk) + "answer/", {"text": "業者手配済", "visibility": "internal"})
    with tenant_context(A):
        answers = list(
            light.updates.filter(kind=UpdateKind.ANSWER).values_list("text", "is_public")
        )
    assert answers == [("修理します。", True), ("業者手配済", False)]
    response = client.post(
        page(light.pk) + "answer/", {"text": " ", "visibility": "public"}, follow=True
    )
    assert "回答を入力してください。" in response.content.decode()
    with tenant_context(A):
        assert light.updates.filter(kind=UpdateKind.ANSWER).count() == 2


def test_status_change_and_refusal_shows_the_services_message(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    response = client.post(page(light.pk) + "status/", {"status": "in_progress", "text": "確認中"})
    assert response.status_code == 302
    assert reload(light).status == Status.IN_PROGRESS
    again = client.post(page(light.pk) + "status/", {"status": "in_progress"}, follow=True)
    assert "状態が変わっていません。" in again.content.decode()
    bad = client.post(page(light.pk) + "status/", {"status": "duplicate"}, follow=True)
    assert "新しい状態" in bad.content.decode()
    assert reload(light).status == Status.IN_PROGRESS


def test_merge_links_both_ways(signed_in, doro_staff, light):
    original = file(description="同じ街灯")
    client = signed_in(doro_staff)
    client.post(page(light.pk) + "merge/", {"original": original.public_code.lower()})
    light = reload(light)
    assert light.status == Status.DUPLICATE and light.duplicate_of_id == original.pk
    assert original.public_code in client.get(page(light.pk)).content.decode()
    assert light.public_code in client.get(page(original.pk)).content.decode()
    refused = client.post(page(original.pk) + "merge/", {"original": "NONE-XXXX-XX"}, follow=True)
    assert "受付番号 NONE-XXXX-XX の要望はありません。" in refused.content.decode()
    own = client.post(page(original.pk) + "merge/", {"original": original.public_code}, follow=True)
    assert "同じ要望を重複として統合することはできません。" in own.content.decode()
    assert reload(original).status == Status.OPEN


def test_reroute_with_a_reason_is_audited(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    refused = client.post(
        page(light.pk) + "reroute/", {"department": "kankyo", "reason": " "}, follow=True
    )
    assert "振り替えの理由を入力してください。" in refused.content.decode()
    assert reload(light).department == "doro"
    response = client.post(
        page(light.pk) + "reroute/", {"department": "kankyo", "reason": "ごみの件"}
    )
    assert response.url == f"/{A}/counter/tasks/"  # it left 道路課's inbox
    light = reload(light)
    assert (light.department, light.department_name) == ("kankyo", "環境衛生課")
    (entry,) = tenant_audit("requests.request.rerouted")
    assert entry.detail["reason"] == "ごみの件"
    unknown = client.post(page(light.pk) + "reroute/", {"department": "nope", "reason": "x"})
    assert unknown.status_code == 403  # no longer 道路課's


def test_hide_with_a_reason(signed_in, doro_staff, light):
    client = signed_in(doro_staff)
    refused = client.post(page(light.pk) + "hide/", {"reason": ""}, follow=True)
    assert "非公開にする理由を入力してください。" in refused.content.decode()
    assert reload(light).hidden_at is None
    client.post(page(light.pk) + "hide/", {"reason": "個人名が書かれている"})
    light = reload(light)
    assert light.hidden_at is not None and light.hidden_reason == "個人名が書かれている"
    assert "非公開（理由: 個人名が書かれている" in client.get(page(light.pk)).content.decode()


def test_triage_belongs_to_supervisors(signed_in, supervisor, doro_staff, doro):
    triage = file(code="other", description="どこの課か")
    assert signed_in(doro_staff).get(page(triage.pk)).status_code == 403
    client = signed_in(supervisor)
    assert client.get(page(triage.pk)).status_code == 200
    client.post(page(triage.pk) + "reroute/", {"department": "doro", "reason": "道路の件"})
    assert reload(triage).department == "doro"


# --- response templates -----------------------------------------------------------------


def test_templates_managed_by_supervisors_and_used_in_answers(
    signed_in, supervisor, doro_staff, light
):
    client = signed_in(supervisor)
    url = f"/{A}/requests/staff/templates/"
    assert client.post(url, {"title": "", "body": "x"}).status_code == 400
    with tenant_context(A):
        category = Category.objects.get(code="streetlight")
    client.post(
        url, {"title": "修理の手配", "body": "修理を手配しました。", "category": category.pk}
    )
    client.post(
        url,
        {
            "title": "公園向け",
            "body": "公園",
            "category": Category.objects.using(tenant_alias(A)).get(code="park").pk,
        },
    )
    with tenant_context(A):
        template = ResponseTemplate.objects.get(title="修理の手配")
    assert len(tenant_audit("requests.template.created")) == 2
    html = signed_in(doro_staff).get(page(light.pk) + f"?template={template.pk}").content.decode()
    assert "修理を手配しました。" in html and "公園向け" not in html
    edit = f"{url}{template.pk}/"
    client.post(edit, {"title": "修理の手配", "body": "修理します。", "category": ""})
    with tenant_context(A):
        template.refresh_from_db()
    assert template.body == "修理します。" and template.category is None
    client.post(edit + "delete/")
    with tenant_context(A):
        assert not ResponseTemplate.objects.filter(pk=template.pk).exists()


def test_templates_refused_to_department_staff(signed_in, doro_staff):
    client = signed_in(doro_staff)
    assert client.get(f"/{A}/requests/staff/templates/").status_code == 403
    assert (
        client.post(f"/{A}/requests/staff/templates/", {"title": "t", "body": "b"}).status_code
        == 403
    )
    with tenant_context(A):
        assert not ResponseTemplate.objects.exists()

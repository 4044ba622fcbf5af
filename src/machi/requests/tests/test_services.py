"""Filing, status, answers, re-routing, duplicates, hiding: audit, events, refusals."""

import pytest
from django.core.exceptions import ValidationError

from machi.apiclients.services import apiclient_create
from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.requests.models import Category, CategoryAttribute, Request, RequestUpdate, Status
from machi.requests.services import (
    Reporter,
    request_answer,
    request_create,
    request_hide,
    request_merge_duplicate,
    request_reporter_confirm,
    request_reroute,
    request_status_change,
)
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def road(in_a, doro):
    return Category.objects.get(code="road_damage")


@pytest.fixture
def doro_staff(make_staff, municipality_a, doro):
    return make_staff(municipality_a, ("doro", "department_staff"))


def file(category, **kwargs):
    kwargs.setdefault("description", "歩道に穴があいています。")
    kwargs.setdefault("address", "千代田区千代田1-1")
    return request_create(category=category, **kwargs).request


def test_create_routes_audits_and_emits(road):
    filed = request_create(
        category=road, description="穴", lat="35.68", long="139.75",
        reporter=Reporter(email="taro@example.jp", first_name="太郎"),
    )  # fmt: skip
    request = filed.request
    assert (request.department, request.department_name, request.routing) == (
        "doro",
        "道路課",
        "category",
    )
    assert request.status == Status.OPEN and request.is_public
    event = OutboxEvent.objects.get(type="jp.machi.request.created")
    assert event.subject == request.service_request_id
    assert event.data["department"] == "doro"
    assert "taro" not in str(event.data) and "太郎" not in str(event.data)
    entry = AuditEntry.objects.get(action="requests.request.created")
    assert "taro" not in str(entry.detail)
    assert request.reporter.email == "taro@example.jp"
    assert request.reporter.email_confirmed_at is None
    assert not request_reporter_confirm(request=request, secret="wrong")
    assert request_reporter_confirm(request=request, secret=filed.confirm_secret)
    request.reporter.refresh_from_db()
    assert request.reporter.email_confirmed_at is not None


def test_opinions_are_not_public_by_default(in_a):
    opinion = file(
        Category.objects.get(code="policy_opinion"), description="図書館の開館時間を延ばしてほしい"
    )
    assert not opinion.is_public


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"address": ""}, "場所"),
        ({"lat": "91", "long": "139"}, "緯度"),
        ({"lat": "abc", "long": "139"}, "数値"),
        ({"description": "x" * 4001}, "4000"),
        ({"description": "", "address": "千代田"}, "内容"),
        ({"media_url": "javascript:alert(1)"}, "URL"),
        ({"reporter": Reporter(email="not-an-address")}, "メール"),
    ],
)
def test_bad_input_changes_nothing(road, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        file(road, **kwargs)
    assert not Request.objects.exists()
    assert not OutboxEvent.objects.filter(type__startswith="jp.machi.request").exists()


@pytest.fixture
def with_attributes(road):
    CategoryAttribute.objects.create(
        category=road, code="size", description="穴の大きさ(cm)", datatype="number", required=True
    )
    CategoryAttribute.objects.create(
        category=road, code="seen", description="気付いた日", datatype="date"
    )
    CategoryAttribute.objects.create(
        category=road, code="kind", description="場所", datatype="singlevaluelist",
        values=[{"key": "road", "name": "車道"}, {"key": "walk", "name": "歩道"}],
    )  # fmt: skip
    CategoryAttribute.objects.create(
        category=road, code="danger", description="危険", datatype="multivaluelist",
        values=[{"key": "car", "name": "車"}, {"key": "bike", "name": "自転車"}],
    )  # fmt: skip
    return road


def test_attributes_validated(with_attributes):
    ok = file(
        with_attributes,
        attributes={"size": "30", "seen": "2026-12-01", "kind": "walk", "danger": ["car", "bike"]},
    )
    assert ok.attribute_values == {
        "size": "30",
        "seen": "2026-12-01",
        "kind": "walk",
        "danger": ["car", "bike"],
    }
    for bad, message in [
        ({}, "必須"),
        ({"size": "大きい"}, "数値"),
        ({"size": "1", "seen": "2026-13-01"}, "日付"),
        ({"size": "1", "kind": "sky"}, "選択肢"),
        ({"size": "1", "danger": ["car", "boat"]}, "選択肢"),
        ({"size": "1", "colour": "red"}, "項目"),
    ]:
        with pytest.raises(ValidationError, match=message):
            file(with_attributes, attributes=bad)
    assert Request.objects.count() == 1


def test_status_answer_and_history(road, doro_staff):
    request = file(road)
    request_status_change(
        request=request, status=Status.IN_PROGRESS, actor=doro_staff, text="現地を確認します"
    )
    request_answer(request=request, text="補修しました", public=True, actor=doro_staff)
    request_answer(request=request, text="業者に発注済み", public=False, actor=doro_staff)
    request_status_change(request=request, status=Status.FIXED, actor=doro_staff)
    request.refresh_from_db()
    assert request.status == Status.FIXED
    history = list(request.updates.values_list("kind", "status", "is_public"))
    assert history == [
        ("created", "open", True), ("status", "in_progress", True), ("answer", "in_progress", True),
        ("answer", "in_progress", False), ("status", "fixed", True),
    ]  # fmt: skip
    types = list(OutboxEvent.objects.order_by("seq").values_list("type", flat=True))
    assert types[-4:] == [
        "jp.machi.request.status_changed", "jp.machi.request.answered",
        "jp.machi.request.answered", "jp.machi.request.status_changed",
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="変わっていません"):
        request_status_change(request=request, status=Status.FIXED, actor=doro_staff)
    with pytest.raises(ValidationError, match="不明"):
        request_status_change(request=request, status="bogus", actor=doro_staff)


def test_wrong_department_and_wrong_tenant_refused(
    road, make_staff, municipality_a, municipality_b
):
    request = file(road)
    kankyo = make_staff(municipality_a, ("kankyo", "department_staff"))
    with pytest.raises(ValidationError, match="権限"):
        request_status_change(request=request, status=Status.FIXED, actor=kankyo)
    stranger = make_staff(municipality_b, ("doro", "department_staff"))
    with pytest.raises(ValidationError, match="別の自治体"):
        request_answer(request=request, text="x", public=True, actor=stranger)
    assert request.updates.count() == 1


def test_triage_belongs_to_supervisors_and_reroute_is_audited(in_a, make_staff, municipality_a):
    other = file(Category.objects.get(code="other"))
    assert other.department == "" and other.routing == "triage"
    clerk = make_staff(municipality_a, ("shimin", "department_staff"))
    with pytest.raises(ValidationError):
        request_reroute(request=other, department="kankyo", reason="ごみの件", actor=clerk)
    supervisor = make_staff(municipality_a, ("shimin", "supervisor"))
    with pytest.raises(ValidationError, match="理由"):
        request_reroute(request=other, department="kankyo", reason=" ", actor=supervisor)
    with pytest.raises(ValidationError, match="ありません"):
        request_reroute(request=other, department="nowhere", reason="x", actor=supervisor)
    request_reroute(request=other, department="kankyo", reason="ごみの件", actor=supervisor)
    other.refresh_from_db()
    assert (other.department, other.department_name, other.routing) == (
        "kankyo",
        "環境衛生課",
        "manual",
    )
    entry = AuditEntry.objects.get(action="requests.request.rerouted")
    assert entry.detail["reason"] == "ごみの件" and entry.detail["from"] == ""
    assert not RequestUpdate.objects.get(kind="reroute").is_public


def test_merge_links_both_ways(road, doro_staff):
    original, copy, third = file(road), file(road), file(road)
    request_merge_duplicate(request=third, original=copy, actor=doro_staff)
    request_merge_duplicate(request=copy, original=original, actor=doro_staff)
    copy.refresh_from_db()
    third.refresh_from_db()
    assert copy.status == Status.DUPLICATE and copy.duplicate_of == original
    assert set(original.duplicates.all()) == {copy, third}  # the chain follows to the original
    with pytest.raises(ValidationError):
        request_merge_duplicate(request=original, original=original, actor=doro_staff)
    with pytest.raises(ValidationError, match="重複の統合"):
        request_status_change(request=original, status=Status.DUPLICATE, actor=doro_staff)


def test_hide_needs_a_reason(road, doro_staff):
    request = file(road)
    with pytest.raises(ValidationError):
        request_hide(request=request, reason="", actor=doro_staff)
    request_hide(request=request, reason="個人情報を含むため", actor=doro_staff)
    request.refresh_from_db()
    assert not request.is_listed and request.hidden_reason == "個人情報を含むため"


def test_api_client_needs_scope(road):
    request = file(road)
    reader = apiclient_create(name="r", scopes=["events:read"]).client
    with pytest.raises(ValidationError, match="requests:write"):
        request_answer(request=request, text="x", public=True, actor=reader)
    writer = apiclient_create(name="w", scopes=["requests:write"]).client
    request_answer(request=request, text="受け付けました", public=True, actor=writer)


def test_each_municipality_has_its_own_catalogue(municipality_b):
    with tenant_context("271403"):
        assert Category.objects.filter(code="road_damage").exists()
        assert not Request.objects.exists()

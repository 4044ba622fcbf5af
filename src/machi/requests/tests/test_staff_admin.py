"""Administration of requests: categories, their extra questions, GeoJSON areas and
routing rules (services and pages), validation with clear messages, roles; and the demo
data that sends a street light to 道路課."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from machi.audit.models import AuditEntry
from machi.requests.models import Area, Category, CategoryAttribute, RoutingRule
from machi.requests.services import (
    RequestError,
    areas_import_geojson,
    category_attribute_delete,
    category_attribute_save,
    category_save,
    request_create,
)
from machi.requests.tests.conftest import square
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
ADMIN_URL = f"/{A}/requests/admin/"


@pytest.fixture
def admin(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"), username="req-admin")


@pytest.fixture
def supervisor(make_staff, municipality_a, doro):
    return make_staff(municipality_a, ("doro", "supervisor"), username="req-chief")


def feature(name, geometry) -> dict:
    return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def poly(x0, y0, x1, y1) -> dict:
    return json.loads(square(x0, y0, x1, y1))


# --- services -----------------------------------------------------------------------


def test_category_create_edit_and_audit(in_a, admin, doro):
    category = category_save(
        actor=admin, code="sign", name="標識", department="doro", expected_response_days=5
    )
    assert (category.department, category.expected_response_days) == ("doro", 5)
    category_save(
        actor=admin, category=category, code="sign", name="道路標識", department="",
        public_by_default=False, is_active=False, order=3,
    )  # fmt: skip
    category.refresh_from_db()
    assert (category.name, category.department, category.is_active) == ("道路標識", "", False)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "requests.category.created" in actions and "requests.category.changed" in actions


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": ""}, "分類コードを入力"),
        ({"code": "道路"}, "半角英小文字"),
        ({"name": " "}, "分類名を入力"),
        ({"department": "nowhere"}, "担当課 nowhere はこの自治体にありません"),
        ({"expected_response_days": 0}, "1〜365"),
        ({"expected_response_days": "abc"}, "整数"),
        ({"code": "streetlight"}, "既に使われています"),
    ],
)
def test_category_validation(in_a, admin, kwargs, message):
    data = {"code": "newcat", "name": "新分類", **kwargs}
    with pytest.raises(RequestError, match=message):
        category_save(actor=admin, **data)
    assert not Category.objects.filter(code="newcat").exists()


def test_category_code_is_kept_once_requests_use_it(in_a, admin, doro):
    light = Category.objects.get(code="streetlight")
    request_create(category=light, description="消えた", address="千代田区")
    with pytest.raises(RequestError, match="service_code"):
        category_save(actor=admin, category=light, code="lamp", name="街灯")


def test_only_administrators_edit_categories(in_a, supervisor):
    with pytest.raises(RequestError, match="自治体管理者"):
        category_save(actor=supervisor, code="x", name="x")


def test_attribute_add_edit_remove(in_a, admin):
    light = Category.objects.get(code="streetlight")
    attribute = category_attribute_save(
        actor=admin, category=light, code="pole", description="電柱の番号", datatype="string"
    )
    choice = category_attribute_save(
        actor=admin, category=light, code="state", description="状態", datatype="singlevaluelist",
        values="off:消えている\nblink:点滅している", required=True,
    )  # fmt: skip
    assert choice.values == [
        {"key": "off", "name": "消えている"},
        {"key": "blink", "name": "点滅している"},
    ]
    category_attribute_save(
        actor=admin, category=light, attribute=attribute, code="pole_no",
        description="電柱番号", datatype="number",
    )  # fmt: skip
    attribute.refresh_from_db()
    assert (attribute.code, attribute.datatype) == ("pole_no", "number")
    category_attribute_delete(actor=admin, attribute=attribute)
    assert list(light.attributes.values_list("code", flat=True)) == ["state"]
    assert AuditEntry.objects.filter(action="requests.attribute.deleted").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"datatype": "singlevaluelist", "values": ""}, "選択肢を1つ以上"),
        ({"datatype": "singlevaluelist", "values": "a:A\na:B"}, "重複しています: a"),
        ({"datatype": "multivaluelist", "values": "only-a-key"}, "1行目は「キー:表示名」"),
        ({"datatype": "string", "values": "a:A"}, "選択肢は「選択（1つ）」"),
        ({"datatype": "colour"}, "不明な項目の種類"),
        ({"code": "Bad Code"}, "半角英小文字"),
        ({"description": ""}, "質問を入力"),
        ({"code": "dup"}, "既に使われています"),
    ],
)
def test_attribute_validation(in_a, admin, kwargs, message):
    light = Category.objects.get(code="streetlight")
    category_attribute_save(
        actor=admin, category=light, code="dup", description="既存", datatype="text"
    )
    data = {"code": "newq", "description": "質問", "datatype": "string", **kwargs}
    with pytest.raises(RequestError, match=message):
        category_attribute_save(actor=admin, category=light, **data)
    assert list(light.attributes.values_list("code", flat=True)) == ["dup"]


def test_geojson_import_good(in_a, admin):
    data = collection(
        feature("丸の内一丁目", poly(139.76, 35.68, 139.77, 35.69)),
        feature("丸の内二丁目", poly(139.77, 35.68, 139.78, 35.69)),
    )
    areas = areas_import_geojson(actor=admin, data=data, kind="chome")
    assert [a.name for a in areas] == ["丸の内一丁目", "丸の内二丁目"]
    assert AuditEntry.objects.filter(action="requests.areas.imported").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "GeoJSON として読めません"),
        (b'{"type": "Feature"}', "FeatureCollection を指定"),
        (b'{"type": "FeatureCollection", "features": []}', "地物（features）がありません"),
        (collection(feature("", poly(0, 0, 1, 1))), "1 番目の地物: 名前"),
        (
            collection(
                feature("よい区域", poly(0, 0, 1, 1)),
                feature("点", {"type": "Point", "coordinates": [0, 0]}),
            ),
            "2 番目の地物「点」: 区域は GeoJSON の Polygon か MultiPolygon",
        ),
        (
            collection(
                feature(
                    "蝶ネクタイ",
                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
                )
            ),
            "1 番目の地物「蝶ネクタイ」: 区域の形が正しくありません",
        ),
    ],
)
def test_geojson_import_bad_names_the_feature_and_writes_nothing(in_a, admin, data, message):
    with pytest.raises(RequestError, match=message):
        areas_import_geojson(actor=admin, data=data)
    assert not Area.objects.exists()


# --- pages --------------------------------------------------------------------------


def test_category_pages(signed_in, admin, doro):
    client = signed_in(admin)
    assert "街灯の故障" in client.get(ADMIN_URL + "categories/").content.decode()
    response = client.post(
        ADMIN_URL + "categories/",
        {"code": "sign", "name": "標識", "department": "doro", "expected_response_days": 5,
         "order": 9, "public_by_default": "on", "is_active": "on"},
    )  # fmt: skip
    with tenant_context(A):
        sign = Category.objects.get(code="sign")
    assert response.url == f"{ADMIN_URL}categories/{sign.pk}/"
    bad = client.post(
        ADMIN_URL + "categories/",
        {"code": "x2", "name": "x", "department": "", "expected_response_days": 999, "order": 0},
    )
    assert bad.status_code == 400 and "1〜365" in bad.content.decode()
    url = f"{ADMIN_URL}categories/{sign.pk}/attributes/"
    client.post(url, {"attr-code": "kind", "attr-description": "種類",
                      "attr-datatype": "singlevaluelist", "attr-values": "a:止まれ",
                      "attr-order": 0})  # fmt: skip
    refused = client.post(
        url,
        {"attr-code": "k2", "attr-description": "x", "attr-datatype": "multivaluelist",
         "attr-values": "", "attr-order": 0},
        follow=True,
    )  # fmt: skip
    assert "選択肢を1つ以上" in refused.content.decode()
    with tenant_context(A):
        attribute = CategoryAttribute.objects.get(category=sign)
    assert attribute.values == [{"key": "a", "name": "止まれ"}]
    page = client.get(f"{ADMIN_URL}categories/{sign.pk}/").content.decode()
    assert "a:止まれ" in page
    client.post(f"{url}{attribute.pk}/delete/")
    with tenant_context(A):
        assert not CategoryAttribute.objects.filter(category=sign).exists()


def test_area_upload_and_rules_pages(signed_in, admin, doro):
    client = signed_in(admin)
    good = SimpleUploadedFile(
        "areas.geojson",
        collection(feature("丸の内一丁目", poly(139.76, 35.68, 139.77, 35.69))),
        content_type="application/geo+json",
    )
    response = client.post(
        ADMIN_URL + "areas/upload/", {"file": good, "kind": "chome", "name_property": "name"}
    )
    assert response.status_code == 302
    assert "丸の内一丁目" in client.get(ADMIN_URL + "areas/").content.decode()
    bad = SimpleUploadedFile("bad.geojson", collection(feature("", poly(0, 0, 1, 1))))
    refused = client.post(
        ADMIN_URL + "areas/upload/", {"file": bad, "kind": "chome", "name_property": "name"}
    )
    assert refused.status_code == 400 and "1 番目の地物" in refused.content.decode()
    with tenant_context(A):
        area = Area.objects.get()
        light = Category.objects.get(code="streetlight")
    client.post(
        ADMIN_URL + "rules/", {"category": light.pk, "area": area.pk, "department": "kankyo"}
    )
    with tenant_context(A):
        rule = RoutingRule.objects.get()
        assert (rule.category_id, rule.area_id, rule.department) == (light.pk, area.pk, "kankyo")
        routed = request_create(category=light, description="消灯", lat="35.685", long="139.765")
    assert routed.request.department == "kankyo"


@pytest.mark.parametrize("who", ["supervisor", "clerk"])
def test_administration_refused_to_other_roles(request, signed_in, make_staff, municipality_a, who):
    if who == "clerk":
        staff = make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk-x")
    else:
        staff = request.getfixturevalue("supervisor")
    client = signed_in(staff)
    for url in ("categories/", "areas/"):
        assert client.get(ADMIN_URL + url).status_code == 403
    data = {"code": "x", "name": "x", "expected_response_days": 1, "order": 0}
    assert client.post(ADMIN_URL + "categories/", data).status_code == 403
    with tenant_context(A):
        assert not Category.objects.filter(code="x").exists()


def test_other_municipality_admin_cannot_edit(signed_in, make_staff, municipality_b, in_a):
    admin_b = make_staff(municipality_b, ("shimin", "municipality_admin"), username="sakai-admin")
    with pytest.raises(RequestError, match="この自治体の管理者ではありません"):
        category_save(actor=admin_b, code="x", name="x")
    assert signed_in(admin_b).get(ADMIN_URL + "categories/").status_code in (403, 404)


# --- demo ---------------------------------------------------------------------------


def test_the_demo_routes_a_street_light_to_doro(db):
    from machi.web.demo import demo_seed

    demo_seed()
    demo_seed()  # idempotent
    with tenant_context(A):
        assert Area.objects.filter(name="千代田区丸の内一丁目").count() == 1
        light = Category.objects.get(code="streetlight")
        filed = request_create(
            category=light, description="街灯が消えています", lat="35.6812", long="139.7640"
        )
    request = filed.request
    assert (request.department, request.department_name, request.routing) == (
        "doro",
        "道路課",
        "rule",
    )

"""Staff pages of the facility masters: role-gated, per municipality, import refusals
shown with line and column, exports in the standard's layout."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from machi.opendata.standard.demo import standard_demo_seed
from machi.opendata.standard.models import Shelter
from machi.opendata.standard.schema import schema_validate
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
BASE = "/131016/opendata/staff/standard/"


@pytest.fixture
def editor(municipality_a, make_staff, signed_in):
    return signed_in(make_staff(municipality_a, ("kikaku", "web_author")))


def test_list_edit_and_export(editor):
    standard_demo_seed(lg_code="131016")
    page = editor.get(BASE)
    assert page.status_code == 200 and "指定緊急避難場所一覧" in page.content.decode()
    page = editor.get(BASE + "shelters/")
    assert "中央小学校（架空）" in page.content.decode()
    page = editor.get(BASE + "shelters/edit/?id=S001")
    assert page.status_code == 200 and "名称（英字）" in page.content.decode()
    export = editor.get(BASE + "aed/export.csv")
    assert export["Content-Type"].startswith("text/csv")
    assert schema_validate(dataset="aed", content=export.content) == []


def test_new_shelter_and_bad_input(editor):
    data = {"standard_id": "S100", "name": "新しい公園", "address": "東京都千代田区九段南1-1",
            "latitude": "35.69", "longitude": "139.75", "earthquake": "on"}  # fmt: skip
    assert editor.post(BASE + "shelters/edit/", data).status_code == 302
    with tenant_context("131016"):
        assert Shelter.objects.get(standard_id="S100").earthquake
    bad = editor.post(BASE + "shelters/edit/", {**data, "standard_id": "S101", "latitude": "x"})
    assert bad.status_code == 200 and "入力を確かめてください" in bad.content.decode()
    with tenant_context("131016"):
        assert not Shelter.objects.filter(standard_id="S101").exists()


def test_import_refusal_names_line_and_column(editor):
    content = (
        "\ufeffID,名称,所在地_連結表記,緯度,経度\r\nS1,,東京都千代田区,35.6,139.7\r\n".encode()
    )
    upload = SimpleUploadedFile("s.csv", content, content_type="text/csv")
    page = editor.post(BASE + "shelters/import/", {"file": upload})
    assert page.status_code == 400
    assert "2行目「名称」" in page.content.decode()
    good = content.replace(b"S1,,", "S1,番町公園,".encode())
    page = editor.post(BASE + "shelters/import/", {"file": SimpleUploadedFile("s.csv", good)})
    assert page.status_code == 302
    with tenant_context("131016"):
        assert Shelter.objects.get(standard_id="S1").name == "番町公園"


def test_wrong_role_and_wrong_municipality(municipality_a, municipality_b, make_staff, signed_in):
    standard_demo_seed(lg_code="131016")
    clerk = signed_in(make_staff(municipality_a, ("shimin", "counter_clerk")))
    assert clerk.get(BASE + "shelters/").status_code == 403
    other = signed_in(make_staff(municipality_b, ("kikaku", "web_author")))
    assert other.get(BASE + "shelters/").status_code in (403, 404)
    # B's own page does not show A's shelters, and A's id is not found at B.
    own = other.get("/271403/opendata/staff/standard/shelters/edit/?id=S001")
    assert own.status_code == 404

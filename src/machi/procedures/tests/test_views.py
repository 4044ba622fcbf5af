"""The administrator's catalogue page: roles, upload, errors, history, downloads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from machi.procedures import services
from machi.procedures.models import CatalogueVersion
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/131016/procedures/catalogue/"
GOOD = (
    "departments:\n  kaigo: 高齢介護課\n"
    "procedures:\n  - code: dog.transfer_in\n    disabled: true\n"
)


@pytest.fixture
def admin_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"))


def test_admin_sees_the_effective_catalogue(admin_a, signed_in):
    response = signed_in(admin_a).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1>") == 1
    assert "<caption>" in page
    assert "kaigo.enroll" in page and "legal_age(person.birth_date, D) &gt;= 65" in page
    assert "既定の目録を使っています" in page
    assert 'for="id_comment"' in page


def test_only_municipality_admins(make_staff, municipality_a, signed_in):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), ("shimin", "supervisor"))
    assert signed_in(clerk).get(URL).status_code == 403
    assert signed_in(clerk).post(URL, {"text": GOOD, "comment": "x"}).status_code == 403


def test_staff_of_another_municipality_is_refused(make_staff, municipality_b, signed_in):
    admin_b = make_staff(municipality_b, ("shimin", "municipality_admin"))
    assert signed_in(admin_b).get(URL).status_code == 403
    assert signed_in(admin_b).post(URL, {"text": GOOD, "comment": "x"}).status_code == 403
    with tenant_context("131016"):
        assert not CatalogueVersion.objects.exists()


def test_upload_pasted_text(admin_a, signed_in):
    client = signed_in(admin_a)
    response = client.post(URL, {"text": GOOD, "comment": "犬の登録は別窓口"})
    assert response.status_code == 302
    page = client.get(URL).content.decode()
    assert "第1版" in page and "犬の登録は別窓口" in page and "高齢介護課" in page
    assert "dog.transfer_in" not in page
    with tenant_context("131016"):
        assert CatalogueVersion.objects.get().active


def test_the_page_shows_counter_places_and_what_to_bring(admin_a, signed_in):
    client = signed_in(admin_a)
    page = client.get(URL).content.decode()
    assert "本庁舎1階 1〜4番窓口" in page  # the default place of 市民課
    assert "転出証明書" in page and "国外からの転入" in page  # juki.move_in and its variant
    override = (
        "places:\n  shimin: 東庁舎2階 総合窓口\n"
        "procedures:\n  - code: kaigo.enroll\n    bring: [介護保険 被保険者証の写し]\n"
    )
    assert client.post(URL, {"text": override, "comment": "移転"}).status_code == 302
    page = client.get(URL).content.decode()
    assert "東庁舎2階 総合窓口" in page and "本庁舎1階 1〜4番窓口" not in page
    assert "介護保険 被保険者証の写し" in page


def test_upload_a_file(admin_a, signed_in):
    upload = SimpleUploadedFile("catalogue.yaml", ("\ufeff" + GOOD).encode(), "application/yaml")
    response = signed_in(admin_a).post(URL, {"file": upload, "comment": "ファイルで"})
    assert response.status_code == 302
    with tenant_context("131016"):
        assert CatalogueVersion.objects.get().text == GOOD


def test_invalid_catalogue_lists_the_errors_and_saves_nothing(admin_a, signed_in):
    bad = "procedures:\n  - code: kaigo.enroll\n    department: nowhere\n    events: [moving]\n"
    response = signed_in(admin_a).post(URL, {"text": bad, "comment": "x"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "procedures[0] (kaigo.enroll): department: 未知の課 &#x27;nowhere&#x27;" in page
    assert "procedures[0] (kaigo.enroll): events: 未知の出来事 &#x27;moving&#x27;" in page
    with tenant_context("131016"):
        assert not CatalogueVersion.objects.exists()


def test_empty_form_is_refused(admin_a, signed_in):
    response = signed_in(admin_a).post(URL, {"text": "", "comment": "x"})
    assert response.status_code == 400
    assert "ファイルを選ぶか、内容を貼り付けてください" in response.content.decode()


def test_downloads(admin_a, signed_in):
    client = signed_in(admin_a)
    empty = client.get(URL + "download/")
    assert empty.status_code == 200 and "procedures: []" in empty.content.decode()
    with tenant_context("131016"):
        services.catalogue_upload(text=GOOD, actor=admin_a, comment="1")
        services.catalogue_upload(text="closed_days: [2026-05-01]\n", actor=admin_a, comment="2")
    current = client.get(URL + "download/")
    assert current.content.decode() == "closed_days: [2026-05-01]\n"
    assert 'filename="procedures-131016-v2.yaml"' in current["Content-Disposition"]
    assert client.get(URL + "download/?version=1").content.decode() == GOOD
    assert client.get(URL + "download/?version=9").status_code == 404
    default = client.get(URL + "download/?default=1").content.decode()
    assert "code: kaigo.enroll" in default


def test_anonymous_goes_to_login(client, municipality_a):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")

"""The public request page and list: history, public answers, duplicates both ways,
photos only of listed requests, never the reporter; hidden requests show a neutral
notice; another municipality's code is not found; the list's queries are bounded."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.requests import photos
from machi.requests.models import Category, Request, RequestPhoto
from machi.requests.services import (
    Reporter,
    request_answer,
    request_create,
    request_hide,
    request_merge_duplicate,
)
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
EMAIL = "hanako.yamada@example.jp"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def file(lg: str = A, code: str = "streetlight", **kwargs) -> Request:
    kwargs.setdefault("description", "街灯が消えています。<script>x</script>")
    kwargs.setdefault("address", "千代田区丸の内1-1")
    with tenant_context(lg):
        return request_create(category=Category.objects.get(code=code), **kwargs).request


@pytest.fixture
def staff(make_staff, municipality_a, doro):
    return make_staff(municipality_a, ("doro", "department_staff"), username="doro-staff")


def page(item: Request, lg: str = A) -> str:
    return f"/{lg}/requests/{item.public_code}/"


def test_page_shows_history_answers_and_never_the_reporter(client, staff):
    item = file(reporter=Reporter(email=EMAIL, last_name="山田", first_name="花子",
                                  phone="03-1234-5678"))  # fmt: skip
    with tenant_context(A):
        request_answer(request=item, text="来週交換します。", public=True, actor=staff)
        request_answer(request=item, text="業者に依頼済み（内部）", public=False, actor=staff)
    html = client.get(page(item)).content.decode()
    assert "街灯の故障" in html and "千代田区丸の内1-1" in html and "来週交換します。" in html
    assert "&lt;script&gt;" in html and "<script>x" not in html  # escaped plain text
    assert "業者に依頼済み" not in html
    for private in (EMAIL, "山田", "花子", "03-1234-5678", "doro-staff"):
        assert private not in html


def test_duplicates_link_both_ways(client, staff):
    original, copy = file(), file(description="同じ街灯です。")
    with tenant_context(A):
        request_merge_duplicate(request=copy, original=original, actor=staff)
    assert page(original) in client.get(page(copy)).content.decode()
    assert page(copy) in client.get(page(original)).content.decode()


def _photo(item: Request) -> RequestPhoto:
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    raw = BytesIO()
    Image.new("RGB", (8, 8)).save(raw, format="PNG")
    with tenant_context(A):
        cleaned = photos.clean(SimpleUploadedFile("a.png", raw.getvalue()))
        return RequestPhoto.objects.create(
            request=item, file=photos.store(cleaned), width=8, height=8
        )


def test_hidden_request_shows_a_neutral_notice_and_no_photo(client, staff, doro):
    item = file(reporter=Reporter(email=EMAIL))
    photo = _photo(item)
    url = f"{page(item)}photos/{photo.pk}/"
    assert client.get(url).status_code == 200
    with tenant_context(A):
        request_hide(request=item, reason="個人名が書かれていた", actor=staff)
    shown = client.get(page(item))
    html = shown.content.decode()
    assert shown.status_code == 200 and "この要望は公開されていません" in html
    assert "街灯が消えています" not in html and "個人名" not in html
    assert client.get(url).status_code == 404
    assert item.public_code not in client.get(f"/{A}/requests/").content.decode()


def test_not_public_by_category(client, municipality_a):
    item = file(code="policy_opinion", description="図書館の開館時間を延ばしてほしい。")
    html = client.get(page(item)).content.decode()
    assert "この要望は公開されていません" in html and "図書館" not in html


def test_other_municipalitys_code_is_not_found(client, municipality_a, municipality_b, doro):
    item = file(A)
    assert client.get(page(item, B)).status_code == 404
    photo = _photo(item)
    assert client.get(f"{page(item, B)}photos/{photo.pk}/").status_code == 404
    assert client.get(f"/{A}/requests/ZZZZ-ZZZZ-ZZ/").status_code == 404


def test_list_is_paginated_with_a_fixed_number_of_queries(client, doro):
    for i in range(3):
        file(description=f"街灯 {i}")
    file(code="policy_opinion", description="非公開の意見")

    def count(url: str) -> int:
        with CaptureQueriesContext(connections[tenant_alias(A)]) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count(f"/{A}/requests/")
    for i in range(25):
        file(description=f"さらに {i}")
    assert count(f"/{A}/requests/") == few
    first = client.get(f"/{A}/requests/").content.decode()
    assert "?page=2" in first and "非公開の意見" not in first
    second = client.get(f"/{A}/requests/?page=2").content.decode()
    assert second.count('href="/131016/requests/') - first.count("aria-current") >= 1


def test_english_through_the_language_switch(client, municipality_a):
    switched = client.get(f"/{A}/requests/new/?lang=en")
    assert switched.status_code == 302
    assert switched.cookies["django_language"].value == "en"

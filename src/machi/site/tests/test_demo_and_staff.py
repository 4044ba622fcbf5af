"""The demo content and the staff's screens over HTTP: roles, own versions, other
municipalities, bad input."""

from __future__ import annotations

import pytest
from django.test import Client

from machi.site import selectors, services
from machi.site.demo import demo_site_seed
from machi.site.models import Page, Version, VersionState
from machi.tenancy.context import tenant_context

from .conftest import A
from .isolation import png

pytestmark = pytest.mark.django_db(databases="__all__")
STAFF = f"/{A}/site/staff/"


def test_demo_content_in_three_languages_and_idempotent(municipality_a):
    demo_site_seed(A)
    demo_site_seed(A)
    with tenant_context(A):
        page = selectors.page_public(path="kurashi/juminhyo")
        assert set(page.title) == {"ja", "ja-easy", "en"}
        assert Page.objects.filter(path="kurashi/juminhyo").count() == 1
        assert len(selectors.news_latest(limit=10)) == 3
    client = Client()
    client.get(f"/{A}/?lang=en")
    assert "Disaster drill this weekend" in client.get(f"/{A}/").content.decode()


def test_author_edits_and_submits_over_http(author, signed_in):
    client = signed_in(author)
    assert client.get(STAFF).status_code == 200
    response = client.post(STAFF + "pages/new/", {"slug": "gomi", "title_ja": "ごみ",
                                                  "body_ja": "本文", "position": "3"})  # fmt: skip
    assert response.status_code == 302
    with tenant_context(A):
        page = Page.objects.get(path="gomi")
    response = client.post(f"{STAFF}pages/{page.pk}/", {"title_ja": "ごみの出し方",
                           "body_ja": "新しい本文", "submit_for_approval": "1"})  # fmt: skip
    assert response.status_code == 302
    with tenant_context(A):
        latest = Version.objects.filter(page=page).order_by("-number").first()
    assert latest.number == 2 and latest.state == VersionState.PENDING
    page_html = client.get(f"{STAFF}versions/{latest.pk}/").content.decode()
    assert "+新しい本文" in page_html and "承認して公開する" not in page_html


def test_bad_input_is_shown_and_changes_nothing(author, signed_in):
    response = signed_in(author).post(STAFF + "pages/new/", {"slug": "Bad!", "title_ja": ""})
    assert response.status_code == 400 and "URL名" in response.content.decode()
    with tenant_context(A):
        assert not Page.objects.filter(slug="bad!").exists()


def test_author_cannot_approve_own_version_over_http(approver, signed_in):
    with tenant_context(A):
        page = services.page_create(actor=approver, parent=None, slug="own", title={"ja": "x"},
                                    body={"ja": "x"})  # fmt: skip
        version = services.version_submit(actor=approver, version=page.versions.get())
    response = signed_in(approver).post(f"{STAFF}versions/{version.pk}/approve/")
    assert response.status_code == 403
    with tenant_context(A):
        version.refresh_from_db()
    assert version.state == VersionState.PENDING


def test_approver_approves_another_authors_version(author, approver, signed_in):
    with tenant_context(A):
        page = services.page_create(actor=author, parent=None, slug="theirs", title={"ja": "x"},
                                    body={"ja": "x"})  # fmt: skip
        version = services.version_submit(actor=author, version=page.versions.get())
    response = signed_in(approver).post(f"{STAFF}versions/{version.pk}/approve/", {"comment": "可"})
    assert response.status_code == 302
    assert Client().get(f"/{A}/pages/theirs/").status_code == 200


def test_wrong_role_is_403(clerk, author, signed_in):
    with tenant_context(A):
        page = services.page_create(actor=author, parent=None, slug="p", title={"ja": "x"},
                                    body={"ja": "x"})  # fmt: skip
    with tenant_context(A):
        version = page.versions.get()
    client = signed_in(clerk)
    for url in (STAFF, f"{STAFF}pages/{page.pk}/", STAFF + "images/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{STAFF}versions/{version.pk}/submit/").status_code == 403


def test_wrong_municipality(author, author_b, signed_in):
    with tenant_context(A):
        page = services.page_create(actor=author, parent=None, slug="p", title={"ja": "x"},
                                    body={"ja": "x"})  # fmt: skip
    # another municipality's staff are refused at A's URLs
    assert signed_in(author_b).get(f"{STAFF}pages/{page.pk}/").status_code == 403
    # an id that is not in this municipality's database is 404
    assert signed_in(author).get(f"{STAFF}pages/99999/").status_code == 404
    assert signed_in(author).get(f"{STAFF}versions/99999/").status_code == 404


def test_image_upload_over_http_needs_alt(author, signed_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(author)
    missing = client.post(STAFF + "images/", {"file": SimpleUploadedFile("a.png", png()),
                                              "alt_ja": ""})  # fmt: skip
    assert missing.status_code == 400 and "代替テキスト" in missing.content.decode()
    done = client.post(STAFF + "images/", {"file": SimpleUploadedFile("a.png", png()),
                                           "alt_ja": "地図"})  # fmt: skip
    assert done.status_code == 302


def test_staff_home_moved_and_linked(author, signed_in):
    client = signed_in(author)
    assert client.get("/").url == f"/{A}/home/"
    home = client.get(f"/{A}/home/").content.decode()
    assert f'href="{STAFF}"' in home  # the menu's ウェブサイト

"""The public site: top page, pages with breadcrumbs, news list and detail, languages,
sitemap, and the HTTP caching (ETag, Last-Modified, 304, no cookies)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from machi.site import services
from machi.tenancy.context import tenant_context

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")


def _news(n=1, body=None, **title):
    with tenant_context(A):
        return [
            services.news_item_publish(
                title={"ja": f"お知らせ{i}", **title}, body=body or {"ja": "本文"},
                category="kurashi",
                published_at=timezone.now(),
            )
            for i in range(n)
        ]  # fmt: skip


def test_top_page_for_anonymous_visitors(municipality_a):
    _news(2)
    response = Client().get(f"/{A}/")
    assert response.status_code == 200
    text = response.content.decode()
    expected_parts = ("お知らせ1", "くらし・手続き", "子育て", "防災", f"/{A}/faq/",
                      f"/{A}/preapply/", f"/{A}/requests/", f"/{A}/public-comment/",
                      f"/{A}/search/")  # fmt: skip
    for expected in expected_parts:
        assert expected in text, expected
    assert "職員ホーム" not in text


def test_page_with_breadcrumbs_and_children(municipality_a, publish_page):
    with tenant_context(A):
        from machi.site.models import Page

        kurashi = Page.objects.get(path="kurashi")
    child = publish_page("juminhyo", title={"ja": "住民票の写し"}, parent=kurashi)
    response = Client().get(f"/{A}/pages/kurashi/")
    assert "住民票の写し" in response.content.decode()
    response = Client().get(f"/{A}/pages/{child.path}/")
    text = response.content.decode()
    assert response.status_code == 200
    crumbs = text.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert "トップページ" in crumbs and "くらし・手続き" in crumbs and "住民票の写し" in crumbs
    assert Client().get(f"/{A}/pages/kurashi/none/").status_code == 404


def test_a_draft_page_is_not_public(municipality_a, author):
    with tenant_context(A):
        services.page_create(actor=author, parent=None, slug="draft", title={"ja": "下書き"},
                             body={"ja": "まだ"})  # fmt: skip
    assert Client().get(f"/{A}/pages/draft/").status_code == 404


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "This page is not available in English yet; it is shown in Japanese."),
        ("ja-easy", "この ページは まだ やさしい にほんごに なって いません。"),
    ],
)
def test_missing_language_shows_japanese_with_a_notice(municipality_a, language, notice):
    (item,) = _news(1)
    client = Client()
    switched = client.get(f"/{A}/news/{item.pk}/?lang={language}")
    assert switched.status_code == 302 and switched["Location"] == f"/{A}/news/{item.pk}/"
    text = client.get(f"/{A}/news/{item.pk}/").content.decode()
    assert notice in text
    assert '<div class="page-body" lang="ja">' in text


def test_english_text_when_there_is_one(municipality_a):
    (item,) = _news(1, en="Notice in English", body={"ja": "本文", "en": "Body"})
    client = Client()
    client.get(f"/{A}/?lang=en")
    text = client.get(f"/{A}/news/{item.pk}/").content.decode()
    assert "Notice in English" in text and "not available in English" not in text
    assert '<html lang="en">' in text


def test_caching_headers_and_304(municipality_a):
    _news(1)
    client = Client()
    response = client.get(f"/{A}/")
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"] and response["Last-Modified"]
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    again = client.get(f"/{A}/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again["ETag"] == response["ETag"] and not again.content
    since = client.get(f"/{A}/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert since.status_code == 304
    _news(1)  # the site changed: the old validator no longer matches
    changed = client.get(f"/{A}/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != response["ETag"]


@pytest.mark.parametrize("path", ["", "news/", "accessibility/", "sitemap.xml", "pages/bosai/"])
def test_every_cached_page_sets_no_cookie(municipality_a, path):
    response = Client().get(f"/{A}/{path}")
    assert response.status_code == 200
    assert not response.cookies and "Cookie" not in response.get("Vary", "")
    assert response["Cache-Control"].startswith("public")


def test_language_is_part_of_the_validator(municipality_a):
    client = Client()
    ja = client.get(f"/{A}/")
    client.get(f"/{A}/?lang=en")
    en = client.get(f"/{A}/", HTTP_IF_NONE_MATCH=ja["ETag"])
    assert en.status_code == 200 and en["ETag"] != ja["ETag"]


def test_signed_in_staff_see_the_public_top_with_a_link_home(municipality_a, clerk, signed_in):
    response = signed_in(clerk).get(f"/{A}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert f'href="/{A}/home/"' in text
    assert response["Cache-Control"] == "private, no-cache"


def test_sitemap_lists_public_pages_and_news(municipality_a, publish_page):
    (item,) = _news(1)
    page = publish_page("gomi")
    response = Client().get(f"/{A}/sitemap.xml")
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in root.findall("s:url/s:loc", ns)]
    assert f"http://testserver/{A}/pages/{page.path}/" in locs
    assert f"http://testserver/{A}/news/{item.pk}/" in locs
    assert all(e.text.endswith("Z") for e in root.findall("s:url/s:lastmod", ns))


def test_news_list_paginates(municipality_a):
    _news(25)
    first = Client().get(f"/{A}/news/").content.decode()
    assert "お知らせ24" in first and "お知らせ0<" not in first and 'rel="next"' in first
    second = Client().get(f"/{A}/news/?page=2").content.decode()
    assert "お知らせ0<" in second


def test_unknown_municipality_is_404(db):
    assert Client().get("/999999/").status_code == 404

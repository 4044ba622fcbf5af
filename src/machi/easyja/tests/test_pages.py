"""The language switch on every resident page, remembered; やさしい日本語 with ふりがな on
the resident pages; the ふりがな staff page (roles, corrections, bad input)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language_info

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.easyja.models import ReadingCorrection, RubySetting
from machi.easyja.selectors import ruby_config_forget
from machi.tenancy.context import tenant_context
from machi.web.language import RESIDENT_LANGUAGES, html_lang
from machi.web.tests.objects import A, B, World

pytestmark = pytest.mark.django_db(databases="__all__")

COOKIE = settings.LANGUAGE_COOKIE_NAME
# BCP 47 as the HTML lang attribute takes it (language, optional script/region/variant)
BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{4})?(-[A-Z]{2}|-\d{3})?(-([a-z\d]{5,8}|\d[a-z\d]{3}))*$")
ROLES = [("shimin", role) for role in Role.values] + [("kosodate", Role.DEPARTMENT_STAFF)]


@pytest.fixture(autouse=True)
def _fresh_config():
    ruby_config_forget()
    yield
    ruby_config_forget()


@pytest.fixture
def world(make_staff, municipality_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = make_staff(municipality_a, *ROLES)
    return World(lg_code=A, staff=staff, receiver=None)


def resident_urls(world: World) -> list[str]:
    return [
        f"/{A}/preapply/",
        reverse("counter:preapply_show", args=[A, world.preapplication.code]),
        reverse("counter:visit_status", args=[A, world.visit.public_code]),
        reverse("contact:faq_public", args=[A]),
        reverse("contact:faq_answer", args=[A, world.faq_answer.pk]),
        reverse("contact:contact_form", args=[A]),
        reverse("requests:public_list", args=[A]),
        reverse("requests:public_new", args=[A]),
        reverse("requests:public_request", args=[A, world.request.public_code]),
        reverse("publiccomment:public_list", args=[A]),
        reverse("publiccomment:public_detail", args=[A, world.consultation.pk]),
    ]


def switch_links(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="lang-switch".*?</nav>', html, re.S)
    assert nav, "no language switch"
    return {
        code: tag
        for tag in re.findall(r"<a [^>]*>[^<]*</a>", nav.group())
        for code in RESIDENT_LANGUAGES
        if f'lang={code}"' in tag or f"lang={code}&" in tag
    }


def test_ja_easy_is_a_django_language():
    assert ("ja-easy", "やさしい にほんご") in settings.LANGUAGES
    assert get_language_info("ja-easy")["name_local"] == "やさしい にほんご"
    assert html_lang("ja-easy") == "ja" and html_lang("en") == "en" and html_lang(None) == "ja"
    assert all(BCP47.match(html_lang(code)) for code in RESIDENT_LANGUAGES)


def test_every_resident_page_has_the_switch_and_remembers_the_choice(world, client):
    for url in resident_urls(world):
        for code in RESIDENT_LANGUAGES:
            switched = client.get(f"{url}?lang={code}")
            assert switched.status_code == 302, (url, code)
            assert switched["Location"] == url  # the same page without ?lang
            assert client.cookies[COOKIE].value == code
            page = client.get(url)
            assert page.status_code == 200, (url, code)
            html = page.content.decode()
            lang = re.search(r'<html lang="([^"]+)"', html).group(1)
            # the pre-application navigator exists in Japanese only (its data is Japanese)
            shown = "ja" if "/preapply/" in url else code
            assert BCP47.match(lang) and lang == html_lang(shown), (url, lang)
            links = switch_links(html)
            assert set(links) == set(RESIDENT_LANGUAGES), url
            current = [c for c, tag in links.items() if 'aria-current="true"' in tag]
            assert current == [code], (url, current)
            assert 'lang="en"' in links["en"] and 'lang="ja"' in links["ja-easy"]
            assert ">やさしい にほんご</a>" in links["ja-easy"] and ">English</a>" in links["en"]


def test_the_switch_keeps_the_other_parameters(world, client):
    html = client.get(reverse("contact:faq_public", args=[A]), {"q": "住民票"}).content.decode()
    assert "q=%E4%BD%8F%E6%B0%91%E7%A5%A8&amp;lang=en" in switch_links(html)["en"]
    back = client.get(reverse("contact:faq_public", args=[A]), {"q": "住民票", "lang": "en"})
    assert back["Location"].endswith("/faq/?q=%E4%BD%8F%E6%B0%91%E7%A5%A8")


def test_an_unknown_language_is_ignored(client, municipality_a):
    response = client.get(f"/{A}/faq/?lang=xx")
    assert response.status_code == 302 and COOKIE not in response.cookies
    response = client.get(f"/{A}/faq/?lang=ja-easy%22%3E%3Cscript%3E")
    assert response.status_code == 302 and COOKIE not in response.cookies


def test_ja_easy_pages_show_easy_japanese_with_furigana(world, client):
    client.cookies[COOKIE] = "ja-easy"
    html = client.get(reverse("requests:public_list", args=[A])).content.decode()
    # 「公開中の要望」 in やさしい日本語, 見 (grade 1) bare, readings beyond grade 2
    assert "みんなが" in html and "<ruby>公開中<rt>" not in html
    assert 'class="easy-ja"' in html
    status = client.get(reverse("counter:visit_status", args=[A, world.visit.public_code]))
    html = status.content.decode()
    assert "<ruby>手続<rt>てつづ</rt></ruby>きの ようす" in html
    assert "2026年4月3日" in html and "令和" not in html  # dates in 西暦 only


def test_japanese_only_pages_say_so_in_the_residents_language(client, municipality_a):
    client.cookies[COOKIE] = "en"
    html = client.get(f"/{A}/preapply/").content.decode()
    assert '<p class="message lang-notice" lang="en">' in html
    client.cookies[COOKIE] = "ja-easy"
    html = client.get(f"/{A}/preapply/").content.decode()
    assert "にほんごで みせます" in html
    assert "<ruby>" in html  # the Japanese page, with its ふりがな
    client.cookies[COOKIE] = "ja"
    html = client.get(f"/{A}/preapply/").content.decode()
    assert "lang-notice" not in html and "<ruby>" not in html


def test_no_ruby_outside_ja_easy(world, client):
    for code in ("ja", "en"):
        client.cookies[COOKIE] = code
        html = client.get(reverse("contact:faq_public", args=[A])).content.decode()
        assert "<ruby>" not in html, code


# --- the staff page --------------------------------------------------------------------------


def readings_url(lg: str = A) -> str:
    return reverse("easyja:readings", args=[lg])


@pytest.fixture
def author(make_staff, municipality_a):
    return make_staff(municipality_a, ("koho", Role.WEB_AUTHOR))


def test_corrections_and_grade_change_the_resident_pages(author, signed_in, client, world):
    staff = signed_in(author)
    correction = {"action": "save", "word": "街灯", "reading": "マチアカリ"}
    response = staff.post(readings_url(), correction)
    assert response.status_code == 302
    response = staff.post(readings_url(), {"action": "grade", "grade": "6"})
    assert response.status_code == 302
    with tenant_context(A):
        assert ReadingCorrection.objects.get(word="街灯").reading == "まちあかり"
        assert RubySetting.objects.get().grade == 6
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"easyja.reading.added", "easyja.ruby.grade_set"} <= actions
    client.cookies[COOKIE] = "ja-easy"
    page = reverse("requests:public_request", args=[A, world.request.public_code])
    html = client.get(page).content.decode()
    # 「公園の街灯が消えています。」: 街 and 灯 are grade 4, the correction shows anyway
    assert "<ruby>街灯<rt>まちあかり</rt></ruby>" in html
    assert "<ruby>公園" not in html
    preview = staff.post(readings_url(), {"action": "preview", "text": "街灯と通報"})
    assert "<ruby>街灯<rt>まちあかり</rt></ruby>と通報" in preview.content.decode()
    with tenant_context(A):
        pk = ReadingCorrection.objects.get(word="街灯").pk
    assert staff.post(readings_url(), {"action": "delete", "correction": pk}).status_code == 302
    with tenant_context(A):
        assert not ReadingCorrection.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "save", "word": "要望", "reading": "よう<b>"}, "ひらがなかカタカナ"),
        ({"action": "save", "word": "abc", "reading": "えーびーしー"}, "漢字を含む語"),
        ({"action": "save", "word": "", "reading": "よう"}, ""),
        ({"action": "grade", "grade": "9"}, ""),
        ({"action": "delete", "correction": "999"}, "見つかりません"),
        ({"action": "delete", "correction": "x"}, "見つかりません"),
        ({"action": "nothing"}, "操作が分かりません"),
    ],
)
def test_bad_input_changes_nothing(author, signed_in, data, message):
    response = signed_in(author).post(readings_url(), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(A):
        assert not ReadingCorrection.objects.exists() and not RubySetting.objects.exists()


def test_other_roles_and_other_municipalities_are_refused(
    make_staff, municipality_a, municipality_b, signed_in, author
):
    clerk = make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK))
    assert signed_in(clerk).get(readings_url()).status_code == 403
    refused = signed_in(clerk).post(readings_url(), {"action": "grade", "grade": "0"})
    assert refused.status_code == 403
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    assert signed_in(admin).get(readings_url()).status_code == 200
    assert signed_in(author).get(readings_url(B)).status_code in (403, 404)
    with tenant_context(A):
        assert not RubySetting.objects.exists()

"""The page cache in front of Django (machi.site.pagecache): hits, 304s, languages,
invalidation across app instances and processes, what is never stored, the bounds and
tenant isolation. The app under the cache is Django's real WSGI handler on the test
databases."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from machi.site import pagecache, services
from machi.tenancy.context import tenant_alias, tenant_context

from .conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stamps(settings, tmp_path):
    settings.MACHI_PAGE_CACHE_DIR = tmp_path / "stamps"
    return settings.MACHI_PAGE_CACHE_DIR


@pytest.fixture
def django_app(stamps):
    """Django's WSGI handler; the test's transaction stays open across its requests (as
    Django's test client does, the per-request connection clean-up is left out)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_cache(django_app, stamps, clock):
    def make(app=None, **bounds):
        options = {"max_entries": 100, "max_bytes": 8 * 1024 * 1024, "max_age": 30, **bounds}
        return pagecache.PageCache(app or django_app, directory=stamps, clock=clock, **options)

    return make


@pytest.fixture
def cache(make_cache):
    return make_cache()


def call(app, path: str, method: str = "GET", **headers) -> tuple[int, dict[str, str], bytes]:
    environ = RequestFactory().generic(method, path, **headers).environ
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = int(status.split(" ", 1)[0])
        seen["headers"] = {name.lower(): value for name, value in response_headers}

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return seen["status"], seen["headers"], body


def news(title: str, lg_code: str = A):
    with tenant_context(lg_code):
        return services.news_item_publish(
            title={"ja": title, "en": f"{title} (en)"}, body={"ja": "本文"}, category="kurashi",
            published_at=timezone.now(),
        )  # fmt: skip


def committed(django_capture_on_commit_callbacks, lg_code: str = A):
    """Run the callbacks a commit of the tenant's transaction would run."""
    return django_capture_on_commit_callbacks(using=tenant_alias(lg_code), execute=True)


def test_a_repeated_get_is_answered_from_the_cache(municipality_a, cache):
    news("ごみ収集日の変更")
    status, first, body = call(cache, f"/{A}/")
    assert status == 200 and "ごみ収集日の変更" in body.decode()
    assert first["cache-control"].startswith("public") and "age" not in first
    assert cache.stats["miss"] == 1 and cache.stats["stored"] == 1

    status, again, cached = call(cache, f"/{A}/")
    assert (status, cached) == (200, body)
    assert cache.stats["hit"] == 1 and again["age"] == "0"
    assert {k: v for k, v in again.items() if k != "age"} == first

    status, head, nothing = call(cache, f"/{A}/", "HEAD")
    assert (status, nothing) == (200, b"") and head["content-length"] == first["content-length"]
    assert cache.stats["hit"] == 2


def test_every_public_site_view_is_cached_but_not_the_search(municipality_a, cache):
    item = news("防災訓練")
    for path in (f"/{A}/", f"/{A}/pages/kurashi/", f"/{A}/news/", f"/{A}/news/{item.pk}/",
                 f"/{A}/sitemap.xml", f"/{A}/accessibility/"):  # fmt: skip
        assert call(cache, path)[0] == 200
        assert call(cache, path)[0] == 200
    assert cache.stats["stored"] == 6 and cache.stats["hit"] == 6
    call(cache, f"/{A}/search/?q=防災")
    call(cache, f"/{A}/search/?q=防災")
    assert cache.stats["stored"] == 6 and cache.stats["hit"] == 6


def test_304_from_the_cache(municipality_a, cache):
    status, headers, _ = call(cache, f"/{A}/")
    etag, last_modified = headers["etag"], headers["last-modified"]

    status, not_modified, body = call(cache, f"/{A}/", HTTP_IF_NONE_MATCH=etag)
    assert (status, body) == (304, b"")
    assert not_modified["etag"] == etag and "public" in not_modified["cache-control"]
    assert "content-length" not in not_modified and "content-type" not in not_modified
    assert call(cache, f"/{A}/", HTTP_IF_NONE_MATCH=f'"x", W/{etag}')[0] == 304
    assert call(cache, f"/{A}/", HTTP_IF_MODIFIED_SINCE=last_modified)[0] == 304
    assert cache.stats["not_modified"] == 3
    # An old validator gets the whole page; If-None-Match wins over If-Modified-Since.
    assert call(cache, f"/{A}/", HTTP_IF_NONE_MATCH='"old"')[0] == 200
    assert call(cache, f"/{A}/", HTTP_IF_NONE_MATCH='"old"',
                HTTP_IF_MODIFIED_SINCE=last_modified)[0] == 200  # fmt: skip
    assert call(cache, f"/{A}/", HTTP_IF_MODIFIED_SINCE="Thu, 01 Jan 2004 00:00:00 GMT")[0] == 200
    assert cache.stats["miss"] == 1  # all of them from the one stored page


def test_publishing_invalidates_every_instance(
    municipality_a, municipality_b, make_cache, django_capture_on_commit_callbacks
):
    first, second = make_cache(), make_cache()  # two workers: no memory shared
    for app in (first, second):
        call(app, f"/{A}/")
        call(app, f"/{B}/")
        assert call(app, f"/{A}/")[0] == 200
    assert first.stats["hit"] == second.stats["hit"] == 1

    with committed(django_capture_on_commit_callbacks):
        news("臨時休館のお知らせ")
    for app in (first, second):
        status, _, body = call(app, f"/{A}/")
        assert status == 200 and "臨時休館のお知らせ" in body.decode()
        assert app.stats["stale"] == 1
        call(app, f"/{B}/")  # the other municipality's page is still good
        assert app.stats["hit"] == 2


def test_the_stamp_moves_when_the_change_commits(
    municipality_a, cache, stamps, django_capture_on_commit_callbacks
):
    call(cache, f"/{A}/")
    before = pagecache.stamp_read(str(stamps), A)
    with django_capture_on_commit_callbacks(using=tenant_alias(A)) as callbacks:
        news("まだコミット前")
        assert pagecache.stamp_read(str(stamps), A) == before
        assert call(cache, f"/{A}/")[0] == 200 and cache.stats["hit"] == 1
    for callback in callbacks:
        callback()
    assert pagecache.stamp_read(str(stamps), A) != before
    assert "まだコミット前" in call(cache, f"/{A}/")[2].decode()
    assert cache.stats["stale"] == 1


def test_a_change_stamped_by_another_process_invalidates(municipality_a, cache, stamps):
    call(cache, f"/{A}/")
    call(cache, f"/{A}/")
    assert cache.stats["hit"] == 1
    subprocess.run(
        [sys.executable, "-c",
         f"from machi.site.pagecache import stamp_bump; stamp_bump({str(stamps)!r}, {A!r})"],
        check=True,
    )  # fmt: skip
    call(cache, f"/{A}/")
    assert cache.stats["stale"] == 1 and cache.stats["hit"] == 1


def test_stamps_rotate_and_still_move_on(stamps):
    seen = {pagecache.stamp_read(str(stamps), A)}
    for _ in range(pagecache.STAMP_ROTATE_BYTES + 2):
        pagecache.stamp_bump(stamps, A)
        seen.add(pagecache.stamp_read(str(stamps), A))
    assert len(seen) == pagecache.STAMP_ROTATE_BYTES + 3
    assert (stamps / A).stat().st_size < pagecache.STAMP_ROTATE_BYTES
    with pytest.raises(ValueError):
        pagecache.stamp_bump(stamps, "../etc")


def test_languages_are_cached_apart(municipality_a, cache):
    news("お祭り")
    ja = call(cache, f"/{A}/")[2].decode()
    en = call(cache, f"/{A}/", HTTP_COOKIE="django_language=en")[2].decode()
    easy = call(cache, f"/{A}/", HTTP_COOKIE="django_language=ja-easy")[2].decode()
    assert '<html lang="ja"' in ja and "お祭り (en)" not in ja
    assert '<html lang="en"' in en and "お祭り (en)" in en
    assert "easy-ja" in easy and "easy-ja" not in ja
    assert cache.stats["stored"] == 3
    # The same language chosen by Accept-Language is the same page.
    assert call(cache, f"/{A}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")[2].decode() == en
    assert call(cache, f"/{A}/", HTTP_COOKIE="django_language=ja")[2].decode() == ja
    assert cache.stats["hit"] == 2 and cache.stats["stored"] == 3
    # Switching is a redirect that sets the cookie: never stored.
    status, headers, _ = call(cache, f"/{A}/?lang=en")
    assert status == 302 and "set-cookie" in headers
    assert call(cache, f"/{A}/?lang=en")[0] == 302 and cache.stats["stored"] == 3


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_COOKIE": "django_language=en; sessionid=abc"},
        {"HTTP_COOKIE": "csrftoken=abc"},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
    ],
    ids=["session", "session-and-language", "other-cookie", "authorization"],
)
def test_requests_with_credentials_go_straight_to_django(municipality_a, cache, headers):
    call(cache, f"/{A}/")  # the anonymous page is in the cache
    call(cache, f"/{A}/", **headers)
    call(cache, f"/{A}/", **headers)
    assert cache.stats["bypass"] == 2 and cache.stats["hit"] == 0
    assert cache.stats["stored"] == 1


def test_signed_in_staff_never_see_or_fill_the_cache(municipality_a, cache, make_staff, signed_in):
    staff = make_staff(municipality_a, ("koho", "web_author"), username="koho-cache")
    client = signed_in(staff)
    cookie = "; ".join(f"{c.key}={c.value}" for c in client.cookies.values())
    status, headers, body = call(cache, f"/{A}/", HTTP_COOKIE=cookie)
    assert status == 200 and "private" in headers["cache-control"]
    assert "職員ホーム" in body.decode()
    assert cache.stats["stored"] == 0
    assert "職員ホーム" not in call(cache, f"/{A}/")[2].decode()
    assert "職員ホーム" not in call(cache, f"/{A}/")[2].decode()
    assert cache.stats["hit"] == 1


def test_staff_paths_posts_and_errors_are_not_stored(municipality_a, cache):
    for _ in range(2):
        assert call(cache, f"/{A}/site/staff/")[0] == 302  # to the login page
        assert call(cache, f"/{A}/pages/none/")[0] == 404
        assert call(cache, f"/{A}/home/")[0] == 302
        assert call(cache, "/")[0] in (200, 302)
    assert cache.stats["stored"] == 0 and cache.stats["hit"] == 0
    call(cache, f"/{A}/")
    assert call(cache, f"/{A}/", "POST")[0] == 403  # Django's CSRF check, not the page
    assert cache.stats["stored"] == 1 and cache.stats["hit"] == 0


def test_head_and_conditions_it_does_not_evaluate_go_to_django(municipality_a, cache):
    assert call(cache, f"/{A}/", "HEAD")[0] == 200
    assert cache.stats["stored"] == 0  # a HEAD's answer is not stored, a GET's serves it
    call(cache, f"/{A}/")
    call(cache, f"/{A}/", HTTP_IF_MATCH='"x"')
    call(cache, f"/{A}/", HTTP_RANGE="bytes=0-10")
    assert cache.stats["bypass"] == 2 and cache.stats["hit"] == 0


def _answering(**headers):
    """A WSGI app standing in for Django that answers 200 with these headers."""

    def app(environ, start_response):
        response = HttpResponse(b"<p>page</p>")
        for name, value in {"Cache-Control": "public, max-age=60", **headers}.items():
            if value is not None:
                response[name] = value
        start_response("200 OK", list(response.items()))
        return response

    return app


@pytest.mark.parametrize(
    "headers",
    [
        {"Set-Cookie": "sessionid=abc; Path=/"},
        {"Vary": "Cookie"},
        {"Vary": "Accept-Language, Cookie"},
        {"Vary": "*"},
        {"Cache-Control": "private, max-age=60"},
        {"Cache-Control": "public, no-cache"},
        {"Cache-Control": "no-store"},
        {"Cache-Control": None},
        {"Cache-Control": "public, max-age=0"},
        {"Content-Security-Policy": "script-src 'self' 'nonce-abc'"},
    ],
)
def test_responses_django_did_not_mark_shareable_are_not_stored(make_cache, headers):
    cache = make_cache(_answering(**headers))
    call(cache, f"/{A}/")
    call(cache, f"/{A}/")
    assert cache.stats["stored"] == 0 and cache.stats["hit"] == 0


def test_a_shareable_response_of_a_site_view_is_stored(make_cache):
    cache = make_cache(_answering(Vary="Accept-Language, Accept-Encoding"))
    call(cache, f"/{A}/news/")
    assert cache.stats["stored"] == 1
    # The same answer under a URL that is not a site view is not.
    call(cache, f"/{A}/faq/")
    call(cache, f"/{A}/site/staff/")
    assert cache.stats["stored"] == 1


def test_public_pages_carry_no_csp_nonce(municipality_a, cache):
    _, headers, body = call(cache, f"/{A}/")
    assert "'nonce-" not in headers["content-security-policy"]
    assert b"nonce=" not in body


def test_tenants_are_isolated(municipality_a, municipality_b, cache, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    news("千代田のお知らせ", A)
    news("堺のお知らせ", B)
    a_page = call(cache, f"/{A}/")[2].decode()
    b_page = call(cache, f"/{B}/")[2].decode()
    assert "千代田のお知らせ" in a_page and "堺のお知らせ" not in a_page
    assert "堺のお知らせ" in b_page and "千代田のお知らせ" not in b_page
    assert call(cache, f"/{B}/")[2].decode() == b_page
    # Another host is another entry, and one Django refuses is never stored.
    call(cache, f"/{A}/", HTTP_HOST="other.example")
    assert call(cache, f"/{A}/", HTTP_HOST="evil.example")[0] == 400
    assert call(cache, f"/{A}/", HTTP_HOST="evil.example")[0] == 400
    assert cache.stats["stored"] == 3 and cache.stats["hit"] == 1
    # A municipality that does not exist is Django's 404, not stored.
    assert call(cache, "/999999/")[0] == 404
    assert cache.stats["stored"] == 3


def test_entries_expire(municipality_a, cache, clock):
    call(cache, f"/{A}/")
    clock.now += 29
    assert call(cache, f"/{A}/")[1]["age"] == "29"
    clock.now += 1
    call(cache, f"/{A}/")
    assert cache.stats["stale"] == 1 and cache.stats["stored"] == 2


def test_the_cache_is_bounded_by_entries_and_bytes(municipality_a, make_cache):
    by_entries = make_cache(max_entries=2)
    for path in (f"/{A}/", f"/{A}/news/", f"/{A}/accessibility/"):
        call(by_entries, path)
    assert len(by_entries.entries) == 2 and by_entries.stats["evicted"] == 1
    call(by_entries, f"/{A}/news/")
    assert by_entries.stats["hit"] == 1
    call(by_entries, f"/{A}/")  # the least recently used one went
    assert by_entries.stats["stored"] == 4

    size = len(call(by_entries, f"/{A}/")[2])
    by_bytes = make_cache(max_bytes=size * 2 + size // 2, entry_max_bytes=size * 2)
    for path in (f"/{A}/", f"/{A}/news/", f"/{A}/accessibility/", f"/{A}/sitemap.xml"):
        call(by_bytes, path)
    assert by_bytes.bytes <= size * 2 + size // 2
    assert by_bytes.bytes == sum(len(e.body) for e in by_bytes.entries.values())
    too_small = make_cache(entry_max_bytes=size - 1)
    call(too_small, f"/{A}/")
    assert too_small.stats["stored"] == 0


def test_settings_turn_it_on_off_and_size_it(settings, django_app):
    settings.MACHI_PAGE_CACHE = False
    assert pagecache.page_cache_from_settings(django_app) is django_app
    settings.MACHI_PAGE_CACHE = True
    settings.MACHI_PAGE_CACHE_ENTRIES = 5
    settings.MACHI_PAGE_CACHE_MB = 2
    wrapped = pagecache.page_cache_from_settings(django_app)
    assert wrapped.max_entries == 5 and wrapped.max_bytes == 2 * 1024 * 1024
    settings.MACHI_PAGE_CACHE_MAX_AGE = 0
    with pytest.raises(ImproperlyConfigured, match="MACHI_PAGE_CACHE"):
        pagecache.page_cache_from_settings(django_app)


def test_accept_encoding_splits_entries_only_when_django_compresses(
    municipality_a, make_cache, settings
):
    plain = make_cache()
    call(plain, f"/{A}/", HTTP_ACCEPT_ENCODING="gzip, br")
    call(plain, f"/{A}/", HTTP_ACCEPT_ENCODING="identity")
    assert plain.stats["hit"] == 1
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    compressing = make_cache(WSGIHandler())
    _, gzipped, _ = call(compressing, f"/{A}/", HTTP_ACCEPT_ENCODING="gzip")
    _, identity, _ = call(compressing, f"/{A}/", HTTP_ACCEPT_ENCODING="identity")
    assert gzipped["content-encoding"] == "gzip" and "content-encoding" not in identity
    assert compressing.stats["stored"] == 2 and compressing.stats["hit"] == 0
    assert call(compressing, f"/{A}/", HTTP_ACCEPT_ENCODING="gzip")[1] == {**gzipped, "age": "0"}


def test_a_compressed_answer_is_not_stored_without_the_encoding_in_the_key(make_cache):
    cache = make_cache(_answering(**{"Content-Encoding": "gzip"}))
    call(cache, f"/{A}/")
    assert cache.stats["stored"] == 0

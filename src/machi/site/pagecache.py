"""A page cache in front of Django for the anonymous public website (ISSUE 14 benchmarks).

Every request to Django walks the whole middleware stack (sessions, CSP, tenancy, axes…)
before the site's ETag logic can answer: 145 pages or 442 revalidations a second on two
cores. :class:`PageCache` wraps the WSGI application (``machi/wsgi.py``) and answers a
repeated anonymous GET or HEAD of a public site page from memory, 304s included, without
entering Django.

What is stored (all of it, or Django answers and nothing is kept):

* a GET to one of the site's public views (:data:`CACHEABLE_VIEWS`: top page, pages,
  news list and items, sitemap, accessibility policy), whose text is a function of the
  municipality's published content, the URL and the language: that content changes only
  through the services that bump the site state (:func:`site_changed`);
* from a request with no cookie other than the language cookie and no Authorization
  header (a staff session goes straight to Django);
* a 200 that Django itself marked ``Cache-Control: public`` (not private, no-cache or
  no-store), with no ``Set-Cookie``, a ``Vary`` of at most Accept-Language and
  Accept-Encoding, no CSP nonce, and a body within the size bound.

The key holds scheme, host (and the forwarded scheme and host), path, query string, and
the language Django's LocaleMiddleware would choose (language cookie, else
Accept-Language); Accept-Encoding too if Django compresses (GZipMiddleware). A's page
is never served for B: the path names the municipality, and an entry is stored only
when the URL resolved to that municipality's view.

Invalidation, across every worker process: one *stamp file* per municipality in
``MACHI_PAGE_CACHE_DIR``. :func:`site_changed` appends a byte to it when the transaction
that bumped the site state commits; each request reads it with one ``os.stat`` (a few
microseconds) and an entry is served only while the stamp (inode, size, mtime) is the
one read *before* Django rendered it, so a page rendered while a change was committing
is dropped at the next request. Entries also expire after ``MACHI_PAGE_CACHE_MAX_AGE``
seconds (or the response's own max-age, if shorter), which bounds what the stamp does
not cover (a municipality renamed or switched off). The cache is an LRU bounded by
entries and bytes, per worker process.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Site views whose response depends only on the site state, the URL and the language.
# Not the search (FAQ answers change apart from the site), images and files (large,
# immutable by id: browsers keep them a day) nor the announcement feeds (their own
# validator, and CAP alerts expire without any write).
CACHEABLE_VIEWS = frozenset(
    {"site:top", "site:page", "site:news_list", "site:news_detail", "site:sitemap",
     "site:accessibility"}
)  # fmt: skip
LG_PATH = re.compile(r"^/(\d{6})/")
ALLOWED_VARY = frozenset({"accept-language", "accept-encoding"})
# A 304 carries these of the stored response's headers (RFC 9110 15.4.5, as Django).
NOT_MODIFIED_HEADERS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary"}
)
# A stamp file grows by one byte per change; past this it is replaced by a new file (a
# new inode, so the stamp still moves on).
STAMP_ROTATE_BYTES = 4096

Stamp = tuple[int, int, int] | None
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --- the stamps ------------------------------------------------------------------------


def stamp_read(directory: str, lg_code: str) -> Stamp:
    """The municipality's current stamp; None before its first change."""
    try:
        st = os.stat(f"{directory}/{lg_code}")
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def stamp_bump(directory: str | os.PathLike, lg_code: str) -> None:
    """Move the municipality's stamp on: every process's entries for it are stale.

    An appended byte (``O_APPEND`` is atomic between processes) changes the size. If
    another process replaced the file meanwhile (rotation), the byte went to the old
    inode: it is written again to the new file."""
    if not re.fullmatch(r"\d{6}", lg_code):
        raise ValueError(f"not a municipality code: {lg_code!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / lg_code
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".")
            written = os.fstat(fd)
        finally:
            os.close(fd)
        try:
            current = os.stat(path)
        except FileNotFoundError:
            continue
        if current.st_ino == written.st_ino:
            break
    if written.st_size >= STAMP_ROTATE_BYTES:
        fresh = directory / f".{lg_code}.{os.getpid()}.{threading.get_ident()}"
        fresh.write_bytes(b".")
        os.replace(fresh, path)


def site_changed(*, lg_code: str) -> None:
    """Called once the change of a municipality's public site is committed."""
    from django.conf import settings

    try:
        stamp_bump(settings.MACHI_PAGE_CACHE_DIR, lg_code)
    except OSError:
        # The change is committed; cached pages then live out their maximum age.
        logger.exception("page cache stamp of %s not moved on", lg_code)


# --- the cache -------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    status: str
    headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    last_modified: int | None
    stamp: Stamp
    stored: float
    expires: float


class _LanguageProbe:
    """The two attributes Django's ``get_language_from_request`` reads."""

    __slots__ = ("COOKIES", "META")

    def __init__(self, cookies: dict[str, str], meta: dict[str, Any]) -> None:
        self.COOKIES = cookies
        self.META = meta


def _directives(value: str) -> dict[str, str]:
    found = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            found[name.lower()] = argument.strip().strip('"')
    return found


def _etag_matches(header: str, etag: str | None) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    if etag is None:
        return False
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in header.split(","))


class PageCache:
    """WSGI middleware: see the module's docstring. ``clock`` is injected by tests."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        directory: str | os.PathLike,
        max_entries: int,
        max_bytes: int,
        max_age: float,
        entry_max_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from django.conf import settings

        if max_entries < 1 or max_bytes < 1 or max_age <= 0:
            raise ValueError("the page cache needs at least one entry, one byte and one second")
        self.app = app
        self.directory = str(directory)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entry_max_bytes = min(entry_max_bytes or max_bytes // 8 or 1, max_bytes)
        self.max_age = max_age
        self.clock = clock
        self.language_cookie = settings.LANGUAGE_COOKIE_NAME
        # Django sends the same bytes whatever the Accept-Encoding unless it compresses:
        # only then is the header part of the key (else browsers' variants of it would
        # each fill an entry with the same page).
        self.by_encoding = "django.middleware.gzip.GZipMiddleware" in settings.MIDDLEWARE
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
        self.stats = dict.fromkeys(
            ("hit", "not_modified", "miss", "stored", "bypass", "stale", "evicted"), 0
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        method = environ.get("REQUEST_METHOD")
        match = LG_PATH.match(environ.get("PATH_INFO", ""))
        if (
            method not in ("GET", "HEAD")
            or match is None
            or "HTTP_AUTHORIZATION" in environ
            # Conditions and ranges the cache does not evaluate: Django does.
            or "HTTP_IF_MATCH" in environ
            or "HTTP_IF_UNMODIFIED_SINCE" in environ
            or "HTTP_RANGE" in environ
        ):
            return self._bypass(environ, start_response)
        cookies: dict[str, str] = {}
        if raw_cookie := environ.get("HTTP_COOKIE"):
            from django.http.cookie import parse_cookie

            cookies = parse_cookie(raw_cookie)
            if any(name != self.language_cookie for name in cookies):
                return self._bypass(environ, start_response)
        from django.utils.translation import get_language_from_request

        lg_code = match[1]
        key = (
            environ.get("wsgi.url_scheme"), environ.get("HTTP_X_FORWARDED_PROTO"),
            environ.get("HTTP_HOST"), environ.get("HTTP_X_FORWARDED_HOST"),
            environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME", ""), environ["PATH_INFO"], environ.get("QUERY_STRING", ""),
            get_language_from_request(_LanguageProbe(cookies, environ)),
            environ.get("HTTP_ACCEPT_ENCODING", "") if self.by_encoding else None,
        )  # fmt: skip
        stamp = stamp_read(self.directory, lg_code)
        now = self.clock()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                if entry.stamp == stamp and now < entry.expires:
                    self.entries.move_to_end(key)
                else:
                    self._drop(key)
                    self.stats["stale"] += 1
                    entry = None
        if entry is not None:
            return self._serve(entry, environ, start_response, now)
        self.stats["miss"] += 1
        if method != "GET":
            return self.app(environ, start_response)
        return self._render(environ, start_response, key=key, lg_code=lg_code, stamp=stamp,
                            now=now)  # fmt: skip

    def _bypass(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        self.stats["bypass"] += 1
        return self.app(environ, start_response)

    def _serve(self, entry: Entry, environ: dict[str, Any], start_response, now: float):
        age = ("Age", str(max(0, int(now - entry.stored))))
        if self._not_modified(entry, environ):
            self.stats["not_modified"] += 1
            start_response("304 Not Modified", [*entry.not_modified_headers, age])
            return []
        self.stats["hit"] += 1
        start_response(entry.status, [*entry.headers, age])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]

    @staticmethod
    def _not_modified(entry: Entry, environ: dict[str, Any]) -> bool:
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            return _etag_matches(if_none_match, entry.etag)
        if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if if_modified_since and entry.last_modified is not None:
            from django.utils.http import parse_http_date_safe

            since = parse_http_date_safe(if_modified_since)
            return since is not None and entry.last_modified <= since
        return False

    def _render(self, environ, start_response, *, key: tuple, lg_code: str, stamp: Stamp,
                now: float):  # fmt: skip
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        entry = self._entry(result, seen, environ, lg_code=lg_code, stamp=stamp, now=now)
        if entry is not None:
            self._store(key, entry)
        return result

    def _entry(self, result: Any, seen: dict[str, Any], environ: dict[str, Any], *,
               lg_code: str, stamp: Stamp, now: float) -> Entry | None:  # fmt: skip
        from django.http import HttpResponse

        status = seen.get("status", "")
        if not status.startswith("200 ") or not isinstance(result, HttpResponse):
            return None
        headers = seen["headers"]
        by_name: dict[str, str] = {}
        for name, value in headers:
            lowered = name.lower()
            by_name[lowered] = f"{by_name[lowered]}, {value}" if lowered in by_name else value
        if "set-cookie" in by_name or ("content-encoding" in by_name and not self.by_encoding):
            return None
        cache_control = _directives(by_name.get("cache-control", ""))
        if "public" not in cache_control or {"private", "no-cache", "no-store"} & set(
            cache_control
        ):
            return None
        vary = {v.strip().lower() for v in by_name.get("vary", "").split(",") if v.strip()}
        if not vary <= ALLOWED_VARY:
            return None
        # A nonce must be new in every response: a stored one would be reused.
        if "'nonce-" in by_name.get("content-security-policy", ""):
            return None
        body = result.content
        if len(body) > self.entry_max_bytes or not self._site_view(environ, lg_code):
            return None
        lifetime = self.max_age
        for directive in ("s-maxage", "max-age"):
            if directive in cache_control:
                try:
                    lifetime = min(lifetime, int(cache_control[directive]))
                except ValueError:
                    return None
                break
        if lifetime <= 0:
            return None
        last_modified = None
        if "last-modified" in by_name:
            from django.utils.http import parse_http_date_safe

            last_modified = parse_http_date_safe(by_name["last-modified"])
        kept = [(n, v) for n, v in headers if n.lower() not in ("date", "age")]
        return Entry(
            status=status, headers=kept,
            not_modified_headers=[(n, v) for n, v in kept if n.lower() in NOT_MODIFIED_HEADERS],
            body=body, etag=by_name.get("etag"), last_modified=last_modified, stamp=stamp,
            stored=now, expires=now + lifetime,
        )  # fmt: skip

    @staticmethod
    def _site_view(environ: dict[str, Any], lg_code: str) -> bool:
        from django.urls import Resolver404, resolve

        try:
            found = resolve(environ["PATH_INFO"])
        except Resolver404:
            return False
        return found.view_name in CACHEABLE_VIEWS and found.kwargs.get("lg_code") == lg_code

    def _store(self, key: tuple, entry: Entry) -> None:
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = entry
            self.bytes += len(entry.body)
            self.stats["stored"] += 1
            while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self.entries)))
                self.stats["evicted"] += 1

    def _drop(self, key: tuple) -> None:
        self.bytes -= len(self.entries.pop(key).body)


def page_cache_from_settings(app: WSGIApp) -> WSGIApp:
    """``app`` behind the page cache as the settings say (``MACHI_PAGE_CACHE*``), or
    ``app`` itself when it is off."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.MACHI_PAGE_CACHE:
        return app
    try:
        return PageCache(
            app, directory=settings.MACHI_PAGE_CACHE_DIR,
            max_entries=settings.MACHI_PAGE_CACHE_ENTRIES,
            max_bytes=settings.MACHI_PAGE_CACHE_MB * 1024 * 1024,
            max_age=settings.MACHI_PAGE_CACHE_MAX_AGE,
        )  # fmt: skip
    except ValueError as error:
        raise ImproperlyConfigured(f"MACHI_PAGE_CACHE_*: {error}") from error

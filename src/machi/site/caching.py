"""HTTP caching of the public site: ETag, Last-Modified, ``Cache-Control: public`` and
304s, from one validator per municipality (:class:`machi.site.models.SiteState`,
bumped by every change the public can see).

A cached page must be the same for everyone who asks for the same URL in the same
language, so it must not depend on a session or a CSRF token. Visitors without a
session cookie get the shared, cacheable page: the view does not touch the CSRF token,
and the session the middleware looked into (to find there is no staff login) is marked
as untouched, so no ``Vary: Cookie`` and no ``Set-Cookie`` is added. Signed-in staff
(a session cookie) get ``Cache-Control: private, no-cache``: their page has a link
to the staff home.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from machi.site import selectors
from machi.web.decorators import public_view
from machi.web.language import language_switch

MAX_AGE = 60  # seconds a proxy or browser may reuse a page without asking


def is_anonymous(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def cached_public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public GET page of the site with conditional responses. The view's ETag
    names the site's revision, the language, the URL and who asks (shared or staff)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            from django.http import HttpResponseNotAllowed

            return HttpResponseNotAllowed(["GET", "HEAD"])
        switched = language_switch(request)
        if switched is not None:
            return switched
        anonymous = is_anonymous(request)
        revision, changed_at = selectors.site_state()
        language = translation.get_language() or settings.LANGUAGE_CODE
        key = (
            f"{revision}|{language}|{request.get_full_path()}|{'public' if anonymous else 'staff'}"
        )
        etag = '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'
        last_modified = int(changed_at.timestamp()) if changed_at else None
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            response = view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            response["ETag"] = etag
            if last_modified is not None:
                response["Last-Modified"] = http_date(last_modified)
            if anonymous:
                response["Cache-Control"] = f"public, max-age={MAX_AGE}"
            else:
                response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ("Accept-Language",))
        if anonymous and hasattr(request, "session"):
            # Looking whether someone is signed in read an empty session: the page does
            # not depend on it, so it must not say "Vary: Cookie".
            request.session.accessed = False
        return response

    return public_view(wrapper)

"""The resident's language: 日本語, やさしい日本語 and English, switchable on every page.

Residents have no account, so their choice lives in Django's language cookie, which
``LocaleMiddleware`` reads on every later request. Every resident page carries the
switch (``web/_language_switch.html``): three links ``?lang=ja|ja-easy|en``. A view
calls :func:`language_switch` first; with ``?lang=`` it answers a redirect to the same
URL without the parameter (so the address a resident shares or bookmarks carries no
language, and a reload does not switch again) that sets the cookie.

Staff choose their language on their account (``accounts:language``: 日本語 or English),
which wins over the cookie once signed in; やさしい日本語 is for residents only.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import check_for_language, get_language

RESIDENT_LANGUAGES = ("ja", "ja-easy", "en")

COOKIE_MAX_AGE = 365 * 24 * 3600


def html_lang(code: str | None) -> str:
    """The BCP 47 tag for ``lang`` attributes: やさしい日本語 is Japanese to a screen
    reader or a browser's font selection (``ja-easy`` is no valid tag: a variant
    subtag has five to eight letters)."""
    if not code:
        return settings.LANGUAGE_CODE
    return "ja" if code == "ja-easy" else code


def language_switch(request: HttpRequest) -> HttpResponse | None:
    """``?lang=…`` on a resident page: a redirect to the same URL without it that
    remembers the language in the cookie LocaleMiddleware reads; None without
    ``?lang``. An unknown language is ignored (the redirect still drops it)."""
    language = request.GET.get("lang")
    if language is None:
        return None
    rest = request.GET.copy()
    rest.pop("lang", None)
    response = HttpResponseRedirect(request.path + (f"?{rest.urlencode()}" if rest else ""))
    if language in RESIDENT_LANGUAGES and check_for_language(language):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
        # Public pages may be reused by the browser for a while (Cache-Control: public,
        # max-age) and its cache keys them on the URL alone, not on this cookie: without
        # this the redirect would show the page in the language just left.
        response["Clear-Site-Data"] = '"cache"'
    return response


def shown_in_japanese(request: HttpRequest) -> None:
    """For a resident page that exists in Japanese only (its texts come from the
    municipality's Japanese data, e.g. the pre-application navigator): remember the
    resident's language before the view renders in Japanese, so that the switch still
    marks their choice and tells them, in their language, that the page is Japanese."""
    request.resident_language = get_language()

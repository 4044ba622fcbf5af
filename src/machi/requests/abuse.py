"""Limits and blocks on residents' public filing.

Rate limits are counted in Django's cache (as the contact center's,
:mod:`machi.contact.abuse`), per municipality, in fixed one-hour windows, keyed by an
HMAC of the client address or the lower-cased mail address (neither is kept in plain
text). A database table would survive restarts but costs a write per request; a limit
that a restart resets is acceptable for spam control, and a shared cache makes it exact
across workers.

Blocked mail addresses are rows (:class:`~machi.requests.models.BlockedAddress`),
managed with ``machi requests block-address``.
"""

from __future__ import annotations

import datetime
import re

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from machi.requests.models import BlockedAddress
from machi.tenancy.context import current_lg_code

PER_ADDRESS = 5  # requests per client address and hour
PER_EMAIL = 3  # requests per mail address and hour
WINDOW = datetime.timedelta(hours=1)

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def _key(scope: str, value: str) -> str:
    digest = salted_hmac("machi.requests.abuse", value, algorithm="sha256").hexdigest()
    bucket = int(timezone.now().timestamp() // WINDOW.total_seconds())
    return f"machi:requests:{scope}:{current_lg_code()}:{digest}:{bucket}"


def limit_reached(*, address: str, email: str = "") -> bool:
    if int(cache.get(_key("ip", address), 0)) >= PER_ADDRESS:
        return True
    return bool(email) and int(cache.get(_key("mail", email.lower()), 0)) >= PER_EMAIL


def limit_count(*, address: str, email: str = "") -> None:
    keys = [_key("ip", address)] + ([_key("mail", email.lower())] if email else [])
    timeout = int(WINDOW.total_seconds()) + 60
    for key in keys:
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)


def is_blocked(email: str) -> bool:
    return bool(email) and BlockedAddress.objects.filter(email=email.strip().lower()).exists()


def text_problem(text: str) -> str:
    """Why a resident's text is refused ("" if it is fine): markup, or nothing but links."""
    if _TAG.search(text):
        return _("HTML のタグは使えません。普通の文章で書いてください。")
    if text and _URL.search(text) and not _URL.sub("", text).strip():
        return _("URL だけでは受け付けられません。内容を文章で書いてください。")
    return ""


def blocked_address_add(*, email: str, reason: str = "") -> BlockedAddress:
    """Stop a mail address from filing (kept lower-cased)."""
    blocked, _ = BlockedAddress.objects.update_or_create(
        email=email.strip().lower(), defaults={"reason": reason.strip()[:200]}
    )
    return blocked


def blocked_address_remove(*, email: str) -> bool:
    return BlockedAddress.objects.filter(email=email.strip().lower()).delete()[0] > 0

"""Limits on the public event form and the report button.

Counted in Django's cache per municipality in one-hour windows, keyed by an HMAC of the
client address or the mail address, as residents' requests do
(:mod:`machi.requests.abuse`, whose block list of mail addresses and text checks are
reused here: one list for the municipality's public forms).
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from machi.requests.abuse import is_blocked, text_problem
from machi.tenancy.context import current_lg_code

__all__ = ["is_blocked", "limit_count", "limit_reached", "reporter_key", "text_problem"]

LIMITS = {"ip": 5, "mail": 3, "report": 20}  # per hour: submissions per address/mail, reports
WINDOW = datetime.timedelta(hours=1)


def reporter_key(address: str) -> str:
    """Who reported, without keeping the address: the same address gives the same key."""
    return salted_hmac("machi.localevents.reporter", address, algorithm="sha256").hexdigest()


def _key(scope: str, value: str) -> str:
    digest = salted_hmac("machi.localevents.abuse", value, algorithm="sha256").hexdigest()
    bucket = int(timezone.now().timestamp() // WINDOW.total_seconds())
    return f"machi:localevents:{scope}:{current_lg_code()}:{digest}:{bucket}"


def _scoped(scope: str, address: str, email: str) -> list[tuple[str, int]]:
    if scope == "report":
        return [(_key("report", address), LIMITS["report"])]
    keys = [(_key("ip", address), LIMITS["ip"])]
    if email:
        keys.append((_key("mail", email.lower()), LIMITS["mail"]))
    return keys


def limit_reached(*, scope: str, address: str, email: str = "") -> bool:
    return any(int(cache.get(key, 0)) >= limit for key, limit in _scoped(scope, address, email))


def limit_count(*, scope: str, address: str, email: str = "") -> None:
    timeout = int(WINDOW.total_seconds()) + 60
    for key, _limit in _scoped(scope, address, email):
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)

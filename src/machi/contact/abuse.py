"""Limits of the contact center's public pages per client address.

Counted in Django's cache (``CACHES``), per municipality, in fixed windows: the address
is kept only as a keyed hash (HMAC-SHA256 under the secret key; an IPv4 address could be
found back from a plain hash), and a count lives no longer than its window. With the
default local-memory cache each web worker counts on its own, so the limit a client meets
is at most the number of workers times :data:`TICKET_LIMIT`; a shared cache (Redis,
memcached, the database cache) makes it exact. Behind the reverse proxy the address is
the one the proxy saw (``MACHI_PROXY_COUNT``, :mod:`machi.web.middleware`).

* :data:`TICKET_LIMIT` web tickets per address and hour: past it the form is refused
  with 429 and nothing is saved;
* :data:`SEARCH_LOG_LIMIT` logged FAQ searches per address and hour: past it searches
  are still answered but no longer logged, so one script cannot bend the deflection rate.
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from machi.tenancy.context import current_lg_code

TICKET_LIMIT = 5
SEARCH_LOG_LIMIT = 120
WINDOW = datetime.timedelta(hours=1)


def _key(scope: str, address: str) -> str:
    digest = salted_hmac("machi.contact.abuse", address or "", algorithm="sha256").hexdigest()
    bucket = int(timezone.now().timestamp() // WINDOW.total_seconds())
    return f"machi:contact:{scope}:{current_lg_code()}:{digest}:{bucket}"


def limit_reached(*, scope: str, address: str, limit: int) -> bool:
    """Whether ``address`` has used up ``limit`` in the current window (nothing counted)."""
    return int(cache.get(_key(scope, address), 0)) >= limit


def limit_count(*, scope: str, address: str) -> int:
    """Count one more use of ``address`` in the current window; returns the count."""
    key = _key(scope, address)
    cache.add(key, 0, timeout=int(WINDOW.total_seconds()) + 60)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(WINDOW.total_seconds()) + 60)
        return 1

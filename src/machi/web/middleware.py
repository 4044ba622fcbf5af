"""The client's address behind the reverse proxy.

machi runs behind a reverse proxy that terminates HTTPS (docs/operations.md), so the
address a request comes from is the proxy's. Everything that needs the resident's or
staff member's address — the audit log's terminal, django-axes' lockouts, the
pre-application's limit per address — reads ``REMOTE_ADDR``; with every request seeming
to come from 127.0.0.1 the audit log could not tell terminals apart, and one busy hour of
pre-applications would lock everybody out.

With ``MACHI_PROXY_COUNT`` = N (the proxies in front of machi that append the address
they received from to ``X-Forwarded-For``), the client is the N-th address from the
right of that header: whatever a client writes into the header itself stays to the left
and is never believed. 0 (the default) trusts no header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def forwarded_client(forwarded_for: str, proxies: int) -> str | None:
    """The client address that ``proxies`` trusted proxies saw, from an
    ``X-Forwarded-For`` value; None if the header holds no usable address there."""
    if proxies <= 0:
        return None
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    if not hops or len(hops) < proxies:
        return None  # fewer hops than proxies: not a header our proxies wrote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class ForwardedForMiddleware:
    """Sets ``REMOTE_ADDR`` to the client's address (see the module). First in the chain,
    so every later reader (axes, the audit log) sees the same address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proxies = settings.MACHI_PROXY_COUNT
        if proxies:
            header = request.META.get("HTTP_X_FORWARDED_FOR")
            client = forwarded_client(header, proxies) if header else None
            if client is not None:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)

"""The client's address behind the reverse proxy (machi.web.middleware): table tests of
which X-Forwarded-For hop is believed, and the audit log of a real sign-in."""

from __future__ import annotations

import pytest
from django.test import Client

from machi.audit.models import PlatformAuditEntry
from machi.web.middleware import forwarded_client


@pytest.mark.parametrize(
    ("header", "proxies", "client"),
    [
        ("203.0.113.7", 0, None),  # no proxy configured: the header is not believed
        ("203.0.113.7", 1, "203.0.113.7"),
        (" 203.0.113.7 ", 1, "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # the left one is the client's word
        ("198.51.100.1, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),  # two proxies
        ("203.0.113.7, 10.0.0.2", 3, None),  # fewer hops than proxies
        ("2001:db8::1", 1, "2001:db8::1"),
        ("2001:DB8:0:0::1", 1, "2001:db8::1"),  # normalised
        ("unknown", 1, None),
        ("203.0.113.7:51000", 1, None),  # not an address: the proxy's own REMOTE_ADDR stays
        ("", 1, None),
        ("203.0.113.7,", 1, None),  # an empty last hop
    ],
)
def test_which_hop_is_the_client(header, proxies, client):
    assert forwarded_client(header, proxies) == client


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("proxies", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")], ids=["no proxy", "proxy"]
)
def test_the_audit_log_records_the_address_the_proxy_saw(proxies, expected, settings):
    settings.MACHI_PROXY_COUNT = proxies
    Client().post(
        "/login/",
        {"username": "nobody-here", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7",
        REMOTE_ADDR="127.0.0.1",
    )
    entry = PlatformAuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.action.startswith("login")
    assert entry.ip_address == expected

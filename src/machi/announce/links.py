"""Absolute links for what leaves the site (mail, feeds, CAP, ActivityPub, webhooks)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def base() -> str:
    # Required in production (machi.requests.checks.public_url_check).
    return settings.MACHI_PUBLIC_URL or "http://localhost:8000"


def absolute(path: str) -> str:
    return base() + path


def host() -> str:
    return urlsplit(base()).hostname or "localhost"

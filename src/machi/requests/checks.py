"""Deployment checks of the requests app (``machi check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def public_url_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Mail to residents links back to machi: without its public address the links in
    follower mail would point nowhere."""
    url = settings.MACHI_PUBLIC_URL
    if url.startswith("https://"):
        return []
    return [
        Error(
            "MACHI_PUBLIC_URL must be the https address residents reach machi at "
            f"(now {url or 'unset'!r}).",
            hint="Set MACHI_PUBLIC_URL=https://machi.example.jp (docs/configuration.md).",
            id="machi.requests.E001",
        )
    ]

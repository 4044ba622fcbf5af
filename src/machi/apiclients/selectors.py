"""Reads on API clients: the list for the administrator, a client by token."""

from __future__ import annotations

import hashlib
import hmac

from django.db.models import QuerySet

from machi.apiclients.models import ApiClient

TOKEN_PREFIX = "machi_"  # noqa: S105 - the public marker of a machi token
LOOKUP_LENGTH = 8  # random characters after "machi_" kept in clear to find the row


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_lookup_prefix(token: str) -> str | None:
    """The stored lookup prefix of a token, or None when it is not a machi token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) < len(TOKEN_PREFIX) + 32:
        return None
    return token[: len(TOKEN_PREFIX) + LOOKUP_LENGTH]


def apiclient_list() -> QuerySet[ApiClient]:
    """The clients of the municipality in force, newest first (revoked ones included)."""
    return ApiClient.objects.all()


def apiclient_get(*, pk: int) -> ApiClient | None:
    return ApiClient.objects.filter(pk=pk).first()


def apiclient_by_token(*, token: str) -> ApiClient | None:
    """The client of the municipality in force that holds ``token`` (active or not);
    None for an unknown token. The hash is compared in constant time."""
    prefix = token_lookup_prefix(token)
    if prefix is None:
        return None
    client = ApiClient.objects.filter(token_prefix=prefix).first()
    if client is None or not hmac.compare_digest(client.token_hash, token_hash(token)):
        return None
    return client

"""Writes on API clients: create (the token is returned once), revoke, note use."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from machi.apiclients.models import ApiClient, Scope
from machi.apiclients.selectors import LOOKUP_LENGTH, TOKEN_PREFIX, token_hash
from machi.audit.services import Terminal, audit_append
from machi.tenancy.context import current_tenant_alias

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # shown once, never stored


def expiry_end_of_day(day: datetime.date) -> datetime.datetime:
    """A token "valid until 2027-03-31" works through that whole day, local time."""
    following = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(following, timezone.get_current_timezone())


def scopes_parse(scopes: Iterable[str]) -> list[str]:
    """Known scopes, in their canonical order; ValidationError naming any unknown one."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(Scope.values))
    if unknown:
        raise ValidationError(
            "不明な権限です: %(unknown)s（使えるもの: %(known)s）",
            params={"unknown": ", ".join(unknown), "known": ", ".join(Scope.values)},
            code="scope",
        )
    if not wanted:
        raise ValidationError("権限を1つ以上指定してください。", code="scope")
    return [s for s in Scope.values if s in wanted]


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits, 43 characters


def apiclient_create(
    *,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime.datetime | None = None,
    actor: Any | None = None,
    terminal: Terminal | None = None,
) -> NewClient:
    """Register a client of the municipality in force; the token is in the result only."""
    name = name.strip()
    if not name:
        raise ValidationError("名称を入力してください。", code="name")
    scope_list = scopes_parse(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("有効期限は未来の日時にしてください。", code="expires")
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        while True:
            token = _new_token()
            prefix = token[: len(TOKEN_PREFIX) + LOOKUP_LENGTH]
            if not ApiClient.objects.filter(token_prefix=prefix).exists():
                break
        client = ApiClient.objects.create(
            name=name[:100],
            scopes=scope_list,
            token_prefix=prefix,
            token_hash=token_hash(token),
            created_by_id=getattr(actor, "pk", None),
            created_by_username=getattr(actor, "username", "") or "",
            expires_at=expires_at,
        )
        audit_append(
            action="apiclient.created",
            actor=actor,
            object_type="api_client",
            object_id=str(client.pk),
            function="apiclients",
            terminal=terminal,
            detail={
                "name": client.name,
                "scopes": scope_list,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "token_prefix": prefix,
            },
        )
    return NewClient(client=client, token=token)


def apiclient_revoke(
    *, client: ApiClient, actor: Any | None = None, terminal: Terminal | None = None
) -> ApiClient:
    """Revoke at once: every later call with the token gets 401. Revoking twice is a no-op."""
    if client.revoked_at is not None:
        return client
    using = current_tenant_alias()
    with transaction.atomic(using=using):
        client.revoked_at = timezone.now()
        client.revoked_by_username = getattr(actor, "username", "") or ""
        ApiClient.objects.filter(pk=client.pk).update(
            revoked_at=client.revoked_at, revoked_by_username=client.revoked_by_username
        )
        audit_append(
            action="apiclient.revoked",
            actor=actor,
            object_type="api_client",
            object_id=str(client.pk),
            function="apiclients",
            terminal=terminal,
            detail={"name": client.name, "token_prefix": client.token_prefix},
        )
    return client


def apiclient_touch(*, client: ApiClient, now: datetime.datetime | None = None) -> None:
    """Note that the client was used: at most one write a minute, not one per call."""
    now = now or timezone.now()
    if client.last_used_at is not None and now - client.last_used_at < LAST_USED_RESOLUTION:
        return
    client.last_used_at = now
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)

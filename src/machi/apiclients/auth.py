"""Authentication of API calls (django-ninja): a client's Bearer token or a staff session.

``ApiClientBearer(scope)`` resolves ``Authorization: Bearer machi_…`` in the database of
the municipality named by the URL only (TenantMiddleware has put it in force), so a
token of municipality A at B's URL is simply unknown there: 401. Revoked and expired
tokens get 401 with a message; a client without the endpoint's scope gets 403 naming
it. Refusals of a known client are audited; successful calls are audited by the
endpoint (what was read). Endpoints that also accept staff list ``StaffSession(...)``
second: it is consulted only when no Authorization header is sent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer

from machi.apiclients.models import ApiClient
from machi.apiclients.selectors import apiclient_by_token
from machi.apiclients.services import apiclient_touch
from machi.audit.services import Terminal, audit_append


def _refuse(request: HttpRequest, client: ApiClient, reason: str, **detail: Any) -> None:
    audit_append(
        action="api.refused",
        actor=client,
        object_type="api_client",
        object_id=str(client.pk),
        function=f"api:{request.method} {request.path}"[:100],
        terminal=Terminal.from_request(request),
        detail={"reason": reason, **detail},
    )


class ApiClientBearer(HttpBearer):
    """A registered API client of the URL's municipality holding ``scope``."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiClient | None:
        # Our own parsing: ninja's logs an unexpected header in debug mode (a token).
        value = request.headers.get(self.header)
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise AuthenticationError(401, "Authorization ヘッダーは Bearer 形式にしてください。")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient:
        if getattr(request, "municipality", None) is None:
            raise AuthenticationError(401, "自治体コードを含む URL で呼び出してください。")
        client = apiclient_by_token(token=token)
        if client is None:
            raise AuthenticationError(
                401, "トークンが正しくありません（この自治体に登録されたトークンではありません）。"
            )
        if client.revoked_at is not None:
            _refuse(request, client, "revoked")
            raise AuthenticationError(401, "このトークンは失効しています（revoked）。")
        if client.is_expired():
            _refuse(request, client, "expired")
            raise AuthenticationError(401, "このトークンは有効期限が切れています（expired）。")
        if not client.has_scope(self.scope):
            _refuse(request, client, "scope", scope=self.scope)
            raise AuthorizationError(
                403, f"この API には権限 {self.scope} が必要です（missing scope: {self.scope}）。"
            )
        apiclient_touch(client=client)
        return client


class StaffSession(APIKeyCookie):
    """A signed-in staff member (password and TOTP) of the URL's municipality holding one
    of ``roles`` (CSRF-checked for unsafe methods, like every session API)."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self, *roles: str) -> None:
        super().__init__()
        self.roles = roles

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        municipality = getattr(request, "municipality", None)
        if (
            user.is_authenticated
            and user.is_verified()
            and not user.is_platform_operator
            and municipality is not None
            and user.municipality_id == municipality.pk
            and user.has_role(*self.roles)
        ):
            # The staff member, not request.user's lazy proxy: the services read the
            # actor's fields for every row they write (~100 lookups an intake).
            return getattr(user, "_wrapped", user)
        return None


def is_api_client(actor: Any) -> bool:
    return isinstance(actor, ApiClient)

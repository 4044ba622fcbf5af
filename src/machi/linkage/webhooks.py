"""Webhook messages: CloudEvents in structured JSON, signed per Standard Webhooks, POSTed.

Headers of every request (https://www.standardwebhooks.com/):

* ``webhook-id``: the event id (CloudEvents ``id``), the receiver's idempotency key;
* ``webhook-timestamp``: seconds since the epoch when the request was signed;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``
  under the subscription's secret (``whsec_`` + base64 of the key bytes);
* ``content-type: application/cloudevents+json; charset=utf-8``.

Sending uses the standard library (``http.client``) to the address the URL policy
checked (``urlpolicy``): no redirects are followed, any 2xx is success, anything else
(other status, a refused address, any connection failure) a failure.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from machi.linkage.urlpolicy import (
    Resolver,
    WebhookHostUnresolved,
    WebhookTarget,
    WebhookUrlRefused,
    webhook_target,
)

logger = logging.getLogger("machi.linkage.webhooks")

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "machi-webhooks/1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
#: The type of the signed test event a new subscription's URL must answer with a 2xx.
VERIFICATION_TYPE = "jp.machi.webhook.verification"
MAX_URL_LENGTH = 500
#: The one error of every connection failure, whatever happened (see ``send``).
CONNECTION_FAILED = "送信先に接続できませんでした"
#: The error of a send the URL policy refused (the address is not named).
POLICY_REFUSED = "送信先のアドレスは許可されていません"


def secret_generate() -> str:
    """A new secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not acceptable (``None`` when it is)."""
    if not secret.startswith(SECRET_PREFIX):
        return "署名鍵は whsec_ で始まる形式で指定してください。"
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "署名鍵の whsec_ に続く部分が base64 ではありません。"
    if not 24 <= len(key) <= 64:
        return "署名鍵は24～64バイトの鍵を base64 にしたものにしてください。"
    return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks (``None`` when it can)."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL が長すぎます（{MAX_URL_LENGTH}文字まで）。"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "URL の形式が正しくありません。"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "URL は http:// または https:// で始まり、ホスト名を含めてください。"
    if parts.username or parts.password:
        return "URL に利用者名やパスワードを含めないでください（署名で認証します）。"
    if parts.fragment:
        return "URL に # 以降（フラグメント）は使えません。"
    if port == 0:
        return "URL のポート番号が正しくありません。"
    if any(ch.isspace() for ch in url):
        return "URL に空白は使えません。"
    return None


def body_of(cloudevent: dict[str, Any]) -> str:
    """The request body: the CloudEvent as compact JSON (UTF-8, keys in a fixed order)."""
    return json.dumps(cloudevent, ensure_ascii=False, separators=(",", ":"))


@cache
def webhook_for(secret: str) -> Webhook:
    return Webhook(secret)


def signed_headers(*, secret: str, msg_id: str, body: str, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    signature = webhook_for(secret).sign(msg_id=msg_id, timestamp=now, data=body)
    return {
        "content-type": CONTENT_TYPE,
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def verification_event(*, lg_code: str, subscription_name: str) -> dict[str, Any]:
    """The signed test event sent to a URL before a subscription is saved."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/municipalities/{lg_code}",
        "type": VERIFICATION_TYPE,
        "subject": "",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": {"subscription": subscription_name},
    }


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the policy checked, not to whatever the name resolves
    to now (no second lookup: DNS rebinding)."""

    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def _socket(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = self._socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the pinned address; server name (SNI) and certificate check for the host."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, target: WebhookTarget, *, timeout: float, context: ssl.SSLContext):
        super().__init__(target, timeout=timeout)
        self.context = context

    def connect(self) -> None:
        self.sock = self.context.wrap_socket(self._socket(), server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's trust store (tests replace this)."""
    return ssl.create_default_context()


def send(
    *,
    url: str,
    secret: str,
    msg_id: str,
    body: str,
    timeout: float,
    resolver: Resolver | None = None,
) -> SendResult:
    """POST one signed message; never raises for network trouble (see ``SendResult``).

    The URL is checked against the policy (``urlpolicy``) at every send: what a name
    resolves to can change after the subscription was verified. Every connection
    failure (no address, refused, timeout, reset, TLS) gives the same ``error``
    (``CONNECTION_FAILED``): a message that differed would map the ports of whatever
    the URL points at. What happened is logged for the operator only.
    """
    started = time.monotonic()
    try:
        target = webhook_target(url, resolver=resolver)
    except WebhookUrlRefused as refused:
        logger.warning("webhook to %s refused by the URL policy: %s", _host(url), refused.detail)
        return SendResult(None, POLICY_REFUSED, time.monotonic() - started)
    except WebhookHostUnresolved as unresolved:
        logger.warning("webhook to %s not sent: %s", _host(url), unresolved)
        return SendResult(None, CONNECTION_FAILED, time.monotonic() - started)
    payload = body.encode()
    headers = signed_headers(secret=secret, msg_id=msg_id, body=body)
    headers["content-length"] = str(len(payload))
    headers["host"] = target.host_header
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout=timeout, context=tls_context())
    else:
        connection = _PinnedHTTPConnection(target, timeout=timeout)
    try:
        connection.request("POST", target.path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the receiver's answer is not kept
        status, error = response.status, ""
        if not 200 <= status < 300:
            error = f"HTTP {status}"  # 3xx too: redirects are not followed
    except (OSError, http.client.HTTPException) as problem:  # timeouts and TLS included
        logger.warning(
            "webhook to %s (%s port %s) failed: %s: %s",
            target.host,
            target.address,
            target.port,
            problem.__class__.__name__,
            str(problem)[:200],
        )
        status, error = None, CONNECTION_FAILED
    finally:
        connection.close()
    return SendResult(status_code=status, error=error, seconds=time.monotonic() - started)


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"

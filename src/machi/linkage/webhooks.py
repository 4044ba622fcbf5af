"""Webhook messages: CloudEvents in structured JSON, signed per Standard Webhooks, POSTed.

Headers of every request (https://www.standardwebhooks.com/):

* ``webhook-id``: the event id (CloudEvents ``id``), the receiver's idempotency key;
* ``webhook-timestamp``: seconds since the epoch when the request was signed;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``
  under the subscription's secret (``whsec_`` + base64 of the key bytes);
* ``content-type: application/cloudevents+json; charset=utf-8``.

Sending uses the standard library (``http.client``): no redirects are followed, any
2xx is success, anything else (other status, timeout, refused connection) a failure.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import secrets
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "machi-webhooks/1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
#: The type of the signed test event a new subscription's URL must answer with a 2xx.
VERIFICATION_TYPE = "jp.machi.webhook.verification"
MAX_URL_LENGTH = 500


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


def send(*, url: str, secret: str, msg_id: str, body: str, timeout: float) -> SendResult:
    """POST one signed message; never raises for network trouble (see ``SendResult``)."""
    started = time.monotonic()
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    payload = body.encode()
    headers = signed_headers(secret=secret, msg_id=msg_id, body=body)
    headers["content-length"] = str(len(payload))
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the receiver's answer is not kept
        status, error = response.status, ""
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except TimeoutError:
        status, error = None, "timeout"
    except ConnectionRefusedError:
        status, error = None, "connection refused"
    except ssl.SSLError as problem:
        status, error = None, f"TLS: {problem.reason or problem.__class__.__name__}"
    except (OSError, http.client.HTTPException) as problem:
        status, error = None, f"{problem.__class__.__name__}: {problem}"[:300]
    finally:
        connection.close()
    return SendResult(status_code=status, error=error, seconds=time.monotonic() - started)

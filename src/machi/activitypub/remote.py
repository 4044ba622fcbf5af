"""HTTP to other servers: actor documents fetched, activities POSTed, both signed.

Every URL comes from someone else's document, so it goes through the webhooks' URL
policy (``machi.linkage.urlpolicy``: https only, no internal addresses, the one address
resolved is the one connected to). Redirects are never followed, answers are read up
to a size cap, and every request has a short timeout.
"""

from __future__ import annotations

import http.client
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from machi.activitypub import httpsig
from machi.linkage.urlpolicy import (
    WebhookHostUnresolved,
    WebhookUrlRefused,
    webhook_target,
)
from machi.linkage.webhooks import _PinnedHTTPConnection, _PinnedHTTPSConnection, tls_context

logger = logging.getLogger("machi.activitypub")

ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
USER_AGENT = "machi (ActivityPub)"
FETCH_TIMEOUT = 5.0
FETCH_MAX_BYTES = 1024 * 1024
POST_TIMEOUT = 10.0


class RemoteError(Exception):
    """A remote document could not be had (the reason is for the operator log)."""


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key: RSAPrivateKey


@dataclass(frozen=True)
class PostResult:
    status: int | None  # None: no answer (refused by the policy, connection failure)
    error: str


def _connection(url: str, timeout: float):
    target = webhook_target(url)
    if target.scheme == "https":
        return target, _PinnedHTTPSConnection(target, timeout=timeout, context=tls_context())
    return target, _PinnedHTTPConnection(target, timeout=timeout)


def fetch_json(url: str, *, signer: Signer | None = None, timeout: float = FETCH_TIMEOUT) -> dict:
    """GET an ActivityPub document (signed when ``signer``: servers in authorized-fetch
    mode answer only signed requests). Raises ``RemoteError``."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise RemoteError("not an http(s) URL")
    try:
        target, connection = _connection(url, timeout)
    except (WebhookUrlRefused, WebhookHostUnresolved, ValueError) as error:
        raise RemoteError(f"{_host(url)}: {getattr(error, 'detail', error)}") from None
    headers = {"accept": f"{ACTIVITY_JSON}, {LD_JSON}", "user-agent": USER_AGENT}
    if signer is not None:
        headers.update(
            httpsig.sign(
                method="GET",
                path=target.path,
                host=target.host_header,
                key_id=signer.key_id,
                private_key=signer.private_key,
            )
        )
    headers["host"] = target.host_header
    try:
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise RemoteError(f"{target.host}: HTTP {response.status}")
        body = response.read(FETCH_MAX_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        raise RemoteError(f"{target.host}: {error.__class__.__name__}") from None
    finally:
        connection.close()
    if len(body) > FETCH_MAX_BYTES:
        raise RemoteError(f"{target.host}: document over {FETCH_MAX_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError:
        raise RemoteError(f"{target.host}: not JSON") from None
    if not isinstance(document, dict):
        raise RemoteError(f"{target.host}: not a JSON object")
    return document


def post_activity(
    url: str, *, body: bytes, signer: Signer, timeout: float = POST_TIMEOUT
) -> PostResult:
    """POST one signed activity; never raises for network trouble."""
    try:
        target, connection = _connection(url, timeout)
    except WebhookUrlRefused as refused:
        logger.warning("inbox at %s refused by the URL policy: %s", _host(url), refused.detail)
        return PostResult(None, "refused by the URL policy")
    except (WebhookHostUnresolved, ValueError) as error:
        logger.warning("inbox at %s not reached: %s", _host(url), error)
        return PostResult(None, "connection failed")
    headers = httpsig.sign(
        method="POST",
        path=target.path,
        host=target.host_header,
        key_id=signer.key_id,
        private_key=signer.private_key,
        body=body,
    )
    headers.update(
        {
            "content-type": ACTIVITY_JSON,
            "content-length": str(len(body)),
            "user-agent": USER_AGENT,
        }
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the answer is not kept
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        logger.warning("inbox at %s failed: %s", target.host, error.__class__.__name__)
        return PostResult(None, "connection failed")
    finally:
        connection.close()
    return PostResult(status, "" if 200 <= status < 300 else f"HTTP {status}")


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"

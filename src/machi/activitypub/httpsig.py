"""HTTP Signatures as Mastodon speaks them (draft-cavage-http-signatures-12).

Outgoing requests are signed with rsa-sha256 over ``(request-target) host date`` and,
with a body, ``digest`` (``Digest: SHA-256=<base64>``). Incoming ones are checked the
same way: the ``Signature`` header's parameters, the signing string rebuilt from the
headers it names (which must include ``(request-target)``, ``host``, ``date`` and, for a
body, ``digest``), the ``Date`` inside the window and the ``Digest`` against the body.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.utils import timezone

#: Mastodon's own margins: a signature is good for hours (queued deliveries), and
#: clocks may be off by one hour either way.
MAX_AGE = timedelta(hours=12)
CLOCK_SKEW = timedelta(hours=1)
REQUIRED_HEADERS = ("(request-target)", "host", "date")
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureError(Exception):
    """The request's signature is missing or does not hold (the reason is for the log)."""


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def signing_string(names: list[str], *, method: str, path: str, headers: Mapping[str, str]) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path}")
        else:
            value = headers.get(name)
            if value is None:
                raise SignatureError(f"signed header {name} missing")
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


def sign(
    *,
    method: str,
    path: str,
    host: str,
    key_id: str,
    private_key: RSAPrivateKey,
    body: bytes | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers (``Host``, ``Date``, ``Digest``, ``Signature``) for one request."""
    headers = {"host": host, "date": http_date(now or timezone.now())}
    names = list(REQUIRED_HEADERS)
    if body is not None:
        headers["digest"] = digest_header(body)
        names.append("digest")
    text = signing_string(names, method=method, path=path, headers=headers)
    signature = private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


@dataclass(frozen=True)
class ParsedSignature:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes


def signature_parse(value: str) -> ParsedSignature:
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise SignatureError("Signature header is malformed")
        params[match[1].lower()] = match[2]
        position = match.end()
    if "keyid" not in params or "signature" not in params:
        raise SignatureError("Signature header lacks keyId or signature")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError:
        raise SignatureError("signature is not base64") from None
    names = params.get("headers", "date").lower().split()
    return ParsedSignature(
        key_id=params["keyid"],
        algorithm=params.get("algorithm", "rsa-sha256").lower(),
        headers=names,
        signature=signature,
    )


def precheck(
    *, headers: Mapping[str, str], body: bytes, now: datetime | None = None
) -> ParsedSignature:
    """Everything that needs no key: the header's form, what it covers, Date, Digest.

    ``headers`` maps lower-case names to values.
    """
    value = headers.get("signature")
    if not value:
        raise SignatureError("no Signature header")
    parsed = signature_parse(value)
    # hs2019 is what newer servers call the same RSA-SHA256 signature.
    if parsed.algorithm not in ("rsa-sha256", "hs2019"):
        raise SignatureError(f"algorithm {parsed.algorithm[:20]} not supported")
    needed = [*REQUIRED_HEADERS, "digest"] if body else list(REQUIRED_HEADERS)
    for name in needed:
        if name not in parsed.headers:
            raise SignatureError(f"{name} is not signed")
    try:
        date = parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError):
        raise SignatureError("Date header is malformed") from None
    if date.tzinfo is None:
        raise SignatureError("Date header has no zone")
    now = now or timezone.now()
    if date < now - MAX_AGE - CLOCK_SKEW or date > now + CLOCK_SKEW:
        raise SignatureError("Date outside the window")
    if body or "digest" in parsed.headers:
        _digest_check(headers.get("digest", ""), body)
    return parsed


def _digest_check(value: str, body: bytes) -> None:
    for part in value.split(","):
        algorithm, _, encoded = part.strip().partition("=")
        if algorithm.lower() == "sha-256":
            if encoded != digest_header(body).partition("=")[2]:
                raise SignatureError("Digest does not match the body")
            return
    raise SignatureError("no SHA-256 Digest")


def verify(
    parsed: ParsedSignature,
    *,
    public_key: RSAPublicKey,
    method: str,
    path: str,
    headers: Mapping[str, str],
) -> None:
    text = signing_string(parsed.headers, method=method, path=path, headers=headers)
    try:
        public_key.verify(parsed.signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError("signature does not verify") from None

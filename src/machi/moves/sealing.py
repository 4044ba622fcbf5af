"""Sealing a reservation's personal data at rest (AES-256-GCM, like the My Number).

The key is derived with HKDF-SHA256 from the same secret as the My Number's
(``MACHI_MY_NUMBER_KEY`` or the data directory's key file) but with its own label, so
a reservation token can never be opened as a My Number or the other way round.
Token: ``r1:`` + URL-safe base64 of (12-byte random nonce ‖ ciphertext ‖ tag).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from machi.registry.mynumber import _secret

PREFIX = "r1:"
_AAD = b"machi.moves.reservation"
_INFO = b"machi moves reservation AES-256-GCM v1"
_NONCE = 12


@cache
def _aead() -> AESGCM:
    material = base64.urlsafe_b64decode(_secret())
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return AESGCM(key)


def seal(value: Any) -> str:
    """JSON-encode ``value`` and encrypt it."""
    nonce = os.urandom(_NONCE)
    plain = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return PREFIX + base64.urlsafe_b64encode(nonce + _aead().encrypt(nonce, plain, _AAD)).decode()


def unseal(token: str) -> Any:
    """Decrypt a token made by ``seal``; callers audit the read."""
    if not token.startswith(PREFIX):
        raise ValueError("転入予約のデータを復号できません（形式が違います）。")
    try:
        blob = base64.urlsafe_b64decode(token[len(PREFIX) :])
        plain = _aead().decrypt(blob[:_NONCE], blob[_NONCE:], _AAD)
    except (InvalidTag, binascii.Error, ValueError):
        raise ValueError(
            "転入予約のデータを復号できません（鍵が違うか、値が壊れています）。"
        ) from None
    return json.loads(plain)

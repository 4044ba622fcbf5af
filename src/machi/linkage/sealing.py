"""Webhook secrets at rest: sealed with AES-256-GCM, like the My Number.

The key is derived with HKDF-SHA256 from the same secret as the My Number's
(``MACHI_MY_NUMBER_KEY`` or the data directory's key file, see
``machi.registry.mynumber``) under its own label and associated data, so a webhook
secret token can never be opened as a My Number or the other way round.
Token: ``w1:`` + URL-safe base64 of (12-byte random nonce ‖ ciphertext ‖ 16-byte tag).
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from machi.registry.mynumber import _secret

PREFIX = "w1:"
_AAD = b"machi.linkage.webhook_secret"
_INFO = b"machi linkage webhook secret AES-256-GCM v1"
_NONCE = 12
_ERROR = "署名鍵を復号できません（鍵が違うか、値が壊れています）。"


@cache
def _aead() -> AESGCM:
    material = base64.urlsafe_b64decode(_secret())
    if len(material) != 32:
        raise ValueError("MACHI_MY_NUMBER_KEY は32バイトの base64 でなければなりません")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return AESGCM(key)


def secret_seal(secret: str) -> str:
    nonce = os.urandom(_NONCE)  # random per token: a repeated nonce breaks GCM
    sealed = _aead().encrypt(nonce, secret.encode(), _AAD)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def secret_open(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError(_ERROR)
    try:
        blob = base64.urlsafe_b64decode(token[len(PREFIX) :])
        if len(blob) <= _NONCE + 16:
            raise ValueError("too short")
        plain = _aead().decrypt(blob[:_NONCE], blob[_NONCE:], _AAD)
    except (InvalidTag, binascii.Error, ValueError):
        raise ValueError(_ERROR) from None
    return plain.decode()

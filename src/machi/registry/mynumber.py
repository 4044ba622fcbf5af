"""The My Number (個人番号) at rest: encrypted, never in logs, revealed only when audited.

The key is MACHI_MY_NUMBER_KEY (32 random bytes, URL-safe base64 — the form of a
Fernet key), else one generated once into $MACHI_DATA_DIR/my_number.key (mode 0600).
Every application server and worker must use the same key; losing it makes the
stored numbers unreadable (back it up apart from the databases).

A number is sealed with AES-256-GCM (authenticated: a wrong key or a changed token is
refused) under a key derived from that secret with HKDF-SHA256; the token is
``g1:`` + URL-safe base64 of (12-byte random nonce ‖ ciphertext ‖ 16-byte tag).
Tokens written before (Fernet, ``gAAAA…``) are still read with the same secret.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from machi.japanese import validate_my_number

PREFIX = "g1:"
_AAD = b"machi.registry.my_number"
_HKDF_INFO = b"machi my_number AES-256-GCM v1"
_NONCE_BYTES = 12
_ERROR = "個人番号を復号できません（鍵が違うか、値が壊れています）。"


def _secret() -> bytes:
    key = os.environ.get("MACHI_MY_NUMBER_KEY")
    if not key:
        path = settings.DATA_DIR / "my_number.key"
        if path.exists():
            key = path.read_text().strip()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key().decode()  # 32 random bytes, URL-safe base64
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
    return key.encode() if isinstance(key, str) else key


@cache
def _fernet() -> Fernet:
    """The legacy cipher (tokens sealed before AES-GCM); reading only."""
    return Fernet(_secret())


@cache
def _aead() -> AESGCM:
    try:
        material = base64.urlsafe_b64decode(_secret())
    except (binascii.Error, ValueError) as error:
        raise ValueError("MACHI_MY_NUMBER_KEY は32バイトの base64 でなければなりません") from error
    if len(material) != 32:
        raise ValueError("MACHI_MY_NUMBER_KEY は32バイトの base64 でなければなりません")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(material)
    return AESGCM(key)


def my_number_sealer() -> Callable[[str], str]:
    """A function sealing numbers that are already valid (checked by the caller with
    ``validate_my_number``): the bulk path of the migration import. '' stays ''."""
    encrypt = _aead().encrypt
    urandom = os.urandom
    encode = base64.urlsafe_b64encode

    def seal(number: str) -> str:
        if not number:
            return ""
        nonce = urandom(_NONCE_BYTES)  # random per token: a repeated nonce breaks GCM
        return PREFIX + encode(nonce + encrypt(nonce, number.encode(), _AAD)).decode()

    return seal


def my_number_seal(number: str) -> str:
    """Validate (DOMAIN.md §2) and encrypt; '' stays ''."""
    if not number:
        return ""
    return my_number_sealer()(validate_my_number(number))


def my_number_open(sealed: str) -> str:
    """Decrypt a stored My Number. Callers must audit the reveal (registry.selectors)."""
    if not sealed:
        return ""
    if sealed.startswith(PREFIX):
        try:
            blob = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
            if len(blob) <= _NONCE_BYTES + 16:
                raise ValueError("too short")
            plain = _aead().decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _AAD)
        except (InvalidTag, binascii.Error, ValueError):
            raise ValueError(_ERROR) from None
        return plain.decode()
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise ValueError(_ERROR) from error


def mask(sealed: str) -> str:
    return "●●●● ●●●● ●●●●" if sealed else ""

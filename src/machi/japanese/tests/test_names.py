"""DOMAIN.md §4: search keys, フリガナ, the variant table, storage as given."""

from __future__ import annotations

import unicodedata

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import (
    kana_key,
    kanji_key,
    representative,
    strip_variation_selectors,
    to_katakana_fullwidth,
    variant_family,
)
from machi.japanese.variants import (
    CURATED,
    build_variant_table,
    in_jisx0208,
    load_kyujitai,
    load_variant_table,
)

TSUKA_COMPAT = "\ufa10"  # 塚 U+FA10
TSUKA = "\u585a"  # 塚 U+585A
YOSHI = "\U00020bb7"  # 𠮷
IVS = "\U000e0100"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋", "高橋"),
        ("山﨑", "山崎"),
        ("山嵜", "山崎"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("齋藤", "斎藤"),
        (YOSHI + "田", "吉田"),
        (TSUKA_COMPAT, TSUKA),
        ("大" + TSUKA_COMPAT, "大塚"),
        ("葛" + IVS + "城", "葛城"),
        ("高\ufe00橋", "高橋"),
        ("高橋　一郎", "高橋一郎"),
        ("高橋 一郎", "高橋一郎"),
        ("ＡＢＣ", "ABC"),
        ("國分", "国分"),
    ],
)
def test_kanji_key_pairs(a: str, b: str) -> None:
    assert kanji_key(a) == kanji_key(b)


@pytest.mark.parametrize(("variant", "rep"), sorted(CURATED.items()))
def test_curated_list_is_covered(variant: str, rep: str) -> None:
    assert representative(variant) == rep
    assert kanji_key(variant) == kanji_key(rep) == rep
    assert variant in variant_family(rep)


def test_sai_families_stay_apart() -> None:
    assert kanji_key("齋藤") == kanji_key("斎藤")
    assert kanji_key("齊藤") == kanji_key("斉藤")
    assert kanji_key("斎藤") != kanji_key("斉藤")
    assert kanji_key("齋藤") != kanji_key("斉藤")
    assert variant_family("斎").isdisjoint(variant_family("斉"))
    assert representative("斎") == "斎" and representative("斉") == "斉"
    # a kana search finds all four
    assert len({kana_key(k) for k in ["サイトウ", "さいとう", "ｻｲﾄｳ", "サイトー"]}) == 1


def test_kanji_key_does_not_merge_unrelated_jis_characters() -> None:
    # MJ 縮退 candidates of JIS X 0208 characters are not used (玉 → 王 etc.)
    for a, b in [("玉", "王"), ("着", "著"), ("師", "帥"), ("切", "功"), ("寿", "壽")]:
        assert representative(a) != representative(b) or (a, b) == ("寿", "壽")
    assert representative("壽") == "寿"  # the 常用漢字表 pair, new form wins
    assert representative("籐") == "籐"  # 籘 → 藤 (curated) does not drag 籐 along


def test_variant_table_is_idempotent() -> None:
    table = load_variant_table()
    assert len(table) > 10_000
    for variant, rep in table.items():
        assert rep not in table, (variant, rep)
        assert representative(rep) == rep
        assert unicodedata.normalize("NFKC", rep) == rep
        assert unicodedata.normalize("NFKC", variant) == variant


def test_kyujitai_table_is_complete_and_used() -> None:
    pairs = load_kyujitai()
    assert len(pairs) == 364
    assert pairs["國"] == "国" and pairs["辯"] == "弁" and pairs[TSUKA_COMPAT] == TSUKA
    for old, new in pairs.items():
        assert kanji_key(old) == kanji_key(new) == new, (old, new)


def test_mj_derived_entries() -> None:
    # characters outside JIS X 0208 that only MJ 縮退 knows about
    assert not in_jisx0208("斋") and representative("斋") == "斎"
    assert not in_jisx0208("齐") and representative("齐") == "斉"
    assert representative("\u3427") == "第"  # 㐧
    assert representative("\u344e") == "径"  # 㑎 → 徑 → 径: chain resolved
    assert representative("\u3404") == "\u3404"  # 㐄 → 牛 or 井: ambiguous, left alone


def test_shipped_table_equals_a_fresh_build() -> None:
    assert build_variant_table() == dict(load_variant_table())


@pytest.mark.parametrize(
    "names",
    [
        ["サトウ", "サトー", "さとう", "ｻﾄｳ", "サトオ", "ｻﾄｰ", "サ　トウ"],
        ["ヂョウ", "ジョウ", "じょう", "ｼﾞｮｳ", "ジョー"],
        ["ヴァイオリン", "バイオリン", "ゔぁいおりん"],
        ["ヴィ", "ビ"],
        ["ヴェ", "ベ"],
        ["ヴォ", "ボ"],
        ["ヴ", "ブ", "フ"],
        ["ガ", "カ"],
        ["パ", "ハ", "バ"],
        ["ワタナベ", "ハタナヘ"],
        ["ヲノ", "オノ", "オオノ", "オーノ"],
        ["スズキ", "スヅキ", "すずき"],
        ["キャ", "キヤ"],
        ["ッ", "ツ"],
        ["ヮ", "ワ", "ハ"],
        ["ヵ", "カ"],
        ["ヶ", "ケ"],
        ["ジョン・スミス", "ジョン＝スミス", "ジョン=スミス", "ジョンスミス", "ジョン スミス"],
        ["サー", "サ―", "サ－", "サ‐", "サ-", "サｰ", "サ‑", "サ–", "サ—", "サ"],
        ["コウ", "コオ", "コー", "コ"],
        ["ユウキ", "ユーキ"],
        ["エイ", "エイ"],
        ["ケイコ", "ケイコ"],
    ],
)
def test_kana_key_equal(names: list[str]) -> None:
    keys = {kana_key(n) for n in names}
    assert len(keys) == 1, {n: kana_key(n) for n in names}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("サイトウ", "サトウ"),
        ("エイ", "エ"),
        ("ケイコ", "ケコ"),
        ("タナカ", "タナハ"),
        ("アイ", "アウ"),
    ],
)
def test_kana_key_different(a: str, b: str) -> None:
    assert kana_key(a) != kana_key(b)


@pytest.mark.parametrize(
    ("kana", "key"),
    [
        ("サトウ", "サト"),
        ("ヂョウ", "シヨ"),
        ("ワタナベ", "ハタナヘ"),
        ("ヴァイオリン", "ハイオリン"),
        ("コウウ", "コ"),
        ("オオノ", "オノ"),
        ("スズキ　イチロウ", "ススキチロ"),  # spaces go before the vowel rules,
    ],
)
def test_kana_key_values(kana: str, key: str) -> None:
    assert kana_key(kana) == key


def test_to_katakana_fullwidth() -> None:
    assert to_katakana_fullwidth("さとう") == "サトウ"
    assert to_katakana_fullwidth("ｻﾄｳ") == "サトウ"
    assert to_katakana_fullwidth("ｶﾞｯｺｳ ﾊﾟﾝ") == "ガッコウ\u3000パン"
    assert to_katakana_fullwidth("ゔぁいおりん") == "ヴァイオリン"
    assert to_katakana_fullwidth("サトウ") == "サトウ"
    assert to_katakana_fullwidth("ｻﾄｰ") == "サトー"
    # not a search key: no vowel folding, no voicing removal
    assert to_katakana_fullwidth("じょう") == "ジョウ"
    # other text is left alone
    assert to_katakana_fullwidth(YOSHI + "田" + IVS) == YOSHI + "田" + IVS
    assert to_katakana_fullwidth("ＡＢ１２ abc") == "ＡＢ１２\u3000abc"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # half-width kana with a voicing mark that jaconv's table lacks: one character
        ("ﾜﾞｲﾝ", "\u30f7イン"),
        ("ｦﾞ", "\u30fa"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("ﾊﾟﾋﾟﾌﾟ", "パピプ"),
        # the iteration marks and the small ka/ke of hiragana
        ("すゝき", "スヽキ"),
        ("ゕゖ", "ヵヶ"),
        ("ｰ･", "ー・"),
    ],
)
def test_to_katakana_fullwidth_edge_forms(typed: str, stored: str) -> None:
    assert to_katakana_fullwidth(typed) == stored


def test_master_text_survives() -> None:
    name = YOSHI + "田" + TSUKA_COMPAT + "葛" + IVS
    copy = str(name)
    kanji_key(name)
    kana_key(name)
    to_katakana_fullwidth(name)
    assert name == copy
    assert len(YOSHI + "田") == 2  # code points, not bytes or UTF-16 units
    assert len(name) == 5
    assert unicodedata.normalize("NFC", TSUKA_COMPAT) != TSUKA_COMPAT  # why we never normalise
    assert strip_variation_selectors("葛" + IVS + "城") == "葛城"


# ---------------------------------------------------------------- properties

_KATAKANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
)
_KATAKANA += "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポァィゥェォッャュョヴー"
_kana_text = st.text(st.sampled_from([*list(_KATAKANA), " ", "\u3000", "・"]), max_size=12)
_name_text = st.text(
    st.sampled_from(
        [
            *list("高髙崎﨑嵜辺邊邉斎齋斉齊田中藤籘吉國国塚"),
            YOSHI,
            TSUKA_COMPAT,
            IVS,
            "︀",
            " ",
            "\u3000",
            "ｱ",
            "A",
            "Ａ",
            *list(_KATAKANA[:20]),
        ]
    ),
    max_size=10,
)


@given(_kana_text)
def test_kana_key_idempotent(text: str) -> None:
    key = kana_key(text)
    assert kana_key(key) == key


@given(_kana_text)
def test_kana_key_ignores_script_and_width(text: str) -> None:
    key = kana_key(text)
    assert kana_key(jaconv.kata2hira(text)) == key
    assert kana_key(jaconv.z2h(text, kana=True, ascii=True, digit=True)) == key
    assert kana_key(jaconv.z2h(jaconv.kata2hira(text), kana=True)) == key


@given(_name_text)
def test_kanji_key_idempotent_and_width_invariant(text: str) -> None:
    key = kanji_key(text)
    assert kanji_key(key) == key
    assert kanji_key(jaconv.z2h(text, kana=True, ascii=True, digit=True)) == key
    assert kanji_key(jaconv.h2z(text, kana=True, ascii=True, digit=True)) == key
    assert not any(c.isspace() for c in key)


@given(st.text(max_size=20))
def test_keys_total_on_any_text(text: str) -> None:
    assert kanji_key(kanji_key(text)) == kanji_key(text)
    assert kana_key(kana_key(text)) == kana_key(text)


@pytest.mark.parametrize("text", ["e \u0301", "カ゛", "ｶ ﾞ", "a\ufe00\u0301"])
def test_keys_idempotent_when_removal_joins_combining_marks(text: str) -> None:
    assert kanji_key(kanji_key(text)) == kanji_key(text)
    assert kana_key(kana_key(text)) == kana_key(text)


def test_space_list_matches_isspace() -> None:
    import sys

    from machi.japanese.names import _SPACES

    scanned = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert scanned | {"\u200b", "\ufeff"} == _SPACES

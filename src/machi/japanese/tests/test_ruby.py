"""ふりがな: grade boundaries, okurigana, numbers and Latin, corrections, HTML text nodes
only, escaping; stripping the readings gives the text back."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from machi.japanese.ruby import (
    align,
    html_ruby,
    kanji_grades,
    segments,
    strip_ruby,
    text_html,
    valid_reading,
)


def test_the_table_is_the_2017_list_of_1026_kanji():
    grades = kanji_grades()
    counts = [sum(1 for g in grades.values() if g == n) for n in range(1, 7)]
    assert counts == [80, 160, 200, 202, 193, 191]
    # kanji the 平成29年告示 moved: 都道府県 names into grade 4, 胃 from 4 to 6
    assert grades["岡"] == 4 and grades["茨"] == 4 and grades["胃"] == 6 and grades["城"] == 4


@pytest.mark.parametrize(
    ("text", "grade", "expected"),
    [
        # 学 (grade 1), 校 (1): nothing at the default grade 2
        ("学校", 2, "学校"),
        # 語 is grade 2: no reading at 2, a reading at 1
        ("国語", 2, "国語"),
        ("国語", 1, "<ruby>国語<rt>こくご</rt></ruby>"),
        # 住 (3) 民 (4) 票 (4): beyond 2 and 3, not beyond 4
        ("住民票", 2, "<ruby>住民票<rt>じゅうみんひょう</rt></ruby>"),
        ("住民票", 4, "住民票"),
        # grade 0: every kanji
        ("山", 0, "<ruby>山<rt>やま</rt></ruby>"),
        # 窓 (6) and 6 itself: beyond grade 5, not beyond 6; 嬉 is no 教育漢字
        ("窓口", 5, "<ruby>窓口<rt>まどぐち</rt></ruby>"),
        ("窓口", 6, "窓口"),
        ("嬉しい", 6, "<ruby>嬉<rt>うれ</rt></ruby>しい"),
    ],
)
def test_grade_boundaries(text, grade, expected):
    assert text_html(text, grade=grade) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("食べる", "<ruby>食<rt>た</rt></ruby>べる"),
        ("取り消し", "<ruby>取<rt>と</rt></ruby>り<ruby>消<rt>け</rt></ruby>し"),
        ("引っ越し", "<ruby>引<rt>ひ</rt></ruby>っ<ruby>越<rt>こ</rt></ruby>し"),
        ("手続き", "<ruby>手続<rt>てつづ</rt></ruby>き"),
    ],
)
def test_okurigana_stays_outside_the_ruby(text, expected):
    assert text_html(text, grade=0) == expected


def test_numbers_latin_and_counters_are_untouched():
    assert text_html("2026年12月1日 ABC", grade=0) == "2026年12月1日 ABC"
    assert text_html("ABC-123 http://example.jp", grade=0) == "ABC-123 http://example.jp"


def test_a_reading_that_does_not_fit_the_kana_covers_the_word():
    assert align("関ヶ原", "セキガハラ") == [("関ヶ原", "せきがはら")]
    assert align("食べる", "タベル") == [("食", "た"), ("べる", None)]
    assert align("食べる", "ノム") == [("食べる", "のむ")]


def test_corrections_override_sudachi_and_always_show():
    # SudachiPy reads 丸の内 as まるのうち; the municipality says otherwise (a test value)
    corrected = text_html("丸の内の窓口", grade=2, corrections={"丸の内": "まるのなか"})
    assert corrected.startswith("<ruby>丸<rt>まる</rt></ruby>の<ruby>内<rt>なか</rt></ruby>")
    # 丸 and 内 are grade 2: without the correction they get no reading at all
    assert text_html("丸の内", grade=2) == "丸の内"
    # katakana readings are stored in hiragana; the longest word wins
    both = {"千代田": "ちよだ", "千代田区役所": "チヨダクヤクショ"}
    assert "<rt>ちよだくやくしょ</rt>" in text_html("千代田区役所", grade=6, corrections=both)


def test_plain_text_is_escaped():
    out = text_html('<script>alert("窓")</script> & 窓口', grade=2)
    assert "<script>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert "<ruby>窓口<rt>まどぐち</rt></ruby>" in out


def test_html_text_nodes_only():
    markup = (
        '<p title="窓口" class="窓口"><a href="/窓口?x=1&amp;y=2">窓口</a> &amp; 窓口'
        '<code>窓口</code><span lang="en">窓口</span><span data-ruby="off">窓口</span>'
        "<ruby>窓口<rt>まどぐち</rt></ruby><br>窓口</p><!-- 窓口 -->"
    )
    out = html_ruby(markup, grade=2)
    ruby = "<ruby>窓口<rt>まどぐち</rt></ruby>"
    assert out == (
        f'<p title="窓口" class="窓口"><a href="/窓口?x=1&amp;y=2">{ruby}</a> &amp; {ruby}'
        '<code>窓口</code><span lang="en">窓口</span><span data-ruby="off">窓口</span>'
        f"<ruby>窓口<rt>まどぐち</rt></ruby><br>{ruby}</p><!-- 窓口 -->"
    )


def test_html_entities_in_text_stay_escaped():
    out = html_ruby("<p>&lt;script&gt;窓口</p>", grade=2)
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_bad_grade_and_readings_are_refused():
    with pytest.raises(ValueError):
        segments("窓口", grade=7)
    assert valid_reading("まどぐち") and valid_reading("マドグチ")
    assert not valid_reading("窓ぐち") and not valid_reading("") and not valid_reading("<b>")


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("窓口住民票を取りたい食べる引っ越しの手続き") + list("2026年AZ &<>\"'。、\n")
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, grade=st.integers(min_value=0, max_value=6))
def test_stripping_the_readings_gives_the_text_back(text, grade):
    assert html.unescape(strip_ruby(text_html(text, grade=grade))) == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT)
def test_stripping_the_readings_gives_the_html_back(text):
    markup = f'<p class="x">{html.escape(text, quote=False)}<b>{html.escape(text)}</b></p>'
    out = html_ruby(markup, grade=0)
    assert html.unescape(strip_ruby(out)) == html.unescape(markup)

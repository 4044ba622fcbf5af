"""The one display form of a date (issue 12): format_date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import JapaneseDate, format_date, parse_date

D = dt.date


@pytest.mark.parametrize(
    ("value", "both", "language", "expected"),
    [
        (D(2026, 12, 1), False, "ja", "令和8年12月1日"),
        (D(2026, 12, 1), True, "ja", "令和8年12月1日（2026年12月1日）"),
        (D(2026, 12, 1), False, "en", "1 Dec 2026"),
        (D(2026, 12, 1), True, "en-us", "1 Dec 2026"),
        (D(2019, 4, 30), True, "ja", "平成31年4月30日（2019年4月30日）"),
        (D(2019, 5, 1), True, "ja", "令和元年5月1日（2019年5月1日）"),
        (D(1989, 1, 7), False, "ja", "昭和64年1月7日"),
        (D(1989, 1, 8), False, "ja", "平成元年1月8日"),
        (parse_date("昭和30年5月日不詳"), True, "ja", "昭和30年5月日不詳（1955年5月日不詳）"),
        (parse_date("昭和30年5月日不詳"), False, "en", "May 1955"),
        (parse_date("昭和30年月日不詳"), False, "en", "1955"),
        (parse_date("昭和30年頃"), False, "en", "c. 1955"),
        (parse_date("年月日不詳"), True, "ja", "年月日不詳"),
        (parse_date("年月日不詳"), False, "en", "unknown"),
        # No 西暦 day exists for these: 和暦 only, in both languages.
        (parse_date("平成3年2月30日"), True, "ja", "平成3年2月30日"),
        (parse_date("平成3年2月30日"), False, "en", "平成3年2月30日"),
        (parse_date("明治5年12月2日"), True, "ja", "明治5年12月2日"),
        # Typed text never shows through: the canonical form does.
        (parse_date("R8.12.1"), False, "ja", "令和8年12月1日"),
        (parse_date("２０２６１２０１"), False, "ja", "令和8年12月1日"),
        (None, True, "ja", ""),
    ],
)
def test_format_date(value, both, language, expected):
    assert format_date(value, both=both, language=language) == expected


@given(st.dates(min_value=D(1873, 1, 1), max_value=D(2200, 12, 31)))
def test_format_then_parse_round_trips(day):
    assert parse_date(format_date(day)).approx == day
    assert parse_date(format_date(day)).is_exact


def test_japanese_date_keeps_no_dead_views():
    assert not hasattr(JapaneseDate, "era_info")
    assert not hasattr(JapaneseDate, "gregorian_year")

"""DOMAIN.md §3: eras, JapaneseDate, parsing and formatting."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import (
    ERAS,
    DateParseError,
    JapaneseDate,
    era_of,
    format_seireki,
    format_wareki,
    parse_date,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "era", "year", "month", "day", "approx"),
    [
        ("昭和60年6月15日", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("S60.6.15", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("S60.06.15", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("s60/6/15", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("令和元年5月1日", "reiwa", 1, 5, 1, D(2019, 5, 1)),
        ("R1.5.1", "reiwa", 1, 5, 1, D(2019, 5, 1)),
        ("R元.5.1", "reiwa", 1, 5, 1, D(2019, 5, 1)),
        ("令和7年4月1日", "reiwa", 7, 4, 1, D(2025, 4, 1)),
        ("R7.4.1", "reiwa", 7, 4, 1, D(2025, 4, 1)),
        ("昭和６０年６月１５日", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("Ｓ６０．６．１５", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("㍼60年6月15日", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("1985-06-15", None, 1985, 6, 15, D(1985, 6, 15)),
        ("１９８５－０６－１５", None, 1985, 6, 15, D(1985, 6, 15)),
        ("1985/6/15", None, 1985, 6, 15, D(1985, 6, 15)),
        ("19850615", None, 1985, 6, 15, D(1985, 6, 15)),
        ("1985年6月15日", None, 1985, 6, 15, D(1985, 6, 15)),
        (" 昭和 60年 6月 15日 ", "showa", 60, 6, 15, D(1985, 6, 15)),
        ("明治元年1月1日", "meiji", 1, 1, 1, D(1868, 1, 1)),
        ("明治6年1月1日", "meiji", 6, 1, 1, D(1873, 1, 1)),
        ("大正元年8月1日", "taisho", 1, 8, 1, D(1912, 8, 1)),
        ("昭和元年12月25日", "showa", 1, 12, 25, D(1926, 12, 25)),
        ("平成元年1月8日", "heisei", 1, 1, 8, D(1989, 1, 8)),
    ],
)
def test_accepted_forms(
    text: str, era: str | None, year: int, month: int, day: int, approx: dt.date
) -> None:
    d = parse_date(text)
    assert (d.era, d.year, d.month, d.day, d.approx) == (era, year, month, day, approx)
    assert d.text == text  # kept as written
    assert not d.unknown


@pytest.mark.parametrize(
    ("text", "day"),
    [
        # the overlap days are accepted under both eras
        ("明治45年7月30日", D(1912, 7, 30)),
        ("大正元年7月30日", D(1912, 7, 30)),
        ("大正15年12月25日", D(1926, 12, 25)),
        ("昭和元年12月25日", D(1926, 12, 25)),
        # the last day of an era
        ("昭和64年1月7日", D(1989, 1, 7)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("令和元年5月1日", D(2019, 5, 1)),
    ],
)
def test_era_boundaries_accepted(text: str, day: dt.date) -> None:
    assert parse_date(text).approx == day


@pytest.mark.parametrize(
    "text",
    [
        "平成32年",
        "平成32年1月1日",
        "昭和64年1月8日",
        "平成31年5月1日",
        "明治45年7月31日",
        "大正元年7月29日",
        "大正15年12月26日",
        "昭和元年12月24日",
        "平成元年1月7日",
        "令和元年4月30日",
        "昭和64年2月日不詳",
        "令和元年4月日不詳",
        "昭和0年1月1日",
        "大正16年",
        "明治46年",
    ],
)
def test_outside_the_era_rejected(text: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_date(text)
    assert info.value.reason == "era"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "foo",
        "昭和60年13月1日",
        "昭和60年6月32日",
        "昭和60年6月0日",
        "30年5月",
        "元年5月",
        "昭和30年5月月日不詳",
        "昭和30年月5日",
        "S60.6",
        "1985-6-15-1",
        "平成3年2月30日不詳",
    ],
)
def test_malformed_rejected(text: str) -> None:
    with pytest.raises(DateParseError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "year", "month", "day", "circa", "approx"),
    [
        ("年月日不詳", None, None, None, False, None),
        ("不詳", None, None, None, False, None),
        ("昭和30年月日不詳", 30, None, None, False, D(1955, 1, 1)),
        ("昭和30年5月日不詳", 30, 5, None, False, D(1955, 5, 1)),
        ("昭和30年頃", 30, None, None, True, D(1955, 1, 1)),
        ("昭和30年5月頃", 30, 5, None, True, D(1955, 5, 1)),
        ("昭和30年5月", 30, 5, None, False, D(1955, 5, 1)),
        ("1955年月日不詳", 1955, None, None, False, D(1955, 1, 1)),
    ],
)
def test_unknown_forms(
    text: str,
    year: int | None,
    month: int | None,
    day: int | None,
    circa: bool,
    approx: dt.date | None,
) -> None:
    d = parse_date(text)
    assert (d.year, d.month, d.day, d.circa, d.approx) == (year, month, day, circa, approx)
    assert d.unknown
    assert not d.is_exact
    assert format_wareki(d) == text or text in ("不詳", "昭和30年5月", "1955年月日不詳")


@pytest.mark.parametrize(
    ("text", "approx"),
    [
        ("平成3年2月30日", D(1991, 2, 28)),
        ("平成4年2月30日", D(1992, 2, 29)),
        ("昭和50年4月31日", D(1975, 4, 30)),
        ("1991-02-30", D(1991, 2, 28)),
    ],
)
def test_non_calendar_dates(text: str, approx: dt.date) -> None:
    d = parse_date(text)
    assert d.non_calendar and not d.unknown and not d.is_exact
    assert d.approx == approx
    assert d.day in (30, 31)


def test_non_calendar_formats_as_written() -> None:
    d = parse_date("平成3年2月30日")
    assert format_wareki(d) == "平成3年2月30日"
    assert format_wareki(d, style="letter") == "H3.2.30"
    assert format_seireki(d) == "1991-02-30"


def test_lunisolar_meiji_kept_as_written() -> None:
    d = parse_date("明治5年12月2日")
    assert d.lunisolar and not d.is_exact
    assert format_wareki(d) == "明治5年12月2日"
    with pytest.raises(ValueError, match="太陰太陽暦"):
        format_seireki(d)
    with pytest.raises(ValueError):
        format_wareki(D(1872, 12, 31))


@pytest.mark.parametrize(
    ("day", "kanji", "letter"),
    [
        (D(2025, 4, 1), "令和7年4月1日", "R7.4.1"),
        (D(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (D(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (D(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
        (D(1989, 1, 8), "平成元年1月8日", "H1.1.8"),
        (D(1926, 12, 25), "昭和元年12月25日", "S1.12.25"),
        (D(1926, 12, 24), "大正15年12月24日", "T15.12.24"),
        (D(1912, 7, 30), "大正元年7月30日", "T1.7.30"),
        (D(1912, 7, 29), "明治45年7月29日", "M45.7.29"),
        (D(1873, 1, 1), "明治6年1月1日", "M6.1.1"),
        (D(1985, 6, 15), "昭和60年6月15日", "S60.6.15"),
    ],
)
def test_format_wareki(day: dt.date, kanji: str, letter: str) -> None:
    assert format_wareki(day) == kanji
    assert format_wareki(day, style="letter") == letter
    assert format_wareki(dt.datetime(day.year, day.month, day.day, 12, 0)) == kanji


def test_format_seireki() -> None:
    assert format_seireki(D(1985, 6, 15)) == "1985-06-15"
    assert format_seireki(D(1985, 6, 15), style="kanji") == "1985年6月15日"
    assert format_seireki(parse_date("昭和30年5月日不詳")) == "1955-05"
    assert format_seireki(parse_date("昭和30年月日不詳")) == "1955"
    assert format_seireki(parse_date("昭和30年頃"), style="kanji") == "1955年頃"
    assert format_seireki(parse_date("S60.6.15"), style="kanji") == "1985年6月15日"
    with pytest.raises(ValueError):
        format_seireki(parse_date("年月日不詳"))


def test_era_table() -> None:
    assert [e.name for e in ERAS] == ["明治", "大正", "昭和", "平成", "令和"]
    assert [e.letter for e in ERAS] == ["M", "T", "S", "H", "R"]
    assert [e.last_year for e in ERAS] == [45, 15, 64, 31, None]
    assert era_of(D(1926, 12, 25)).name == "昭和"
    assert era_of(D(2019, 4, 30)).name == "平成"


def test_to_dict_round_trip_through_json() -> None:
    for text in ["昭和60年6月15日", "年月日不詳", "昭和30年頃", "平成3年2月30日", "明治5年12月2日"]:
        d = parse_date(text)
        data = json.loads(json.dumps(d.to_dict()))
        assert JapaneseDate.from_dict(data) == d


def test_from_dict_rejects_inconsistent_derived_fields() -> None:
    data = parse_date("平成3年2月30日").to_dict() | {"approx": "1991-03-02"}
    with pytest.raises(ValueError):
        JapaneseDate.from_dict(data)


def test_frozen_and_sortable() -> None:
    d = parse_date("昭和60年6月15日")
    with pytest.raises(AttributeError):
        d.year = 61  # type: ignore[misc]
    dates = [parse_date(t) for t in ["年月日不詳", "平成3年2月30日", "昭和30年頃", "S60.6.15"]]
    ordered = [x.text for x in sorted(dates, key=lambda x: x.sort_key)]
    assert ordered == ["昭和30年頃", "S60.6.15", "平成3年2月30日", "年月日不詳"]


_DAYS = st.dates(min_value=D(1873, 1, 1), max_value=D(2100, 12, 31))


@given(_DAYS)
def test_every_calendar_date_round_trips_through_wareki(day: dt.date) -> None:
    for style in ("kanji", "letter"):
        text = format_wareki(day, style=style)  # type: ignore[arg-type]
        parsed = parse_date(text)
        assert parsed.approx == day
        assert parsed.is_exact
        assert format_wareki(parsed, style=style) == text  # type: ignore[arg-type]
    assert parse_date(format_seireki(day)).approx == day


def test_round_trip_every_day_of_the_boundary_years() -> None:
    for year in (1873, 1912, 1926, 1989, 2019):
        day = D(year, 1, 1)
        while day.year == year:
            assert parse_date(format_wareki(day)).approx == day
            day += dt.timedelta(days=1)


def test_every_calendar_date_1873_to_2100_round_trips() -> None:
    """Exhaustive: all 83,275 days, both 和暦 styles."""
    day, last, one = D(1873, 1, 1), D(2100, 12, 31), dt.timedelta(days=1)
    count = 0
    while day <= last:
        assert parse_date(format_wareki(day)).approx == day, day
        assert parse_date(format_wareki(day, style="letter")).approx == day, day
        day += one
        count += 1
    assert count == 83_275

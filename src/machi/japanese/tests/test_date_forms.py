"""Issue 12: every usual way a date is typed, every impossible one, and the canonical form
a typed date is stored in (canonical_date)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import DateParseError, JapaneseDate, format_wareki, parse_date
from machi.japanese.dates import ERAS, canonical_date

D = dt.date


@pytest.mark.parametrize(
    "typed",
    [
        "R8.12.1",
        "r8.12.1",
        "R08.12.01",
        "R8/12/1",
        "R8-12-1",
        "令和8年12月1日",
        "令8.12.1",
        "令8年12月1日",
        "令和 8年 12月 1日",
        "Ｒ８．１２．１",
        "令和８年１２月１日",
        "令８．１２．１",
        "2026-12-01",
        "2026/12/1",
        "2026.12.1",
        "２０２６－１２－０１",
        "20261201",
        "２０２６１２０１",
        "2026年12月1日",
        "２０２６年１２月１日",
    ],
)
def test_every_usual_form_of_1_december_2026(typed):
    parsed = parse_date(typed)
    assert parsed.approx == D(2026, 12, 1)
    assert parsed.is_exact
    assert canonical_date(parsed).text == "令和8年12月1日"


@pytest.mark.parametrize(
    ("typed", "day", "canonical"),
    [
        ("昭和63年3月2日", D(1988, 3, 2), "昭和63年3月2日"),
        ("S63.3.2", D(1988, 3, 2), "昭和63年3月2日"),
        ("昭63.3.2", D(1988, 3, 2), "昭和63年3月2日"),
        ("昭和６３年３月２日", D(1988, 3, 2), "昭和63年3月2日"),
        # 元年, in every form
        ("令和元年5月1日", D(2019, 5, 1), "令和元年5月1日"),
        ("令和１年５月１日", D(2019, 5, 1), "令和元年5月1日"),
        ("R1.5.1", D(2019, 5, 1), "令和元年5月1日"),
        ("R元.5.1", D(2019, 5, 1), "令和元年5月1日"),
        ("令元.5.1", D(2019, 5, 1), "令和元年5月1日"),
        ("平成元年1月8日", D(1989, 1, 8), "平成元年1月8日"),
        ("H1.1.8", D(1989, 1, 8), "平成元年1月8日"),
        ("昭和元年12月25日", D(1926, 12, 25), "昭和元年12月25日"),
        ("大正元年7月30日", D(1912, 7, 30), "大正元年7月30日"),
        # the era boundaries, on both sides
        ("平成31年4月30日", D(2019, 4, 30), "平成31年4月30日"),
        ("2019-04-30", D(2019, 4, 30), "平成31年4月30日"),
        ("2019-05-01", D(2019, 5, 1), "令和元年5月1日"),
        ("昭和64年1月7日", D(1989, 1, 7), "昭和64年1月7日"),
        ("1989-01-08", D(1989, 1, 8), "平成元年1月8日"),
        # an overlap day keeps the era it was written in; a 西暦 day takes the new era
        ("明治45年7月30日", D(1912, 7, 30), "明治45年7月30日"),
        ("1912-07-30", D(1912, 7, 30), "大正元年7月30日"),
        ("大正15年12月25日", D(1926, 12, 25), "大正15年12月25日"),
        ("1926-12-25", D(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_accepted_forms_and_their_canonical_text(typed, day, canonical):
    parsed = parse_date(typed)
    assert parsed.approx == day and parsed.is_exact
    assert parsed.text == typed  # parse_date keeps what was written …
    stored = canonical_date(parsed)
    assert stored.text == canonical  # … the canonical copy is what staff input stores
    assert stored.approx == day


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("令和元年4月1日", "令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）"),
        ("R1.4.30", "令和元年は5月1日からです（令和元年4月30日は平成31年4月30日）"),
        ("平成31年5月1日", "平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）"),
        ("平成32年1月1日", "平成32年はありません（平成は31年まで）"),
        ("昭和64年1月8日", "昭和は昭和64年1月7日までです（昭和64年1月8日は平成元年1月8日）"),
        ("平成元年1月7日", "平成元年は1月8日からです（平成元年1月7日は昭和64年1月7日）"),
        ("令和0年1月1日", "令和0年はありません（令和は元年から）"),
        ("昭和0年1月1日", "昭和0年はありません（昭和は元年から）"),
        ("令和8年13月1日", "13月はありません"),
        ("令和8年12月32日", "32日はありません"),
        ("2026-00-01", "0月はありません"),
        ("令和8年12月", None),  # accepted: a missing day is 不詳
        ("8.12.1", "日付の形式が正しくありません"),
        ("元年5月1日", "元号のない年は西暦4桁で書いてください"),
        ("26年12月1日", "元号のない年は西暦4桁で書いてください"),
        ("令和", "日付の形式が正しくありません"),
        ("", "日付が空です"),
    ],
)
def test_rejected_forms_say_why(typed, message):
    if message is None:
        assert parse_date(typed).unknown
        return
    with pytest.raises(DateParseError) as info:
        parse_date(typed)
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    ("typed", "last_day"),
    [
        ("2026年2月30日", D(2026, 2, 28)),
        ("令和8年2月30日", D(2026, 2, 28)),
        ("2026-02-29", D(2026, 2, 28)),
        ("2024-02-30", D(2024, 2, 29)),
        ("令和8年4月31日", D(2026, 4, 30)),
    ],
)
def test_a_day_past_the_month_end_is_never_a_calendar_day(typed, last_day):
    """Register dates admit 2月30日 (DOMAIN §3); it is never an exact day, so event and
    filing dates (which need one) refuse it."""
    parsed = parse_date(typed)
    assert parsed.non_calendar and not parsed.is_exact
    assert parsed.approx == last_day


@pytest.mark.parametrize(
    ("typed", "canonical", "approx"),
    [
        ("年月日不詳", "年月日不詳", None),
        ("不詳", "年月日不詳", None),
        ("昭和30年月日不詳", "昭和30年月日不詳", D(1955, 1, 1)),
        ("S30年月日不詳", "昭和30年月日不詳", D(1955, 1, 1)),
        ("昭和30年5月日不詳", "昭和30年5月日不詳", D(1955, 5, 1)),
        ("昭和30年5月", "昭和30年5月日不詳", D(1955, 5, 1)),
        ("昭和30年頃", "昭和30年頃", D(1955, 1, 1)),
        ("1955年頃", "昭和30年頃", D(1955, 1, 1)),
        ("1955年月日不詳", "昭和30年月日不詳", D(1955, 1, 1)),
        ("平成31年4月日不詳", "平成31年4月日不詳", D(2019, 4, 1)),
        ("令和元年5月日不詳", "令和元年5月日不詳", D(2019, 5, 1)),
        ("2019年5月日不詳", "令和元年5月日不詳", D(2019, 5, 1)),
        # a 西暦 year or month of two eras: a 和暦 would claim one of them
        ("2019年月日不詳", "2019年月日不詳", D(2019, 1, 1)),
        ("1989年頃", "1989年頃", D(1989, 1, 1)),
        ("1989年1月日不詳", "1989年1月日不詳", D(1989, 1, 1)),
        ("1926年12月", "1926年12月日不詳", D(1926, 12, 1)),
        # non-calendar and lunisolar register dates keep their day
        ("平成3年2月30日", "平成3年2月30日", D(1991, 2, 28)),
        ("1991-02-30", "平成3年2月30日", D(1991, 2, 28)),
        ("明治5年12月2日", "明治5年12月2日", D(1872, 12, 2)),
        ("1870-01-01", "1870年1月1日", D(1870, 1, 1)),
    ],
)
def test_unknown_and_register_forms_have_a_canonical_text(typed, canonical, approx):
    parsed = parse_date(typed)
    stored = canonical_date(parsed)
    assert stored.text == canonical
    assert stored.approx == approx == parsed.approx
    assert (stored.unknown, stored.non_calendar, stored.lunisolar, stored.circa) == (
        parsed.unknown,
        parsed.non_calendar,
        parsed.lunisolar,
        parsed.circa,
    )


def test_canonical_date_of_a_plain_date():
    assert canonical_date(D(2026, 12, 1)) == parse_date("令和8年12月1日")


_ERA_KEYS = [e.key for e in ERAS if e.key != "meiji"]


@st.composite
def _register_dates(draw) -> JapaneseDate:
    """Any date a register may hold, written in 和暦 or 西暦, complete or 不詳."""
    day = draw(st.dates(min_value=D(1873, 1, 1), max_value=D(2100, 12, 31)))
    parts = draw(st.sampled_from(["ymd", "ym", "y", "circa"]))
    month = None if parts in ("y", "circa") else day.month
    dom = day.day if parts == "ymd" else None
    if draw(st.booleans()):
        return JapaneseDate(text="x", year=day.year, month=month, day=dom, circa=parts == "circa")
    era = [e for e in ERAS if e.contains(day)][-1]
    year = day.year - era.first_year + 1
    return JapaneseDate(
        text="x", era=era.key, year=year, month=month, day=dom, circa=parts == "circa"
    )


@given(_register_dates())
def test_canonical_text_reads_back_as_the_same_date(value):
    stored = canonical_date(value)
    assert parse_date(stored.text) == stored  # text and parts agree
    assert canonical_date(stored) == stored  # idempotent
    assert stored.approx == value.approx
    assert (stored.month, stored.day, stored.circa) == (value.month, value.day, value.circa)
    if value.era is not None:
        assert stored.era == value.era  # an era as written is kept


@given(st.dates(min_value=D(1873, 1, 1), max_value=D(2200, 12, 31)))
def test_format_then_parse_round_trips_every_day(day):
    text = format_wareki(day)
    assert parse_date(text).approx == day
    assert canonical_date(parse_date(text)).text == text
    assert canonical_date(day).text == text

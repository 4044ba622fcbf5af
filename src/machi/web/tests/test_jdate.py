"""jdate with a time (issue 12): one filter for dates and moments, every language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import TemplateSyntaxError, engines
from django.utils import translation

from machi.japanese import format_date, format_datetime, parse_date

# 2026-12-01 14:05:09 in Tokyo
MOMENT = dt.datetime(2026, 12, 1, 5, 5, 9, tzinfo=dt.UTC)


def _render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    ("arg", "ja", "en"),
    [
        ("", "令和8年12月1日", "1 Dec 2026"),
        ("time", "令和8年12月1日 14:05", "1 Dec 2026 14:05"),
        ("seconds", "令和8年12月1日 14:05:09", "1 Dec 2026 14:05:09"),
        ("both,time", "令和8年12月1日（2026年12月1日） 14:05", "1 Dec 2026 14:05"),
        (" both , seconds ", "令和8年12月1日（2026年12月1日） 14:05:09", "1 Dec 2026 14:05:09"),
    ],
)
def test_a_moment_in_local_time(settings, arg, ja, en):
    settings.TIME_ZONE = "Asia/Tokyo"
    source = f'{{{{ d|jdate:"{arg}" }}}}' if arg else "{{ d|jdate }}"
    with translation.override("ja"):
        assert _render(source, d=MOMENT) == ja
    with translation.override("en"):
        assert _render(source, d=MOMENT) == en


def test_time_of_a_plain_date_shows_the_date_only():
    with translation.override("ja"):
        assert _render('{{ d|jdate:"time" }}', d=dt.date(2026, 12, 1)) == "令和8年12月1日"
        assert _render('{{ d|jdate:"time" }}', d=None) == ""


def test_the_local_day_decides_the_date_near_midnight(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    late = dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.UTC)  # 08:59 on 1 Dec in Tokyo
    with translation.override("ja"):
        assert _render('{{ d|jdate:"time" }}', d=late) == "令和8年12月1日 08:59"


def test_an_unknown_option_is_an_error_not_a_silent_drop():
    with translation.override("ja"), pytest.raises(TemplateSyntaxError, match="bothh"):
        _render('{{ d|jdate:"bothh" }}', d=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("text", "plain", "both", "en"),
    [
        ("昭和60年月日不詳", "昭和60年月日不詳", "昭和60年月日不詳（1985年月日不詳）", "1985"),
        (
            "昭和60年6月日不詳",
            "昭和60年6月日不詳",
            "昭和60年6月日不詳（1985年6月日不詳）",
            "Jun 1985",
        ),
        ("昭和60年頃", "昭和60年頃", "昭和60年頃（1985年頃）", "c. 1985"),
        ("年月日不詳", "年月日不詳", "年月日不詳", "unknown"),
        ("平成3年2月30日", "平成3年2月30日", "平成3年2月30日", "平成3年2月30日"),
        # a 西暦 year spanning two eras gains no era it was not given
        ("2019年月日不詳", "2019年月日不詳", "2019年月日不詳", "2019"),
        ("1989年頃", "1989年頃", "1989年頃", "c. 1989"),
        ("2020年月日不詳", "令和2年月日不詳", "令和2年月日不詳（2020年月日不詳）", "2020"),
    ],
)
def test_register_dates_with_unknown_parts(text, plain, both, en):
    day = parse_date(text)
    assert format_date(day) == plain
    assert format_date(day, both=True) == both
    assert format_date(day, language="en") == en
    with translation.override("ja"):
        assert _render('{{ d|jdate:"both" }}', d=day) == both


def test_format_datetime_takes_the_wall_clock_as_given():
    naive = dt.datetime(2019, 4, 30, 23, 59, 59)
    assert format_datetime(naive) == "平成31年4月30日 23:59"
    assert format_datetime(naive, seconds=True, language="en") == "30 Apr 2019 23:59:59"

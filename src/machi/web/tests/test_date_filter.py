"""The jdate template filter (issue 12): a builtin that follows the active language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import engines
from django.utils import translation

from machi.japanese import parse_date

D = dt.date


def _render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    ("value", "expected_ja", "expected_en"),
    [
        (D(2026, 12, 1), "令和8年12月1日", "1 Dec 2026"),
        ("2026-12-01", "令和8年12月1日", "1 Dec 2026"),
        (parse_date("昭和30年5月日不詳").to_dict(), "昭和30年5月日不詳", "May 1955"),
        (parse_date("S60.6.15"), "昭和60年6月15日", "15 Jun 1985"),
        # Unchecked text is not shown as if it were a date.
        ("来週の月曜", "", ""),
        ({"era": "showa", "year": 30}, "", ""),
        (None, "", ""),
    ],
)
def test_jdate_filter_is_a_builtin_and_follows_the_language(value, expected_ja, expected_en):
    with translation.override("ja"):
        assert _render("{{ d|jdate }}", d=value) == expected_ja
    with translation.override("en"):
        assert _render("{{ d|jdate }}", d=value) == expected_en


def test_jdate_both_shows_the_seireki_for_staff():
    with translation.override("ja"):
        assert _render('{{ d|jdate:"both" }}', d=D(2026, 12, 1)) == (
            "令和8年12月1日（2026年12月1日）"
        )


def test_jdate_takes_the_local_date_of_an_aware_datetime(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    moment = dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC)  # 2026-12-01 00:30 JST
    with translation.override("ja"):
        assert _render("{{ d|jdate }}", d=moment) == "令和8年12月1日"

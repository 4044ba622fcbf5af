"""Intake date fields (issue 12): an impossible date is a field error naming the field and why."""

from __future__ import annotations

import pytest
from django.utils import translation

from machi.counter.forms_intake import EVENTS, EventForm, NewcomerForm


def _event_errors(date: str) -> list[str]:
    form = EventForm(data={"event": EVENTS[0], "date": date}, with_preapplication=False)
    assert not form.is_valid()
    return form.errors["date"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("令和元年4月1日", "異動日: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）"),
        (
            "平成31年5月1日",
            "異動日: 平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）",
        ),
        ("2026年2月30日", "異動日: 2026年2月は28日までです（2026年2月30日）"),
        ("令和8年2月30日", "異動日: 2026年2月は28日までです（令和8年2月30日）"),
        ("令和8年13月1日", "異動日: 13月はありません"),
        ("令和8年頃", "異動日: 「令和8年頃」は年月日のそろった日付で入力してください。"),
        (
            "昭和30年5月日不詳",
            "異動日: 「昭和30年5月日不詳」は年月日のそろった日付で入力してください。",
        ),
    ],
)
def test_an_impossible_event_date_names_the_field_and_why(typed, expected):
    with translation.override("ja"):
        assert _event_errors(typed) == [expected]


@pytest.mark.parametrize(
    "typed",
    [
        "R8.12.1",
        "令和8年12月1日",
        "令8.12.1",
        "Ｒ８．１２．１",
        "令和８年１２月１日",
        "2026-12-01",
        "20261201",
    ],
)
def test_every_usual_form_of_an_event_date_is_accepted(typed):
    form = EventForm(data={"event": EVENTS[0], "date": typed}, with_preapplication=False)
    assert form.is_valid(), form.errors


def test_an_impossible_birth_date_names_the_field():
    form = NewcomerForm(
        data={
            "name": "山田 太郎",
            "sex": "1",
            "birth_date": "令和元年4月1日",
            "relationship": "本人",
        }
    )
    with translation.override("ja"):
        assert not form.is_valid()
        assert form.errors["birth_date"] == [
            "生年月日: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）"
        ]


def _birth_errors(typed: str) -> list[str]:
    form = NewcomerForm(
        data={"name": "山田 太郎", "sex": "1", "birth_date": typed, "relationship": "世帯主"}
    )
    assert not form.is_valid()
    return form.errors["birth_date"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "平成31年5月1日",
            "生年月日: 平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）",
        ),
        ("平成32年1月1日", "生年月日: 平成32年はありません（平成は31年まで）"),
        ("昭和60年13月1日", "生年月日: 13月はありません"),
        ("昭和60年6月32日", "生年月日: 32日はありません"),
        ("60.6.15", "生年月日: 日付の形式が正しくありません"),
    ],
)
def test_an_impossible_birth_date_names_the_field_and_why(typed, expected):
    with translation.override("ja"):
        (message,) = _birth_errors(typed)
    assert message.startswith(expected)


@pytest.mark.parametrize(
    "typed",
    [
        "昭和63年3月2日",
        "S63.3.2",
        "昭63.3.2",
        "昭和６３年３月２日",
        "19880302",
        "1988-03-02",
        "令和元年5月1日",
        "平成31年4月30日",
        # the registry's own forms of a date of birth
        "昭和30年月日不詳",
        "昭和30年頃",
        "平成3年2月30日",
    ],
)
def test_every_usual_form_of_a_birth_date_is_accepted(typed):
    form = NewcomerForm(
        data={"name": "山田 太郎", "sex": "1", "birth_date": typed, "relationship": "世帯主"}
    )
    assert form.is_valid(), form.errors

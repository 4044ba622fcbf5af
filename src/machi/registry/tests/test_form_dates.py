"""Registry change forms (issue 12): a typed date is stored as a date in its canonical
form, and a bad one is an error naming the field and why."""

from __future__ import annotations

import pytest
from django.utils import translation

from machi.registry.forms import DeathForm, MoveWithinForm


def _move(effective_on: str, filed_on: str = "2026-04-06") -> MoveWithinForm:
    return MoveWithinForm(
        data={
            "prefecture": "東京都",
            "city": "千代田区",
            "machiaza": "丸の内",
            "effective_on": effective_on,
            "filed_on": filed_on,
        }
    )


@pytest.mark.parametrize(
    "typed", ["R8.4.3", "令8.4.3", "令和８年４月３日", "2026-04-03", "20260403", "2026/4/3"]
)
def test_a_typed_date_cleans_to_its_canonical_form(typed):
    form = _move(typed, filed_on="R8.4.3")
    assert form.is_valid(), form.errors
    effective = form.cleaned_data["effective_on"]
    assert effective.text == "令和8年4月3日"
    assert effective.approx.isoformat() == "2026-04-03" and effective.era == "reiwa"
    assert form.cleaned_data["filed_on"].isoformat() == "2026-04-03"


def test_a_death_date_may_be_unknown_and_keeps_its_unknown_parts():
    form = DeathForm(data={"effective_on": "令8年4月", "filed_on": "2026-04-06"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["effective_on"].text == "令和8年4月日不詳"
    assert form.cleaned_data["effective_on"].day is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("令和元年4月1日", "異動日: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）"),
        ("令和8年2月30日", "異動日: 「令和8年2月30日」は暦にない日付です（2026年2月は28日まで）。"),
        ("令和8年13月1日", "異動日: 13月はありません"),
        ("令和8年頃", "異動日: 「令和8年頃」は年月日がそろっていません。"),
        ("someday", "異動日: 日付の形式が正しくありません"),
    ],
)
def test_a_bad_date_names_the_field_and_why(typed, expected):
    form = _move(typed)
    with translation.override("ja"):
        assert not form.is_valid()
        (message,) = form.errors["effective_on"]
    assert message.startswith(expected)

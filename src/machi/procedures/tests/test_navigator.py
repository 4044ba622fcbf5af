"""The navigator's input validation, output format and reasons (pure engine tests)."""

from __future__ import annotations

import copy
import json

import pytest

from machi.procedures.engine import NavigatorInputError, build_catalogue, default_document, navigate
from machi.procedures.engine.conditions import HELPERS
from machi.procedures.tests.helpers import CHILD, D, P, S, fired

DOMAIN_EXAMPLE = {
    "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2"],
              "from_abroad": False, "to_abroad": False},
    "persons": [
        {"id": "p1", "birth_date": "1980-05-10", "householder": True,
         "nationality": "JP", "insurance": "kokuho", "pension": "1",
         "receives_pension": False, "civil_servant": False,
         "my_number_card": True, "seal_registered": False, "care_certified": False,
         "disability_certificate": False, "child_allowance_recipient": False,
         "name_changes": False, "custodial_parent": False},
        {"id": "p2", "birth_date": "2019-06-01", "insurance": "kokuho", "pension": None},
    ],
    "answers": {"has_dog": False, "wants_seal_registration": False, "owns_real_estate": False},
}  # fmt: skip


def test_domain_example_output_is_exact():
    result = navigate(copy.deepcopy(DOMAIN_EXAMPLE))
    assert list(result) == ["procedures"]
    for item in result["procedures"]:
        assert list(item) == ["code", "title", "department", "person", "filer", "due", "reason"]
        assert item["reason"]
    assert [(p["code"], p["person"]) for p in result["procedures"]] == [
        ("juki.move_in", "p1"),
        ("juki.move_in", "p2"),
        ("mynumber.continue", "p1"),
        ("kokuho.enroll", "p1"),
        ("kokuho.enroll", "p2"),
        ("child_allowance.apply", "p1"),
        ("child_medical.apply", "p2"),
        ("school.transfer_in", "p2"),
    ]
    json.dumps(result)  # JSON-ready


def test_sorted_by_department_order_then_code_then_person():
    persons = [P("z", insurance="kokuho", householder=True), P("a", insurance="kokuho"),
               P("k", CHILD, insurance="kokuho")]  # fmt: skip
    result = navigate(S("move_in", ["z", "a", "k"], persons, answers={"has_dog": True}))
    departments = [p["department"] for p in result["procedures"]]
    order = ["shimin", "hoken_nenkin", "kaigo", "kosodate", "kenko", "kyoiku", "kankyo",
             "fukushi", "zeimu"]  # fmt: skip
    assert departments == sorted(departments, key=order.index)
    assert fired(result, "juki.move_in") == ["z", "a", "k"]  # person: input order
    keys = [(order.index(p["department"]), p["code"]) for p in result["procedures"]]
    assert keys == sorted(keys)


def test_household_procedure_comes_first_within_its_code():
    result = navigate(S("move_in", ["a"], [P("a")], answers={"has_dog": True}))
    assert fired(result, "dog.transfer_in") == [None]


def test_reasons_explain_the_rule():
    result = navigate(S("move_in", ["o"], [P("o", "1961-04-04")]))
    (kaigo,) = [p for p in result["procedures"] if p["code"] == "kaigo.enroll"]
    assert kaigo["reason"] == "65歳以上（法定年齢 65歳）の転入のため介護保険の資格を取得します"
    result = navigate(S("move_in", ["k"], [P("k", "2008-04-02")]))
    (medical,) = [p for p in result["procedures"] if p["code"] == "child_medical.apply"]
    assert medical["reason"] == (
        "子ども医療費助成の対象（令和9年3月31日まで）の子どもが転入したため申請します"
    )


def test_reason_dates_are_in_the_display_form():
    """Reasons are read at step 4 and in the department queues: their dates are 和暦 like
    every date shown (issue 12), while the output's ``due`` stays ISO for machines."""
    override = {"procedures": [{"code": "juki.move_in",
                                "reason": "{D}に転入、{due}までに届出（{event}）"}]}  # fmt: skip
    result = navigate(S("move_in", ["a"], [P("a")]), build_catalogue(default_document(), override))
    (move_in,) = [p for p in result["procedures"] if p["code"] == "juki.move_in"]
    assert move_in["due"] == "2026-04-17"
    assert move_in["reason"] == "令和8年4月3日に転入、令和8年4月17日までに届出（転入）"
    no_due = {"procedures": [{"code": "child_medical.apply", "reason": "期限: {due}"}]}
    catalogue = build_catalogue(default_document(), no_due)
    result = navigate(S("move_in", ["k"], [P("k", CHILD)]), catalogue)
    (medical,) = [p for p in result["procedures"] if p["code"] == "child_medical.apply"]
    assert medical["reason"] == "期限: なし"


def test_missing_booleans_are_false_and_pension_may_be_null():
    result = navigate(S("death", ["a"], [{"id": "a", "birth_date": "1980-01-01",
                                          "insurance": "none", "pension": None}]))  # fmt: skip
    assert [p["code"] for p in result["procedures"]] == ["juki.death"]


def test_japanese_birth_dates_are_accepted():
    result = navigate(S("move_in", ["o"], [P("o", "昭和36年4月4日")]))
    assert fired(result, "kaigo.enroll") == ["o"]
    result = navigate(S("move_in", ["o"], [P("o", "昭和36年月日不詳")]))  # approx 1961-01-01
    assert fired(result, "kaigo.enroll") == ["o"]


def errors_of(data) -> list[str]:
    with pytest.raises(NavigatorInputError) as info:
        navigate(data)
    return info.value.errors


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (S("moving", ["a"], [P("a")]), 'event.type: 未知の出来事 "moving"'),
        (S("move_in", ["p9"], [P("a")]), "event.subjects[0]: 'p9' は persons にいません"),
        (S("move_in", ["a"], [P("a", "1980-13-01")]), "persons[0].birth_date: 13月はありません"),
        (S("move_in", ["a"], [P("a", "someday")]),
         "persons[0].birth_date: 日付の形式が正しくありません"),
        (S("move_in", ["a"], [P("a")], date="2026-02-30"), "event.date: 2026年2月は28日まで"),
        (S("move_in", ["a"], [P("a")], date="2026/04/03x"), "event.date: "),
        (S("move_in", ["a"], [P("a", "2026-04-04")]), "persons[0].birth_date: 出来事の日"),
        (S("move_in", ["a"], [P("a", insurance="nhi")]), "persons[0].insurance: "),
        (S("move_in", ["a"], [P("a", pension="4")]), "persons[0].pension: "),
        (S("move_in", ["a"], [P("a", civil_servant="yes")]), "persons[0].civil_servant: "),
        (S("move_in", ["a"], [P("a", civil_servnat=True)]), "persons[0].civil_servnat: 未知の項目"),
        (S("move_in", ["a"], [P("a"), P("a")]), "persons[1].id: id 'a' が重複しています"),
        (S("move_in", [], [P("a")]), "event.subjects: "),
        (S("move_in", ["a"], []), "persons: "),
        (S("move_in", ["a"], [P("a")], answers={"has_cat": True}), "answers.has_cat: 未知の質問"),
        (S("move_in", ["a"], [P("a")], from_abroad="no"), "event.from_abroad: "),
        ({"persons": [P("a")]}, "event: "),
        ([], "入力は event / persons / answers を持つ JSON オブジェクトです"),
        ({**S("move_in", ["a"], [P("a")]), "extra": 1}, "extra: 未知の項目です"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error(data, expected):
    errors = errors_of(data)
    assert any(error.startswith(expected) for error in errors), errors


def test_every_problem_is_reported_at_once():
    errors = errors_of(S("moving", ["p9"], [P("a", "x", insurance="?")]))
    assert len(errors) >= 3


def test_helpers_follow_domain_section_3():
    assert HELPERS["age"]("1951-04-04", "2026-04-03") == 74
    assert HELPERS["age"]("1951-04-04", "2026-04-04") == 75  # 75 on the birthday
    assert HELPERS["legal_age"]("1961-04-04", "2026-04-03") == 65  # 65 the day before
    assert HELPERS["legal_age"]("1961-04-04", "2026-04-02") == 64
    assert HELPERS["school_age"]("2020-04-01", D) == "elementary"
    assert HELPERS["school_age"]("2020-04-02", D) == "preschool"
    assert HELPERS["eligible_child"]("2008-04-01", "2026-03-31") is True
    assert HELPERS["eligible_child"]("2008-04-01", "2026-04-01") is False
    assert HELPERS["eligible_child"]("2008-04-02", "2027-03-31") is True


def test_age_75_on_the_birthday_through_a_cel_condition():
    override = {
        "procedures": [{"code": "kouki.enroll", "condition": "age(person.birth_date, D) >= 75"}]
    }
    catalogue = build_catalogue(default_document(), override)
    on_birthday = navigate(S("move_in", ["e"], [P("e", "1951-04-03")]), catalogue)
    day_before = navigate(S("move_in", ["e"], [P("e", "1951-04-04")]), catalogue)
    assert fired(on_birthday, "kouki.enroll") == ["e"]
    assert fired(day_before, "kouki.enroll") == []

"""Who files: the navigator's ``filer`` beside ``person`` (DOMAIN §6), declared in the
catalogue (``filer:`` CEL) and validated on load."""

from __future__ import annotations

import pytest

from machi.procedures.engine import (
    CatalogueError,
    NavigatorInputError,
    build_catalogue,
    default_document,
    navigate,
)
from machi.procedures.tests.helpers import CHILD, P, S

BIRTH = S(
    "birth",
    ["baby"],
    [
        P("mother", "1990-02-01", insurance="kokuho"),
        P("head", "1988-07-01", insurance="kokuho", householder=True),
        P("baby", "2026-04-01", insurance="kokuho"),
    ],
)


def entries(result, code):
    return [(p["person"], p["filer"]) for p in result["procedures"] if p["code"] == code]


def death(answers=None, insurance="kokuho"):
    return S(
        "death",
        ["late"],
        [P("late", "1950-01-01", insurance=insurance, householder=True), P("son", "1975-05-05"),
         P("wife", "1952-03-03")],
        answers=answers,
    )  # fmt: skip


def test_every_entry_has_a_filer_key_null_when_the_person_files():
    result = navigate(BIRTH)
    assert all("filer" in p for p in result["procedures"])
    assert entries(result, "kokuho.enroll") == [("baby", None)]
    assert entries(result, "child_allowance.apply") == [("head", None)]  # person = claimant


def test_birth_lump_sum_is_claimed_by_the_householder_not_the_newborn():
    assert entries(navigate(BIRTH), "kokuho.birth_lump_sum") == [("baby", "head")]


def test_birth_lump_sum_without_a_householder_in_the_input_has_no_filer():
    persons = [P("mother", insurance="kokuho"), P("baby", "2026-04-01", insurance="kokuho")]
    data = S("birth", ["baby"], persons)
    assert entries(navigate(data), "kokuho.birth_lump_sum") == [("baby", None)]


@pytest.mark.parametrize(
    ("insurance", "code"),
    [("kokuho", "kokuho.funeral_benefit"), ("kouki", "kouki.funeral_benefit")],
)
def test_funeral_benefit_goes_to_the_funeral_host(insurance, code):
    assert entries(navigate(death(insurance=insurance)), code) == [("late", None)]  # not known
    answered = navigate(death({"funeral_host": "son"}, insurance=insurance))
    assert entries(answered, code) == [("late", "son")]


def test_heir_representative_when_given():
    result = navigate(death({"owns_real_estate": True, "heir_representative": "wife"}))
    assert entries(result, "tax.heir_representative") == [("late", "wife")]
    result = navigate(death({"owns_real_estate": True}))
    assert entries(result, "tax.heir_representative") == [("late", None)]


@pytest.mark.parametrize("value", ["nobody", True, 3])
def test_a_person_answer_must_name_a_person_of_the_input(value):
    with pytest.raises(NavigatorInputError) as info:
        navigate(death({"funeral_host": value}))
    assert any(e.startswith("answers.funeral_host: ") for e in info.value.errors), info.value


def test_a_municipality_declares_its_own_filer():
    override = {
        "procedures": [
            {"code": "child_medical.apply", "filer": "householder"},
            {"code": "dog.transfer_in", "filer": "householder"},
        ]
    }
    catalogue = build_catalogue(default_document(), override)
    data = S("move_in", ["head", "kid"], [P("head", householder=True), P("kid", CHILD)],
             answers={"has_dog": True})  # fmt: skip
    result = navigate(data, catalogue)
    assert entries(result, "child_medical.apply") == [("kid", "head")]
    assert entries(result, "dog.transfer_in") == [(None, "head")]  # household-level


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"code": "kaigo.enroll", "filer": 5}, "procedures[0] (kaigo.enroll): filer: "),
        ({"code": "kaigo.enroll", "filer": "owner"},
         "procedures[0] (kaigo.enroll): filer: 未知の変数 'owner'"),
        ({"code": "kaigo.enroll", "filer": "person.age > 1"},
         "procedures[0] (kaigo.enroll): filer: 評価できません"),
        ({"code": "kaigo.enroll", "filer": "person.insurance == 'kokuho'"},
         "procedures[0] (kaigo.enroll): filer: 評価できません"),
    ],
)  # fmt: skip
def test_a_bad_filer_is_refused_on_load_naming_the_entry(override, expected):
    with pytest.raises(CatalogueError) as info:
        build_catalogue(default_document(), {"procedures": [override]})
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors

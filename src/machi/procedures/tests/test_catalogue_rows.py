"""Every row of DOMAIN.md §6's default catalogue fires where it should and not elsewhere.

Pure engine tests (no Django). Ages are taken on D = 2026-04-03.
"""

from __future__ import annotations

import pytest

from machi.procedures.engine import default_catalogue, navigate
from machi.procedures.tests.helpers import CHILD, D, P, S, due, fired

H = P("h", householder=True)  # a householder who is not a subject

# (case id, code, scenario where it fires, persons it fires for, scenario where it does not)
ROWS = [
    ("juki.birth", "juki.birth",
     S("birth", ["n"], [H, P("n", D)]), ["n"],
     S("move_in", ["a"], [P("a")])),
    ("juki.move_in", "juki.move_in",
     S("move_in", ["a", "b"], [P("a"), P("b")]), ["a", "b"],
     S("move_within", ["a"], [P("a")])),
    ("juki.move_out", "juki.move_out",
     S("move_out", ["a"], [P("a"), P("b")]), ["a"],
     S("move_in", ["a"], [P("a")])),
    ("juki.move_within", "juki.move_within",
     S("move_within", ["a"], [P("a")]), ["a"],
     S("move_out", ["a"], [P("a")])),
    ("juki.death", "juki.death",
     S("death", ["a"], [P("a"), P("b")]), ["a"],
     S("birth", ["n"], [H, P("n", D)])),
    ("juki.householder_change: two remaining aged 15 and over", "juki.householder_change",
     S("death", ["h"], [H, P("b"), P("c", "2011-04-03")]), [None],
     S("death", ["h"], [H, P("b"), P("c", "2011-04-04")])),  # c is 14 on D
    ("juki.householder_change: deceased not householder", "juki.householder_change",
     S("death", ["h"], [H, P("b"), P("c")]), [None],
     S("death", ["b"], [H, P("b"), P("c"), P("d")])),
    ("juki.household_change", "juki.household_change",
     S("household_change", ["a"], [P("a")]), ["a"],
     S("marriage", ["a"], [P("a")])),
    ("juki.marriage", "juki.marriage",
     S("marriage", ["a", "b"], [P("a"), P("b")]), ["a", "b"],
     S("divorce", ["a", "b"], [P("a"), P("b")])),
    ("juki.divorce", "juki.divorce",
     S("divorce", ["a", "b"], [P("a"), P("b")]), ["a", "b"],
     S("marriage", ["a", "b"], [P("a"), P("b")])),
    ("mynumber.continue", "mynumber.continue",
     S("move_in", ["a", "b"], [P("a", my_number_card=True), P("b")]), ["a"],
     S("move_in", ["a"], [P("a", my_number_card=True)], from_abroad=True)),
    ("mynumber.address_update", "mynumber.address_update",
     S("move_within", ["a", "b"], [P("a", my_number_card=True), P("b")]), ["a"],
     S("move_within", ["b"], [P("b")])),
    ("mynumber.name_update", "mynumber.name_update",
     S("marriage", ["a", "b"], [P("a", my_number_card=True, name_changes=True),
                                P("b", my_number_card=True)]), ["a"],
     S("divorce", ["b"], [P("b", my_number_card=True)])),
    ("mynumber.return: death", "mynumber.return",
     S("death", ["a"], [P("a", my_number_card=True), P("b", my_number_card=True)]), ["a"],
     S("death", ["b"], [P("a", my_number_card=True), P("b")])),
    ("mynumber.return: move out to abroad", "mynumber.return",
     S("move_out", ["a", "b"], [P("a", my_number_card=True), P("b")], to_abroad=True), ["a"],
     S("move_out", ["a"], [P("a", my_number_card=True)])),
    ("seal.register: 15 on D", "seal.register",
     S("move_in", ["a", "c"], [P("a"), P("c", "2011-04-03")],
       answers={"wants_seal_registration": True}), ["a", "c"],
     S("move_in", ["c"], [P("c", "2011-04-04")], answers={"wants_seal_registration": True})),
    ("seal.register: not wanted", "seal.register",
     S("move_in", ["a"], [P("a")], answers={"wants_seal_registration": True}), ["a"],
     S("move_in", ["a"], [P("a")])),
    ("seal.return_card: move out", "seal.return_card",
     S("move_out", ["a", "b"], [P("a", seal_registered=True), P("b")]), ["a"],
     S("move_out", ["b"], [P("b")])),
    ("seal.return_card: death", "seal.return_card",
     S("death", ["a"], [P("a", seal_registered=True), P("b", seal_registered=True)]), ["a"],
     S("death", ["b"], [P("a", seal_registered=True), P("b")])),
    ("seal.reregister", "seal.reregister",
     S("divorce", ["a", "b"], [P("a", seal_registered=True, name_changes=True),
                               P("b", seal_registered=True)]), ["a"],
     S("marriage", ["b"], [P("b", seal_registered=True)])),
    ("kokuho.enroll: birth", "kokuho.enroll",
     S("birth", ["n"], [H, P("n", D, insurance="kokuho")]), ["n"],
     S("birth", ["n"], [P("h", householder=True, insurance="kokuho"), P("n", D)])),
    ("kokuho.enroll: move in", "kokuho.enroll",
     S("move_in", ["a", "b"], [P("a", insurance="kokuho"), P("b")]), ["a"],
     S("move_in", ["b"], [P("a", insurance="kokuho"), P("b")])),
    ("kokuho.enroll: divorce", "kokuho.enroll",
     S("divorce", ["a", "b"], [P("a", insurance="kokuho"), P("b")]), ["a"],
     S("divorce", ["b"], [P("b", insurance="welfare")])),
    ("kokuho.withdraw: move out", "kokuho.withdraw",
     S("move_out", ["a"], [P("a", insurance="kokuho")]), ["a"],
     S("move_out", ["a"], [P("a", insurance="none")])),
    ("kokuho.withdraw: death", "kokuho.withdraw",
     S("death", ["a"], [P("a", insurance="kokuho"), P("b", insurance="kokuho")]), ["a"],
     S("death", ["a"], [P("a", insurance="kouki"), P("b", insurance="kokuho")])),
    ("kokuho.name_change", "kokuho.name_change",
     S("marriage", ["a", "b"], [P("a", insurance="kokuho", name_changes=True),
                                P("b", insurance="kokuho")]), ["a"],
     S("divorce", ["a"], [P("a", insurance="employee", name_changes=True)])),
    ("kokuho.birth_lump_sum", "kokuho.birth_lump_sum",
     S("birth", ["n"], [H, P("n", D, insurance="kokuho")]), ["n"],
     S("birth", ["n"], [H, P("n", D, insurance="employee")])),
    ("kokuho.funeral_benefit", "kokuho.funeral_benefit",
     S("death", ["a"], [P("a", insurance="kokuho")]), ["a"],
     S("death", ["a"], [P("a", insurance="kouki")])),
    ("kouki.enroll", "kouki.enroll",
     S("move_in", ["e", "a"], [P("e", "1950-01-01", insurance="kouki"), P("a")]), ["e"],
     S("move_in", ["e"], [P("e", "1950-01-01", insurance="kokuho")])),
    ("kouki.withdraw: move out", "kouki.withdraw",
     S("move_out", ["e"], [P("e", "1950-01-01", insurance="kouki")]), ["e"],
     S("move_out", ["e"], [P("e", "1950-01-01", insurance="kokuho")])),
    ("kouki.withdraw: death", "kouki.withdraw",
     S("death", ["e"], [P("e", "1950-01-01", insurance="kouki")]), ["e"],
     S("death", ["e"], [P("e", "1950-01-01", insurance="welfare")])),
    ("kouki.funeral_benefit", "kouki.funeral_benefit",
     S("death", ["e"], [P("e", "1950-01-01", insurance="kouki")]), ["e"],
     S("death", ["e"], [P("e", "1950-01-01", insurance="kokuho")])),
    ("pension.enroll: legal age 20 (the day before the 20th birthday)", "pension.enroll",
     S("move_in", ["y"], [P("y", "2006-04-04", pension="1")], from_abroad=True), ["y"],
     S("move_in", ["y"], [P("y", "2006-04-05", pension="1")], from_abroad=True)),
    ("pension.enroll: legal age 59, not 60", "pension.enroll",
     S("move_in", ["o"], [P("o", "1966-04-05", pension="1")], from_abroad=True), ["o"],
     S("move_in", ["o"], [P("o", "1966-04-04", pension="1")], from_abroad=True)),
    ("pension.enroll: only from abroad", "pension.enroll",
     S("move_in", ["a"], [P("a", pension="1")], from_abroad=True), ["a"],
     S("move_in", ["a"], [P("a", pension="1")])),
    ("pension.enroll: only category 1", "pension.enroll",
     S("move_in", ["a"], [P("a", pension="1")], from_abroad=True), ["a"],
     S("move_in", ["a"], [P("a", pension="2")], from_abroad=True)),
    ("pension.type_change", "pension.type_change",
     S("divorce", ["a", "b"], [P("a", pension="2"), P("b", pension="3")]), ["b"],
     S("divorce", ["a"], [P("a", pension="1")])),
    ("pension.death_claims: category 1", "pension.death_claims",
     S("death", ["a"], [P("a", pension="1")]), ["a"],
     S("death", ["a"], [P("a", pension="2")])),
    ("pension.death_claims: pensioner", "pension.death_claims",
     S("death", ["e"], [P("e", "1950-01-01", receives_pension=True)]), ["e"],
     S("death", ["e"], [P("e", "1950-01-01", pension=None)])),
    ("kaigo.enroll: 65 on the day before the birthday", "kaigo.enroll",
     S("move_in", ["o", "a"], [P("o", "1961-04-04"), P("a")]), ["o"],
     S("move_in", ["o"], [P("o", "1961-04-05")])),
    ("kaigo.withdraw: move out at 65", "kaigo.withdraw",
     S("move_out", ["o"], [P("o", "1961-04-04")]), ["o"],
     S("move_out", ["o"], [P("o", "1961-04-05")])),
    ("kaigo.withdraw: death of a certified person", "kaigo.withdraw",
     S("death", ["a"], [P("a", care_certified=True)]), ["a"],
     S("death", ["a"], [P("a")])),
    ("kaigo.certificate_transfer: move in", "kaigo.certificate_transfer",
     S("move_in", ["o"], [P("o", "1950-01-01", care_certified=True)]), ["o"],
     S("move_in", ["o"], [P("o", "1950-01-01")])),
    ("kaigo.certificate_transfer: move out", "kaigo.certificate_transfer",
     S("move_out", ["o"], [P("o", "1950-01-01", care_certified=True)]), ["o"],
     S("move_within", ["o"], [P("o", "1950-01-01", care_certified=True)])),
    ("child_medical.apply: birth", "child_medical.apply",
     S("birth", ["n"], [H, P("n", D)]), ["n"],
     S("move_within", ["n"], [H, P("n", CHILD)])),
    ("child_medical.apply: eligible to 31 March after 18", "child_medical.apply",
     S("move_in", ["h", "k"], [H, P("k", "2008-04-02")]), ["k"],  # eligible to 2027-03-31
     S("move_in", ["h", "k"], [H, P("k", "2008-04-01")])),  # eligible to 2026-03-31
    ("child_medical.return", "child_medical.return",
     S("move_out", ["h", "k"], [H, P("k", "2008-04-02")]), ["k"],
     S("move_out", ["h", "k"], [H, P("k", "2008-04-01")])),
    ("single_parent.apply", "single_parent.apply",
     S("divorce", ["a", "b"], [P("a", custodial_parent=True), P("b"), P("k", CHILD)]), ["a"],
     S("divorce", ["a", "b"], [P("a", custodial_parent=True), P("b"), P("k", "2008-04-01")])),
    ("health.birth_notice", "health.birth_notice",
     S("birth", ["n"], [H, P("n", D)]), ["n"],
     S("move_in", ["n"], [P("n", CHILD)])),
    ("health.child_checkup_transfer: born 2 April is still preschool",
     "health.child_checkup_transfer",
     S("move_in", ["h", "k"], [H, P("k", "2020-04-02")]), ["k"],
     S("move_in", ["h", "k"], [H, P("k", "2020-04-01")])),
    ("school.transfer_in: born 1 April entered school on 1 April", "school.transfer_in",
     S("move_in", ["h", "k"], [H, P("k", "2020-04-01")]), ["k"],
     S("move_in", ["h", "k"], [H, P("k", "2020-04-02")])),
    ("school.transfer_in: junior high until 31 March", "school.transfer_in",
     S("move_in", ["h", "k"], [H, P("k", "2011-04-02")]), ["k"],
     S("move_in", ["h", "k"], [H, P("k", "2010-04-01")])),
    ("school.transfer_out", "school.transfer_out",
     S("move_out", ["h", "k"], [H, P("k", "2013-01-01")]), ["k"],
     S("move_out", ["h", "k"], [H, P("k", "2010-04-01")])),
    ("school.district_check", "school.district_check",
     S("move_within", ["h", "k"], [H, P("k", CHILD)]), ["k"],
     S("move_within", ["h"], [H])),
    ("dog.transfer_in", "dog.transfer_in",
     S("move_in", ["a"], [P("a")], answers={"has_dog": True}), [None],
     S("move_in", ["a"], [P("a")], answers={"has_dog": False})),
    ("dog.address_change", "dog.address_change",
     S("move_within", ["a"], [P("a")], answers={"has_dog": True}), [None],
     S("move_in", ["a"], [P("a")], answers={"wants_seal_registration": True})),
    ("disability.address_change: move in", "disability.address_change",
     S("move_in", ["a", "b"], [P("a", disability_certificate=True), P("b")]), ["a"],
     S("move_in", ["b"], [P("a", disability_certificate=True), P("b")])),
    ("disability.address_change: move within", "disability.address_change",
     S("move_within", ["a"], [P("a", disability_certificate=True)]), ["a"],
     S("move_out", ["a"], [P("a", disability_certificate=True)])),
    ("disability.return", "disability.return",
     S("death", ["a"], [P("a", disability_certificate=True)]), ["a"],
     S("death", ["a"], [P("a")])),
    ("tax.heir_representative", "tax.heir_representative",
     S("death", ["a"], [P("a")], answers={"owns_real_estate": True}), ["a"],
     S("death", ["a"], [P("a")])),
    ("child_allowance.apply: birth", "child_allowance.apply",
     S("birth", ["n"], [H, P("n", D)]), ["h"],
     S("birth", ["n"], [P("h", householder=True, civil_servant=True), P("n", D)])),
    ("child_allowance.amount_change: birth", "child_allowance.amount_change",
     S("birth", ["n"], [H, P("r", child_allowance_recipient=True), P("n", D)]), ["r"],
     S("birth", ["n"], [H, P("n", D)])),
    ("child_allowance.terminate: move out", "child_allowance.terminate",
     S("move_out", ["r"], [P("r", child_allowance_recipient=True)]), ["r"],
     S("move_out", ["h"], [H, P("r", child_allowance_recipient=True)])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "yes", "expected", "no"),
    [pytest.param(code, yes, expected, no, id=case) for case, code, yes, expected, no in ROWS],
)
def test_row_fires_and_does_not_fire(code, yes, expected, no):
    assert fired(navigate(yes), code) == expected
    assert fired(navigate(no), code) == []


def test_every_catalogue_row_is_in_the_table():
    tested = {code for _, code, *_ in ROWS}
    assert tested == {entry.code for entry in default_catalogue().entries}
    assert len(tested) == 46


@pytest.mark.parametrize(
    ("scenario", "code", "expected_due"),
    [
        (S("move_in", ["a"], [P("a")]), "juki.move_in", "2026-04-17"),
        (S("move_out", ["a"], [P("a")]), "juki.move_out", D),  # "D": the event day
        (S("death", ["a"], [P("a")]), "juki.death", "2026-04-10"),
        (S("move_in", ["a"], [P("a", my_number_card=True)]), "mynumber.continue", "2026-07-02"),
        (S("move_in", ["a"], [P("a")], answers={"has_dog": True}), "dog.transfer_in",
         "2026-05-07"),  # +30 = 5/3 憲法記念日 (Sun) → 5/4, 5/5, 5/6 振替休日 → 5/7
        (S("birth", ["n"], [H, P("n", D)]), "child_allowance.apply", "2026-04-20"),  # +15 = Sat
        (S("move_in", ["a"], [P("a")]), "seal.register", None),
        (S("move_out", ["o"], [P("o", care_certified=True)]), "kaigo.certificate_transfer", None),
        (S("move_in", ["o"], [P("o", care_certified=True)]), "kaigo.certificate_transfer",
         "2026-04-17"),
    ],
)  # fmt: skip
def test_due_dates(scenario, code, expected_due):
    result = navigate(scenario)
    if code == "seal.register":
        assert fired(result, code) == []
        return
    assert due(result, code) == expected_due


def test_deadlines_roll_past_holidays_and_year_end():
    # 2025-04-20 + 14 = 5/4 みどりの日 → 5/5 こどもの日 → 5/6 振替休日 → 5/7
    assert due(navigate(S("move_in", ["a"], [P("a")], date="2025-04-20")), "juki.move_in") == (
        "2025-05-07"
    )
    # 2025-12-15 + 14 = 12/29 年末年始 → … → 1/3 → 1/4 Sunday → 1/5
    assert due(navigate(S("move_in", ["a"], [P("a")], date="2025-12-15")), "juki.move_in") == (
        "2026-01-05"
    )


def test_due_d_rolls_to_the_next_open_day():
    # A move out on Saturday 2026-04-04: due "D" → Monday 2026-04-06.
    result = navigate(S("move_out", ["a"], [P("a")], date="2026-04-04"))
    assert due(result, "juki.move_out") == "2026-04-06"

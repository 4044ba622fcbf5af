"""The child-allowance rules of DOMAIN.md §6, in detail (pure engine tests)."""

from __future__ import annotations

from machi.procedures.engine import navigate
from machi.procedures.tests.helpers import CHILD, D, P, S, fired

APPLY, AMOUNT, TERMINATE = (
    "child_allowance.apply",
    "child_allowance.amount_change",
    "child_allowance.terminate",
)


def allowance(scenario):
    result = navigate(scenario)
    return {code: fired(result, code) for code in (APPLY, AMOUNT, TERMINATE)}


# -- birth: nothing for a civil servant; amount change for a recipient, else apply


def test_birth_claimant_is_the_householder_when_nobody_receives_it():
    got = allowance(S("birth", ["n"], [P("h", householder=True), P("m"), P("n", D)]))
    assert got == {APPLY: ["h"], AMOUNT: [], TERMINATE: []}


def test_birth_claimant_is_the_recipient_before_the_householder():
    persons = [P("h", householder=True), P("m", child_allowance_recipient=True), P("n", D)]
    assert allowance(S("birth", ["n"], persons)) == {APPLY: [], AMOUNT: ["m"], TERMINATE: []}


def test_birth_nothing_when_the_claimant_is_a_civil_servant():
    persons = [P("h", householder=True, civil_servant=True), P("n", D)]
    assert allowance(S("birth", ["n"], persons)) == {APPLY: [], AMOUNT: [], TERMINATE: []}
    persons = [P("h", householder=True), P("m", child_allowance_recipient=True,
                                           civil_servant=True), P("n", D)]  # fmt: skip
    assert allowance(S("birth", ["n"], persons)) == {APPLY: [], AMOUNT: [], TERMINATE: []}


def test_birth_with_no_claimant_gives_nothing():
    assert allowance(S("birth", ["n"], [P("m"), P("n", D)])) == {
        APPLY: [],
        AMOUNT: [],
        TERMINATE: [],
    }


# -- move_in: apply when the claimant moves in, is not a civil servant, with an eligible child


def test_move_in_claimant_with_an_eligible_child():
    persons = [P("h", householder=True), P("m"), P("k", CHILD)]
    assert allowance(S("move_in", ["h", "m", "k"], persons))[APPLY] == ["h"]


def test_move_in_claimant_not_a_subject():
    persons = [P("h", householder=True), P("k", CHILD)]
    assert allowance(S("move_in", ["k"], persons))[APPLY] == []


def test_move_in_claimant_civil_servant():
    persons = [P("h", householder=True, civil_servant=True), P("k", CHILD)]
    assert allowance(S("move_in", ["h", "k"], persons))[APPLY] == []


def test_move_in_child_past_eligibility_or_not_moving():
    persons = [P("h", householder=True), P("k", "2008-04-01")]  # eligible to 2026-03-31
    assert allowance(S("move_in", ["h", "k"], persons))[APPLY] == []
    persons = [P("h", householder=True), P("k", "2008-04-02")]  # eligible to 2027-03-31
    assert allowance(S("move_in", ["h", "k"], persons))[APPLY] == ["h"]
    persons = [P("h", householder=True), P("k", CHILD)]
    assert allowance(S("move_in", ["h"], persons))[APPLY] == []  # the child is not moving


# -- move_out: terminate for each subject who is a recipient


def test_move_out_terminates_for_each_recipient_subject():
    persons = [P("h", householder=True), P("r", child_allowance_recipient=True), P("k", CHILD)]
    assert allowance(S("move_out", ["h", "r", "k"], persons))[TERMINATE] == ["r"]
    assert allowance(S("move_out", ["h", "k"], persons))[TERMINATE] == []


# -- death: terminate for the deceased if a recipient


def test_death_of_a_recipient():
    persons = [P("h", householder=True), P("r", child_allowance_recipient=True), P("k", CHILD)]
    assert allowance(S("death", ["r"], persons))[TERMINATE] == ["r"]
    assert allowance(S("death", ["h"], persons))[TERMINATE] == []


# -- divorce


def test_divorce_custodial_parent_applies():
    persons = [P("a", householder=True), P("b", custodial_parent=True), P("k", CHILD)]
    got = allowance(S("divorce", ["a", "b"], persons))
    assert got[APPLY] == ["b"]
    assert got[TERMINATE] == []


def test_divorce_no_apply_without_eligible_child_or_for_civil_servant_or_recipient():
    base = [P("a", householder=True), P("k", CHILD)]
    no_child = [P("a", householder=True), P("b", custodial_parent=True), P("k", "2008-04-01")]
    assert allowance(S("divorce", ["a", "b"], no_child))[APPLY] == []
    servant = [*base, P("b", custodial_parent=True, civil_servant=True)]
    assert allowance(S("divorce", ["a", "b"], servant))[APPLY] == []
    recipient = [*base, P("b", custodial_parent=True, child_allowance_recipient=True)]
    assert allowance(S("divorce", ["a", "b"], recipient)) == {APPLY: [], AMOUNT: [], TERMINATE: []}


def test_divorce_recipient_who_is_not_custodial_terminates():
    persons = [
        P("a", householder=True, child_allowance_recipient=True),
        P("b", custodial_parent=True),
        P("k", CHILD),
    ]
    got = allowance(S("divorce", ["a", "b"], persons))
    assert got == {APPLY: ["b"], AMOUNT: [], TERMINATE: ["a"]}


def test_divorce_custodial_parent_must_be_a_subject():
    persons = [P("a", householder=True), P("b", custodial_parent=True), P("k", CHILD)]
    assert allowance(S("divorce", ["a"], persons))[APPLY] == []

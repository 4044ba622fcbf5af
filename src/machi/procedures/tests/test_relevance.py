"""Only questions that matter (issue 12): question_relevance derives from the rules which
questions could still change the output, per person, for every life event."""

from __future__ import annotations

import datetime

import pytest

from machi.procedures.engine import (
    QUESTION_FIELDS,
    NavigatorInputError,
    build_catalogue,
    default_document,
    navigate,
    question_relevance,
)
from machi.procedures.engine.relevance import possible_values
from machi.procedures.tests.helpers import D

ADULT, PARTNER, TODDLER, PUPIL, ELDER, THIRTY = (
    "1986-01-10", "1988-02-20", "2023-01-01", "2016-05-05", "1946-03-03", "1996-01-01"
)  # fmt: skip


def unknown(pid, birth, **known):
    """A person with only the registry's facts; the questions not answered yet."""
    return {"id": pid, "birth_date": birth, **known}


def data(event, subjects, persons, answers=None, **flags):
    return {
        "event": {"type": event, "date": D, "subjects": subjects, **flags},
        "persons": persons,
        **({"answers": answers} if answers is not None else {}),
    }


FAMILY = [
    unknown("head", ADULT, householder=True),
    unknown("partner", PARTNER),
    unknown("toddler", TODDLER),
    unknown("grandma", ELDER),
]

# event → (input, {person: (asked, not asked)}, (answers asked, answers not asked))
CASES = {
    "move_in": (
        data("move_in", ["head", "partner", "toddler", "grandma"], FAMILY),
        {
            "head": (
                {
                    "insurance",
                    "my_number_card",
                    "disability_certificate",
                    "civil_servant",
                    "child_allowance_recipient",
                    "care_certified",
                },
                {
                    "pension",
                    "name_changes",
                    "custodial_parent",
                    "receives_pension",
                    "seal_registered",
                },
            ),
            "toddler": (
                {"insurance", "my_number_card", "disability_certificate"},
                {
                    "pension",
                    "civil_servant",
                    "care_certified",
                    "seal_registered",
                    "child_allowance_recipient",
                    "receives_pension",
                },
            ),
            "grandma": ({"insurance", "care_certified"}, {"pension", "name_changes"}),
        },
        ({"has_dog", "wants_seal_registration"}, {"owns_real_estate", "funeral_host"}),
    ),
    "move_in_from_abroad": (
        data("move_in", ["head", "toddler"], FAMILY[:1] + FAMILY[2:3], from_abroad=True),
        {
            "head": ({"pension", "insurance"}, {"my_number_card"}),  # no 継続利用 from abroad
            "toddler": ({"insurance"}, {"pension", "civil_servant", "care_certified"}),
        },
        ({"has_dog"}, set()),
    ),
    "move_out": (
        data("move_out", ["head", "toddler"], FAMILY[:1] + FAMILY[2:3]),
        {
            "head": (
                {"insurance", "seal_registered", "child_allowance_recipient", "care_certified"},
                {"my_number_card", "pension", "civil_servant"},
            ),
            "toddler": (
                {"insurance"},
                {
                    "seal_registered",
                    "care_certified",
                    "civil_servant",
                    "child_allowance_recipient",
                    "pension",
                },
            ),
        },
        (set(), {"has_dog", "wants_seal_registration"}),
    ),
    "move_out_to_abroad": (
        data("move_out", ["head"], FAMILY[:1], to_abroad=True),
        {"head": ({"my_number_card"}, {"pension"})},
        (set(), set()),
    ),
    "move_within": (
        data("move_within", ["head", "toddler"], FAMILY[:1] + FAMILY[2:3]),
        {
            "head": (
                {"my_number_card", "disability_certificate"},
                {
                    "insurance",
                    "pension",
                    "seal_registered",
                    "care_certified",
                    "civil_servant",
                    "child_allowance_recipient",
                },
            ),
            "toddler": (
                {"my_number_card", "disability_certificate"},
                {"insurance", "civil_servant"},
            ),
        },
        ({"has_dog"}, {"wants_seal_registration"}),
    ),
    "birth": (
        data("birth", ["baby"], [*FAMILY[:3], unknown("baby", D)]),
        {
            "baby": ({"insurance"}, {"pension", "my_number_card", "civil_servant"}),
            "head": (
                {"civil_servant", "child_allowance_recipient"},
                {"insurance", "pension", "my_number_card", "care_certified"},
            ),
            "partner": ({"child_allowance_recipient", "civil_servant"}, {"insurance"}),
            "toddler": (set(), {"civil_servant", "child_allowance_recipient", "insurance"}),
        },
        (set(), {"has_dog"}),
    ),
    "death": (
        data("death", ["grandma"], FAMILY),
        {
            "grandma": (
                {
                    "insurance",
                    "pension",
                    "receives_pension",
                    "my_number_card",
                    "seal_registered",
                    "disability_certificate",
                },
                {"care_certified", "civil_servant"},
            ),  # 80: 介護 ends anyway
            "head": (set(), set(QUESTION_FIELDS)),
            "toddler": (set(), set(QUESTION_FIELDS)),
        },
        ({"funeral_host", "owns_real_estate", "heir_representative"}, {"has_dog"}),
    ),
    "death_of_a_thirty_year_old": (
        data(
            "death",
            ["young"],
            [unknown("young", THIRTY, householder=True), unknown("mum", "1966-06-06")],
        ),
        {"young": ({"insurance", "pension"}, {"care_certified"})},  # no 介護 question at 30
        ({"funeral_host"}, set()),
    ),
    "marriage": (
        data("marriage", ["head", "partner"], FAMILY[:2]),
        {
            "head": (
                {"name_changes", "my_number_card", "seal_registered", "insurance"},
                {"pension", "civil_servant", "care_certified", "custodial_parent"},
            ),
        },
        (set(), set()),
    ),
    "divorce_without_children": (
        data("divorce", ["head", "partner"], FAMILY[:2]),
        {
            "head": (
                {"pension", "custodial_parent", "child_allowance_recipient"},
                {"civil_servant", "care_certified"},
            ),  # no child: 児童手当 cannot start
        },
        (set(), set()),
    ),
    "divorce_with_a_child": (
        data("divorce", ["head", "partner"], FAMILY[:3]),
        {
            "head": ({"custodial_parent", "civil_servant", "child_allowance_recipient"}, set()),
            "toddler": (set(), set(QUESTION_FIELDS)),  # not a subject
        },
        (set(), set()),
    ),
    "household_change": (
        data("household_change", ["partner"], FAMILY[:2]),
        {"partner": (set(), set(QUESTION_FIELDS))},  # 世帯変更届 always, nothing to ask
        (set(), set()),
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_life_event_asks_what_matters_and_only_that(case):
    given, persons, (asked_answers, silent_answers) = CASES[case]
    relevance = question_relevance(given)
    assert set(relevance.persons) == {p["id"] for p in given["persons"]}
    for pid, (asked, silent) in persons.items():
        got = set(relevance.persons[pid])
        assert asked <= got, (pid, asked - got)
        assert not (silent & got), (pid, silent & got)
    assert asked_answers <= set(relevance.answers)
    assert not (silent_answers & set(relevance.answers))


def test_every_event_of_the_default_catalogue_is_covered():
    events = {given["event"]["type"] for given, _, _ in CASES.values()}
    assert events == set(default_document_events())


def default_document_events():
    return {event for entry in default_document()["procedures"] for event in entry["events"]}


def test_a_known_answer_settles_the_questions_behind_it():
    persons = [unknown("a", ADULT, householder=True), unknown("b", PARTNER)]
    open_ = question_relevance(data("marriage", ["a", "b"], persons))
    assert {"my_number_card", "seal_registered"} <= set(open_.persons["a"])
    settled = [{**persons[0], "name_changes": False}, persons[1]]
    closed = question_relevance(data("marriage", ["a", "b"], settled))
    assert closed.persons["a"] == ("name_changes",)  # still shown: it matters itself
    # employee insurance known: no 葬祭費, so nobody is asked who held the funeral
    dead = [unknown("x", ELDER, householder=True, insurance="employee"), unknown("y", ADULT)]
    assert "funeral_host" not in question_relevance(data("death", ["x"], dead)).answers
    assert (
        "funeral_host"
        in question_relevance(
            data("death", ["x"], [{**dead[0], "insurance": "kokuho"}, dead[1]])
        ).answers
    )


def test_the_householder_recipient_decides_who_else_is_asked():
    # a known recipient comes first: the others' recipient flag cannot change the claimant
    persons = [unknown("a", ADULT, householder=True, child_allowance_recipient=True),
               unknown("b", PARTNER), unknown("baby", D)]  # fmt: skip
    relevance = question_relevance(data("birth", ["baby"], persons))
    assert "child_allowance_recipient" in relevance.persons["a"]
    assert "child_allowance_recipient" not in relevance.persons["b"]
    assert "civil_servant" not in relevance.persons["b"]
    assert "civil_servant" in relevance.persons["a"]


def test_relevance_agrees_with_the_navigator():
    """What it calls irrelevant really changes nothing: every possible value of an unasked
    question (by law: no 要介護認定 before 40) gives the same procedures."""
    given, _, _ = CASES["move_in"]
    relevance = question_relevance(given)
    filled = {
        "event": given["event"],
        "persons": [{**p, "insurance": "kokuho"} for p in given["persons"]],
    }
    base = navigate(filled)
    for i, person in enumerate(filled["persons"]):
        for name in set(QUESTION_FIELDS) - set(relevance.persons[person["id"]]):
            born = datetime.date.fromisoformat(person["birth_date"])
            if name in ("insurance", "pension") or True not in possible_values(
                name, born, datetime.date.fromisoformat(D)
            ):
                continue
            changed = {**filled, "persons": list(filled["persons"])}
            changed["persons"][i] = {**person, name: True}
            assert navigate(changed) == base, (person["id"], name)


def test_a_municipality_rule_makes_its_question_count():
    condition = "person.civil_servant && answers.wants_seal_registration"
    override = {"procedures": [{"code": "seal.register", "condition": condition}]}
    catalogue = build_catalogue(default_document(), override)
    given = data("move_in", ["solo"], [unknown("solo", THIRTY, householder=True)])
    default = question_relevance(given)
    assert "civil_servant" not in default.persons["solo"]  # no child: no 児童手当
    assert "civil_servant" in question_relevance(given, catalogue).persons["solo"]


def test_a_rule_reading_other_persons_counts_for_everyone():
    condition = "persons.exists(p, p.disability_certificate)"
    override = {"procedures": [{"code": "dog.transfer_in", "condition": condition}]}
    catalogue = build_catalogue(default_document(), override)
    given = data("move_in", ["a"], [unknown("a", ADULT, householder=True), unknown("b", PARTNER)])
    relevance = question_relevance(given, catalogue)
    assert "disability_certificate" in relevance.persons["b"]  # b is no subject


def test_bad_input_is_the_navigators_error():
    with pytest.raises(NavigatorInputError) as info:
        question_relevance(data("move_in", ["a"], [unknown("a", "someday")]))
    assert info.value.errors[0].startswith("persons[0].birth_date: ")
    with pytest.raises(NavigatorInputError):
        question_relevance([])
    with pytest.raises(NavigatorInputError):
        question_relevance(data("move_in", ["zz"], [unknown("a", ADULT)]))


def test_as_dict_is_json_ready():
    given, _, _ = CASES["move_out_to_abroad"]
    body = question_relevance(given).as_dict()
    assert set(body) == {"persons", "answers"}
    assert isinstance(body["persons"]["head"], list)

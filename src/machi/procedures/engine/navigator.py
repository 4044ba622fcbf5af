"""The navigator: a life event and the household → every procedure that follows.

Input and output are those of DOMAIN.md §6::

    navigate({"event": {...}, "persons": [...], "answers": {...}}, catalogue)
    → {"procedures": [{"code", "title", "department", "person", "filer", "due", "reason"}, …]}

The input is validated first (every problem is reported, each naming its field);
then one ``cel.Context`` is built for the request and each rule of the event's list
runs its compiled program once (the program filters the candidates itself).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cel
from pydantic import ValidationError

from machi.japanese import (
    age,
    deadline,
    eligible_child_until,
    format_date,
    legal_age,
    school_age,
)
from machi.procedures.engine.catalogue import (
    EVENT_LABELS,
    SCHOOL_AGE_LABELS,
    Catalogue,
    Rule,
    default_catalogue,
)
from machi.procedures.engine.conditions import HELPERS
from machi.procedures.engine.errors import NavigatorInputError, RuleEvaluationError
from machi.procedures.engine.schema import NavigatorIn, input_errors

__all__ = ["Prepared", "evaluate_filer", "evaluate_rule", "navigate", "prepare", "sample_inputs"]

PERSON_BOOLEANS = (
    "householder", "receives_pension", "civil_servant", "my_number_card", "seal_registered",
    "care_certified", "disability_certificate", "child_allowance_recipient", "name_changes",
    "custodial_parent",
)  # fmt: skip
PERSON_FIELDS = frozenset(
    {"id", "birth_date", "nationality", "insurance", "pension", *PERSON_BOOLEANS}
)


@dataclass
class Prepared:
    """A validated input, ready to run: the CEL context and what Python needs."""

    event_type: str
    date: datetime.date
    persons: list[dict[str, Any]]  # the maps given to CEL
    birth: dict[str, datetime.date]  # person id → date of birth (approx)
    order: dict[str, int]  # person id → position in the input
    subject_ids: list[str]
    claimant_id: str | None
    context: cel.Context


def prepare(data: Any, catalogue: Catalogue) -> Prepared:
    """Validate a navigator input (DOMAIN §6) and build its CEL context.

    The shape and the types are :class:`~.schema.NavigatorIn`'s; then what needs the
    whole input or the catalogue (:func:`_cross_check`). Raises
    :class:`NavigatorInputError` listing every problem, each naming its field.
    """
    if not isinstance(data, dict):
        raise NavigatorInputError("入力は event / persons / answers を持つ JSON オブジェクトです")
    try:
        model = NavigatorIn.model_validate(data)
    except ValidationError as error:
        raise NavigatorInputError(input_errors(error) + _raw_subject_errors(data)) from None
    answers = _cross_check(model, catalogue)
    return _context(model, answers)


def _raw_subject_errors(data: dict[str, Any]) -> list[str]:
    """Subjects missing from the persons, found in an input refused for other reasons
    too (every problem is reported at once)."""
    event, persons = data.get("event"), data.get("persons")
    if not isinstance(event, dict) or not isinstance(persons, list) or not persons:
        return []
    subjects = event.get("subjects")
    ids = {p.get("id") for p in persons if isinstance(p, dict) and isinstance(p.get("id"), str)}
    if not isinstance(subjects, list) or not ids:
        return []
    return [
        f"event.subjects[{i}]: {sid!r} は persons にいません"
        for i, sid in enumerate(subjects)
        if isinstance(sid, str) and sid and sid not in ids
    ]


def _cross_check(model: NavigatorIn, catalogue: Catalogue) -> dict[str, Any]:
    """Unique ids, subjects among the persons, no birth after the event, answers the
    catalogue knows (a person answer names a person). Returns the answers with the
    defaults (false; null for a person answer)."""
    errors: list[str] = []
    day = model.event.date
    order: dict[str, int] = {}
    for i, person in enumerate(model.persons):
        if person.id in order:
            errors.append(f"persons[{i}].id: id '{person.id}' が重複しています")
        else:
            order[person.id] = i
        if person.birth_date > day:
            errors.append(
                f"persons[{i}].birth_date: 出来事の日（{day.isoformat()}）より後の日付です: "
                f"'{person.birth_date.isoformat()}'"
            )
    seen: set[str] = set()
    for i, sid in enumerate(model.event.subjects):
        if sid not in order:
            errors.append(f"event.subjects[{i}]: {sid!r} は persons にいません")
        elif sid in seen:
            errors.append(f"event.subjects[{i}]: {sid!r} が重複しています")
        seen.add(sid)
    answers: dict[str, Any] = dict.fromkeys(catalogue.answer_keys, False)
    answers.update(dict.fromkeys(catalogue.person_answer_keys))  # a person id, null: not known
    for key, value in (model.answers or {}).items():
        if key not in catalogue.answer_keys:
            known = ", ".join(sorted(catalogue.answer_keys))
            errors.append(f"answers.{key}: 未知の質問です（既知の質問: {known}）")
        elif value is None:
            continue
        elif key in catalogue.person_answer_keys:
            if not isinstance(value, str) or value not in order:
                errors.append(f"answers.{key}: {value!r} は persons にいません（人の id です）")
            else:
                answers[key] = value
        else:
            answers[key] = value
    if errors:
        raise NavigatorInputError(errors)
    return answers


def _context(model: NavigatorIn, answers: dict[str, Any]) -> Prepared:
    day = model.event.date
    persons: list[dict[str, Any]] = []
    birth: dict[str, datetime.date] = {}
    order: dict[str, int] = {}
    for i, raw in enumerate(model.persons):
        person: dict[str, Any] = {
            "id": raw.id,
            "birth_date": raw.birth_date.isoformat(),
            "nationality": raw.nationality,
            "insurance": raw.insurance,
            "pension": raw.pension,
        }
        for name in PERSON_BOOLEANS:
            person[name] = getattr(raw, name)
        persons.append(person)
        birth[raw.id] = raw.birth_date
        order[raw.id] = i
    subject_ids = set(model.event.subjects)
    subjects = [p for p in persons if p["id"] in subject_ids]
    others = [p for p in persons if p["id"] not in subject_ids]
    recipient = next((p for p in persons if p["child_allowance_recipient"]), None)
    householder = next((p for p in persons if p["householder"]), None)
    claimant = recipient or householder
    d_text = day.isoformat()
    variables = {
        "person": None,
        "persons": persons,
        "subjects": subjects,
        "others": others,
        "claimant": claimant,
        "householder": householder,
        "event": {
            "type": model.event.type,
            "date": d_text,
            "subjects": [p["id"] for p in subjects],
            "from_abroad": model.event.from_abroad,
            "to_abroad": model.event.to_abroad,
        },
        "answers": answers,
        "D": d_text,
    }
    return Prepared(
        event_type=model.event.type,
        date=day,
        persons=persons,
        birth=birth,
        order=order,
        subject_ids=[p["id"] for p in subjects],
        claimant_id=claimant["id"] if claimant else None,
        context=cel.Context(variables, functions=HELPERS),
    )


def _candidates(rule: Rule, prepared: Prepared) -> list[str | None]:
    """Who a rule whose condition is literally `true` applies to (no CEL needed)."""
    if rule.applies_to == "household":
        return [None]
    if rule.applies_to == "claimant":
        return [prepared.claimant_id] if prepared.claimant_id else []
    if rule.applies_to == "custodial_parent":
        ids = set(prepared.subject_ids)
        return [p["id"] for p in prepared.persons if p["id"] in ids and p["custodial_parent"]]
    return list(prepared.subject_ids)


def evaluate_rule(rule: Rule, prepared: Prepared) -> list[str | None]:
    """The persons (ids; ``None`` for the household) for whom ``rule`` fires."""
    if rule.always:
        return _candidates(rule, prepared)
    if rule.applies_to == "claimant" and prepared.claimant_id is None:
        return []
    try:
        result = rule.program.execute(prepared.context)
    except Exception as error:  # cel raises RuntimeError, TypeError, KeyError, ValueError…
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, KeyError):
            message = f"項目 {error} がありません"
        raise RuleEvaluationError(f"{rule.source}: condition: {message}") from None
    if rule.applies_to == "household":
        if not isinstance(result, bool):
            raise RuleEvaluationError(
                f"{rule.source}: condition: 真偽値（true/false）になりません（{result!r}）"
            )
        return [None] if result else []
    if not all(isinstance(value, bool) for value in result):
        shown = next(value for value in result if not isinstance(value, bool))
        raise RuleEvaluationError(
            f"{rule.source}: condition: 真偽値（true/false）になりません（{shown!r}）"
        )
    if rule.applies_to == "claimant":
        return [prepared.claimant_id] if result[0] else []
    return [pid for pid, fired in zip(prepared.subject_ids, result, strict=True) if fired]


def _filer_id(value: Any, rule: Rule, prepared: Prepared) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value in prepared.order:
        return value
    raise RuleEvaluationError(
        f"{rule.source}: filer: persons の人（またはその id、null）になりません（{value!r}）"
    )


def evaluate_filer(rule: Rule, prepared: Prepared) -> dict[str | None, str | None]:
    """Who files ``rule``'s procedure, by candidate (the ids of :func:`evaluate_rule`'s
    candidates; ``None`` for the household): a person id, or ``None`` when the person files
    themselves, nobody is named or the answer naming them is not known yet."""
    if rule.filer_program is None:
        return {}
    if rule.applies_to == "claimant" and prepared.claimant_id is None:
        return {}
    try:
        result = rule.filer_program.execute(prepared.context)
    except Exception as error:  # as in evaluate_rule
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, KeyError):
            message = f"項目 {error} がありません"
        raise RuleEvaluationError(f"{rule.source}: filer: {message}") from None
    if rule.applies_to == "household":
        candidates: list[str | None] = [None]
        result = [result]
    elif rule.applies_to == "claimant":
        candidates = [prepared.claimant_id]
    else:
        candidates = list(prepared.subject_ids)
    filers: dict[str | None, str | None] = {}
    for candidate, value in zip(candidates, result, strict=True):
        filer = _filer_id(value, rule, prepared)
        filers[candidate] = None if filer == candidate else filer
    return filers


class _Facts:
    """Per-person facts for the reason texts, computed on first use. The reasons are
    read by people (step 4, the department queues), so their dates are in the one display
    form (``format_date``: 和暦), never ISO like the output's ``due``."""

    def __init__(self, prepared: Prepared, due: str | None, rule: Rule) -> None:
        self.prepared = prepared
        self.due = due
        self.rule = rule

    def values(self, person: str | None) -> dict[str, Any]:
        prepared, rule = self.prepared, self.rule
        values: dict[str, Any] = {
            "D": format_date(prepared.date),
            "due": format_date(datetime.date.fromisoformat(self.due)) if self.due else "なし",
            "title": rule.title,
            "event": EVENT_LABELS[prepared.event_type],
            "person": person or "",
        }
        if person is not None and rule.reason_fields & {
            "age", "legal_age", "school_age", "eligible_until",
        }:  # fmt: skip
            born, day = prepared.birth[person], prepared.date
            values.update(
                age=age(born, day),
                legal_age=legal_age(born, day),
                school_age=SCHOOL_AGE_LABELS[school_age(born, day)],
                eligible_until=format_date(eligible_child_until(born)),
            )
        return values


def navigate(data: Any, catalogue: Catalogue | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every procedure following the event of ``data`` (DOMAIN §6), sorted by department
    (in the catalogue's department order), then code, then person (input order, the
    household-level entry first)."""
    catalogue = catalogue or default_catalogue()
    prepared = prepare(data, catalogue)
    return {"procedures": run(prepared, catalogue)}


def run(prepared: Prepared, catalogue: Catalogue) -> list[dict[str, Any]]:
    department_order = catalogue.department_order
    dues: dict[int | None, str | None] = {None: None}
    found: list[tuple[tuple[int, str, int], dict[str, Any]]] = []
    for rule in catalogue.rules[prepared.event_type]:
        persons = evaluate_rule(rule, prepared)
        if not persons:
            continue
        if rule.due not in dues:
            dues[rule.due] = deadline(
                prepared.date, rule.due, closed_days=catalogue.closed_days
            ).isoformat()
        due = dues[rule.due]
        filers = evaluate_filer(rule, prepared)
        facts = _Facts(prepared, due, rule)
        for person in persons:
            key = (
                department_order.get(rule.department, len(department_order)),
                rule.code,
                -1 if person is None else prepared.order[person],
            )
            found.append(
                (
                    key,
                    {
                        "code": rule.code,
                        "title": rule.title,
                        "department": rule.department,
                        "person": person,
                        "filer": filers.get(person),
                        "due": due,
                        "reason": rule.reason.format_map(facts.values(person)),
                    },
                )
            )
    found.sort(key=lambda item: item[0])
    return [item for _, item in found]


# --------------------------------------------------------------------------- samples


def _sample_person(pid: str, birth: str, *, flag: bool, **fields: Any) -> dict[str, Any]:
    person = {"id": pid, "birth_date": birth, "nationality": "JP", "insurance": "kokuho"}
    person.update(dict.fromkeys(PERSON_BOOLEANS, flag))
    person.update(fields)
    return person


def sample_inputs(catalogue: Catalogue, event: str) -> Iterable[Prepared]:
    """Synthetic, valid households for ``event``: used to trial-run every condition when a
    catalogue is loaded (all flags false, then all true; children, adults, elderly)."""
    day = "2026-04-03"
    for flag in (False, True):
        persons = [
            _sample_person("a1", "1980-05-10", flag=flag, householder=True, pension="1"),
            _sample_person("a2", "1985-07-01", flag=flag, insurance="employee", pension="3"),
            _sample_person("c1", "2019-06-01", flag=flag, householder=False, pension=None),
            _sample_person("e1", "1950-01-01", flag=flag, insurance="kouki", pension=None),
        ]
        subjects = ["a1", "a2", "c1"]
        if event == "birth":
            persons.append(_sample_person("n1", day, flag=flag, pension=None))
            subjects = ["n1"]
        elif event == "death":
            subjects = ["e1"] if flag else ["a1"]
        data = {
            "event": {
                "type": event,
                "date": day,
                "subjects": subjects,
                "from_abroad": flag,
                "to_abroad": flag,
            },
            "persons": persons,
            "answers": {
                **dict.fromkeys(catalogue.answer_keys, flag),
                **dict.fromkeys(catalogue.person_answer_keys, "a2" if flag else None),
            },
        }
        yield prepare(data, catalogue)

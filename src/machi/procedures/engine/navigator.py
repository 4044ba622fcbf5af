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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cel

from machi.japanese import (
    DateParseError,
    age,
    deadline,
    eligible_child_until,
    legal_age,
    parse_date,
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

__all__ = ["Prepared", "evaluate_filer", "evaluate_rule", "navigate", "prepare", "sample_inputs"]

PERSON_BOOLEANS = (
    "householder", "receives_pension", "civil_servant", "my_number_card", "seal_registered",
    "care_certified", "disability_certificate", "child_allowance_recipient", "name_changes",
    "custodial_parent",
)  # fmt: skip
PERSON_FIELDS = frozenset(
    {"id", "birth_date", "nationality", "insurance", "pension", *PERSON_BOOLEANS}
)
INSURANCE = ("kokuho", "employee", "kouki", "welfare", "none")
PENSION = ("1", "2", "3")
EVENT_FIELDS = frozenset({"type", "date", "subjects", "from_abroad", "to_abroad"})
TOP_FIELDS = frozenset({"event", "persons", "answers"})


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


def _bool(value: Any, where: str, errors: list[str]) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    errors.append(f"{where}: true か false で書いてください（{value!r}）")
    return False


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _fast_iso(value: str) -> datetime.date | None:
    """The common case, a plain ISO date, without the full Japanese parser."""
    if _ISO.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None  # e.g. 1991-02-30: parse_date decides (non-calendar)
    return None


def _event_date(value: Any, errors: list[str]) -> datetime.date | None:
    if isinstance(value, str) and (fast := _fast_iso(value)) is not None:
        return fast
    if not isinstance(value, str):
        errors.append("event.date: 日付（YYYY-MM-DD）が必要です")
        return None
    try:
        parsed = parse_date(value)
    except DateParseError as error:
        errors.append(f"event.date: {error}")
        return None
    if parsed.unknown or parsed.non_calendar or parsed.lunisolar or parsed.approx is None:
        errors.append(f"event.date: 年月日のそろった暦日で書いてください: {value!r}")
        return None
    return parsed.approx


def _birth_date(value: Any, where: str, errors: list[str]) -> datetime.date | None:
    if isinstance(value, str) and (fast := _fast_iso(value)) is not None:
        return fast
    if not isinstance(value, str):
        errors.append(f"{where}: 生年月日（YYYY-MM-DD）が必要です")
        return None
    try:
        parsed = parse_date(value)
    except DateParseError as error:
        errors.append(f"{where}: {error}")
        return None
    if parsed.approx is None:
        errors.append(f"{where}: 年が不詳の生年月日では判定できません: {value!r}")
        return None
    return parsed.approx


def prepare(data: Any, catalogue: Catalogue) -> Prepared:
    """Validate a navigator input (DOMAIN §6) and build its CEL context.

    Raises :class:`NavigatorInputError` listing every problem, each naming its field.
    """
    errors: list[str] = []
    if not isinstance(data, dict):
        raise NavigatorInputError("入力は event / persons / answers を持つ JSON オブジェクトです")
    for key in sorted(set(data) - TOP_FIELDS, key=str):
        errors.append(f"{key}: 未知の項目です（使える項目: event, persons, answers）")

    # -- event
    event = data.get("event")
    event_type: str | None = None
    day: datetime.date | None = None
    raw_subjects: list[Any] = []
    from_abroad = to_abroad = False
    if not isinstance(event, dict):
        errors.append("event: 出来事（type, date, subjects）のオブジェクトが必要です")
    else:
        for key in sorted(set(event) - EVENT_FIELDS, key=str):
            errors.append(
                f"event.{key}: 未知の項目です（使える項目: {', '.join(sorted(EVENT_FIELDS))}）"
            )
        event_type = event.get("type")
        if event_type not in EVENT_LABELS:
            known = ", ".join(EVENT_LABELS)
            shown = f'"{event_type}"' if isinstance(event_type, str) else repr(event_type)
            errors.append(f"event.type: 未知の出来事 {shown}（既知の出来事: {known}）")
            event_type = None
        day = _event_date(event.get("date"), errors)
        raw_subjects = event.get("subjects")
        if not isinstance(raw_subjects, list) or not raw_subjects:
            errors.append("event.subjects: 対象者の id のリストが必要です（1人以上）")
            raw_subjects = []
        from_abroad = _bool(event.get("from_abroad"), "event.from_abroad", errors)
        to_abroad = _bool(event.get("to_abroad"), "event.to_abroad", errors)

    # -- persons
    raw_persons = data.get("persons")
    persons: list[dict[str, Any]] = []
    birth: dict[str, datetime.date] = {}
    order: dict[str, int] = {}
    if not isinstance(raw_persons, list) or not raw_persons:
        errors.append("persons: 世帯の人のリストが必要です（1人以上）")
        raw_persons = []
    for i, raw in enumerate(raw_persons):
        where = f"persons[{i}]"
        if not isinstance(raw, dict):
            errors.append(f"{where}: 人はオブジェクトで書いてください")
            continue
        for key in sorted(set(raw) - PERSON_FIELDS, key=str):
            errors.append(f"{where}.{key}: 未知の項目です")
        pid = raw.get("id")
        if not isinstance(pid, str) or not pid:
            errors.append(f"{where}.id: 空でない文字列の id が必要です")
            continue
        if pid in order:
            errors.append(f"{where}.id: id '{pid}' が重複しています")
            continue
        order[pid] = i
        born = _birth_date(raw.get("birth_date"), f"{where}.birth_date", errors)
        if born is not None and day is not None and born > day:
            errors.append(
                f"{where}.birth_date: 出来事の日（{day.isoformat()}）より後の日付です: "
                f"{raw.get('birth_date')!r}"
            )
            born = None
        insurance = raw.get("insurance")
        if insurance not in INSURANCE:
            errors.append(
                f"{where}.insurance: {', '.join(INSURANCE)} のどれかで書いてください"
                f"（{insurance!r}）"
            )
        pension = raw.get("pension")
        if isinstance(pension, int) and not isinstance(pension, bool):
            pension = str(pension)
        if pension is not None and pension not in PENSION:
            errors.append(
                f'{where}.pension: "1"、"2"、"3" または null で書いてください（{pension!r}）'
            )
        nationality = raw.get("nationality")
        if nationality is not None and not isinstance(nationality, str):
            errors.append(f"{where}.nationality: 文字列で書いてください")
            nationality = None
        person: dict[str, Any] = {
            "id": pid,
            "birth_date": born.isoformat() if born else "",
            "nationality": nationality or "",
            "insurance": insurance,
            "pension": pension,
        }
        for name in PERSON_BOOLEANS:
            person[name] = _bool(raw.get(name), f"{where}.{name}", errors)
        if born is not None:
            birth[pid] = born
        persons.append(person)

    subject_ids: list[str] = []
    for i, sid in enumerate(raw_subjects):
        if not isinstance(sid, str) or sid not in order:
            if order or not raw_persons:
                errors.append(f"event.subjects[{i}]: {sid!r} は persons にいません")
        elif sid in subject_ids:
            errors.append(f"event.subjects[{i}]: {sid!r} が重複しています")
        else:
            subject_ids.append(sid)

    # -- answers
    answers_raw = data.get("answers", {})
    answers: dict[str, Any] = dict.fromkeys(catalogue.answer_keys, False)
    answers.update(dict.fromkeys(catalogue.person_answer_keys))  # a person id, null: not known
    if answers_raw is None:
        answers_raw = {}
    if not isinstance(answers_raw, dict):
        errors.append("answers: 質問への回答のオブジェクトで書いてください")
        answers_raw = {}
    for key, value in answers_raw.items():
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
        elif not isinstance(value, bool | int | str) or isinstance(value, float):
            errors.append(f"answers.{key}: true / false（または数・文字列）で書いてください")
        else:
            answers[key] = value

    if errors:
        raise NavigatorInputError(errors)
    assert event_type is not None and day is not None

    subjects = [p for p in persons if p["id"] in subject_ids]
    subjects.sort(key=lambda p: order[p["id"]])
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
            "type": event_type,
            "date": d_text,
            "subjects": [p["id"] for p in subjects],
            "from_abroad": from_abroad,
            "to_abroad": to_abroad,
        },
        "answers": answers,
        "D": d_text,
    }
    return Prepared(
        event_type=event_type,
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
    """Per-person facts for the reason texts, computed on first use."""

    def __init__(self, prepared: Prepared, due: str | None, rule: Rule) -> None:
        self.prepared = prepared
        self.due = due
        self.rule = rule

    def values(self, person: str | None) -> dict[str, Any]:
        prepared, rule = self.prepared, self.rule
        values: dict[str, Any] = {
            "D": prepared.date.isoformat(),
            "due": self.due or "なし",
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
                eligible_until=eligible_child_until(born).isoformat(),
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

"""Which questions still matter: the intake asks a question only when its answer could
change the navigator's output for the household (issue 12, DOMAIN §6).

:func:`question_relevance` takes a navigator input in which what is not known yet is
simply *absent* and answers, per person, the attributes whose value could still change
the set of procedures (code, person, filer, due), and the household answers that could.
It is derived from the rules of the catalogue in force (the default or a municipality's),
never from a list of questions per event: each rule is evaluated with every possible
value of the attributes it reads, the known ones held as given.

How, for one rule:

* the attributes it reads are the person attributes named in its condition and filer
  (``person.care_certified``), its ``applies_to`` (``custodial_parent``; the claimant is
  the first ``child_allowance_recipient``, else the householder) and the ``answers.*``;
* when it reads question attributes only through ``person`` (each candidate's own), every
  candidate is evaluated with every combination of those attributes' possible values, in
  one CEL execution per combination of the answers it reads; an attribute of a candidate
  matters when two combinations that differ only in it (the other *known* values held as
  given, the unknown ones free) give a different entry (fired or not, or another filer);
* a rule that reads an attribute of *other* persons (``persons.exists(p, p.civil_servant)``)
  or the ``claimant`` variable is not enumerated: every attribute it reads counts for
  everyone (over-asking is safe, under-asking is not).

The possible values of an attribute follow national law, not the catalogue
(:func:`possible_values`): nobody under 15 works (no 公務員) or holds a 印鑑登録, a 要介護
認定 needs legal age 40 (介護保険法第9条), 後期高齢者医療 starts at 65 (with a 障害認定)
and is the only medical insurance from 75, 国民年金 第1号 and 第3号 start at legal age 20
and 第3号 ends at 60. Hence no 国民年金 or 公務員 question for a 3-year-old and no 介護
question for a 30-year-old, whatever the catalogue.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

from machi.japanese import age, legal_age
from machi.procedures.engine.catalogue import _ANSWER_REF, Catalogue, Rule, default_catalogue
from machi.procedures.engine.conditions import _MACRO_BINDING, HELPERS
from machi.procedures.engine.errors import NavigatorInputError
from machi.procedures.engine.navigator import (
    PERSON_FIELDS,
    Prepared,
    _filer_id,
    prepare,
)
from machi.procedures.engine.schema import INSURANCE

__all__ = ["QUESTION_FIELDS", "Relevance", "possible_values", "question_relevance"]

#: The person attributes the counter asks (the registry cannot know them), in the order
#: a form shows them.
QUESTION_FIELDS = (
    "insurance", "pension", "my_number_card", "seal_registered", "care_certified",
    "disability_certificate", "child_allowance_recipient", "civil_servant",
    "receives_pension", "custodial_parent", "name_changes",
)  # fmt: skip

# Variables a condition reads besides ``person``, ``answers``, ``event`` and ``D``.
_COLLECTIONS = ("persons", "subjects", "others", "claimant", "householder")
_FIRED = "fired"  # an outcome: (_FIRED, filer id or None); None: did not fire


@dataclass(frozen=True)
class Relevance:
    """The questions that could still change the navigator's output.

    ``persons``: person id → the attributes of :data:`QUESTION_FIELDS` that matter for
    that person, in that order (every person of the input has a key, maybe empty).
    ``answers``: the household answers (``answers.*`` keys) that matter, in the order
    the event's rules first read them.
    """

    persons: dict[str, tuple[str, ...]]
    answers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"persons": {"p1": ["insurance", …]}, "answers": ["has_dog"]}``."""
        return {
            "persons": {pid: list(fields) for pid, fields in self.persons.items()},
            "answers": list(self.answers),
        }


def possible_values(field: str, birth: Any, day: Any) -> tuple[Any, ...]:
    """The values attribute ``field`` can take for a person born ``birth`` on ``day``
    (dates), by national law (see the module docstring)."""
    years, legal = age(birth, day), legal_age(birth, day)
    if field == "insurance":
        if years >= 75:  # 高齢者の医療の確保に関する法律第50条: everyone 75+ is in 後期高齢者医療
            return ("kouki", "welfare", "none")
        return tuple(v for v in INSURANCE if v != "kouki" or years >= 65)
    if field == "pension":
        values: list[str | None] = [None]
        if legal >= 20:
            values.append("1")  # 第1号 (and 任意加入 after 60, recorded as 1)
        if 15 <= years < 70:
            values.append("2")  # 厚生年金: employees under 70
        if 20 <= legal < 60:
            values.append("3")  # 第3号: dependent spouse aged 20-59
        return tuple(values)
    if field in ("civil_servant", "seal_registered", "child_allowance_recipient",
                 "custodial_parent"):  # fmt: skip
        return (False, True) if years >= 15 else (False,)
    if field == "care_certified":
        return (False, True) if legal >= 40 else (False,)
    return (False, True)


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class _Reads:
    """What one rule reads, from its text."""

    fields: tuple[str, ...]  # person fields named (the items carry these)
    questions: tuple[str, ...]  # of which questions (varied)
    answers: tuple[str, ...]  # answers.* keys
    local: bool  # questions are read only through ``person``
    collections: frozenset[str]


_WORD_CACHE: dict[str, re.Pattern[str]] = {}


def _word(name: str) -> re.Pattern[str]:
    if name not in _WORD_CACHE:
        _WORD_CACHE[name] = re.compile(rf"\b{name}\b")
    return _WORD_CACHE[name]


@lru_cache(maxsize=4096)
def _reads(
    condition: str, filer: str | None, applies_to: str, answer_keys: frozenset[str]
) -> _Reads:
    text = condition + ("\n" + filer if filer else "")
    fields = {name for name in PERSON_FIELDS if _word(name).search(text)}
    questions = {name for name in fields if name in QUESTION_FIELDS}
    local = "person" not in _MACRO_BINDING.findall(text) and not _word("claimant").search(text)
    for name in questions:
        anywhere = len(_word(name).findall(text))
        through_person = len(re.findall(rf"\bperson\s*\.\s*{name}\b", text))
        local = local and anywhere == through_person
    if applies_to == "custodial_parent":
        fields.add("custodial_parent")
        questions.add("custodial_parent")
    if applies_to == "claimant":
        fields.add("child_allowance_recipient")
        questions.add("child_allowance_recipient")
    if filer:
        fields.add("id")  # a filer naming the candidate reads as "files themselves"
    if applies_to == "household" and questions:
        local = False
    answers = []
    for a, b in _ANSWER_REF.findall(text):
        key = a or b
        if key in answer_keys and key not in answers:
            answers.append(key)
    return _Reads(
        fields=tuple(sorted(fields)),
        questions=tuple(name for name in QUESTION_FIELDS if name in questions),
        answers=tuple(answers),
        local=local,
        collections=frozenset(name for name in _COLLECTIONS if _word(name).search(text)),
    )


@lru_cache(maxsize=4096)
def _program(text: str) -> Any:
    return cel.compile(text)


def _condition_text(rule: Rule, variable: str) -> str:
    condition = rule.condition
    if rule.applies_to == "household":
        return f"({condition})"
    if rule.applies_to == "custodial_parent":
        condition = f"person.custodial_parent && ({condition})"
    return f"{variable}.map(person, ({condition}))"


def _filer_text(rule: Rule, variable: str) -> str | None:
    if rule.filer is None:
        return None
    if rule.applies_to == "household":
        return f"({rule.filer})"
    return f"{variable}.map(person, ({rule.filer}))"


# --------------------------------------------------------------------------- evaluation


class _Table:
    """One rule's outcomes: (answers combination, candidate, item values) → outcome."""

    def __init__(self, rule: Rule, reads: _Reads, index: int) -> None:
        self.rule = rule
        self.reads = reads
        self.variable = f"relevance_{index}"
        self.items: list[dict[str, Any]] = []  # the distinct persons given to CEL
        self.item_index: dict[tuple[Any, ...], int] = {}
        self.rows: list[tuple[Any, tuple[Any, ...], int]] = []  # candidate, values, item
        self.outcomes: dict[tuple[Any, ...], list[Any]] = {}  # answers combo → by item

    def add(self, candidate: str | None, base: dict[str, Any], values: tuple[Any, ...]) -> None:
        item = {**base, **dict(zip(self.reads.questions, values, strict=True))}
        key = tuple(item.get(name) for name in self.reads.fields)
        index = self.item_index.get(key)
        if index is None:
            index = self.item_index[key] = len(self.items)
            self.items.append(item)
        self.rows.append((candidate, values, index))


def question_relevance(data: Mapping[str, Any], catalogue: Catalogue | None = None) -> Relevance:
    """For each person of ``data``, the questions whose answer could still change the
    navigator's output, and the household answers that could.

    ``data`` is a navigator input (DOMAIN §6) with what is not known yet left out: a key of
    :data:`QUESTION_FIELDS` absent from a person's object (``"insurance"``, ``"pension"``,
    ``"civil_servant"``…) is unknown, as is a key absent from ``answers``; a key present is
    known (``"pension": null`` is known: not enrolled). Everything else is as for
    :func:`~machi.procedures.engine.navigate` (``birth_date`` and the event are needed).

    Returns a :class:`Relevance`; a known attribute is listed when changing it would
    change the output (a form keeps showing it). Raises :class:`NavigatorInputError` when
    the rest of the input is invalid.
    """
    catalogue = catalogue or default_catalogue()
    if not isinstance(data, Mapping) or not isinstance(data.get("persons"), list):
        prepare(data, catalogue)  # raises the navigator's own message
        raise NavigatorInputError("persons: 世帯の人のリストが必要です（1人以上）")
    known: dict[str, set[str]] = {}
    persons = []
    for raw in data["persons"]:
        if not isinstance(raw, Mapping):
            persons.append(raw)
            continue
        person = dict(raw)
        if isinstance(person.get("id"), str):
            known[person["id"]] = {name for name in QUESTION_FIELDS if name in raw}
        person.setdefault("insurance", "none")  # unknown: any value does, it is varied
        persons.append(person)
    raw_answers = data.get("answers")
    known_answers = set(raw_answers) if isinstance(raw_answers, Mapping) else set()
    prepared = prepare({**data, "persons": persons}, catalogue)
    return _relevance(prepared, catalogue, known, known_answers)


def _relevance(
    prepared: Prepared,
    catalogue: Catalogue,
    known: dict[str, set[str]],
    known_answers: set[str],
) -> Relevance:
    people = {p["id"]: p for p in prepared.persons}
    ids = list(people)
    # domain: the values a field is varied over; allowed: what it may be while another
    # field is varied (the known value, else every possible value)
    domain: dict[str, dict[str, tuple[Any, ...]]] = {}
    allowed: dict[str, dict[str, tuple[Any, ...]]] = {}
    for pid, person in people.items():
        domain[pid], allowed[pid] = {}, {}
        for name in QUESTION_FIELDS:
            possible = possible_values(name, prepared.birth[pid], prepared.date)
            if name in known.get(pid, ()):
                value = person[name]
                domain[pid][name] = possible if value in possible else (*possible, value)
                allowed[pid][name] = (value,)
            else:
                domain[pid][name] = allowed[pid][name] = possible
    answers = prepared.context.variables["answers"]
    answer_domain: dict[str, tuple[Any, ...]] = {}
    answer_allowed: dict[str, tuple[Any, ...]] = {}
    for key in catalogue.answer_keys:
        # a person answer (who held the funeral): unknown, or one of two persons (one of
        # them is not the candidate, whose own id reads as "files themselves")
        possible = (None, *ids[:2]) if key in catalogue.person_answer_keys else (False, True)
        if key in known_answers:
            value = answers[key]
            answer_domain[key] = possible if value in possible else (*possible, value)
            answer_allowed[key] = (value,)
        else:
            answer_domain[key] = answer_allowed[key] = possible

    relevant: dict[str, set[str]] = {pid: set() for pid in ids}
    relevant_answers: set[str] = set()
    answer_order: list[str] = []
    tables: list[_Table] = []
    for index, rule in enumerate(catalogue.rules[prepared.event_type]):
        reads = _reads(rule.condition, rule.filer, rule.applies_to, catalogue.answer_keys)
        for key in reads.answers:
            if key not in answer_order:
                answer_order.append(key)
        if not reads.questions and not reads.answers:
            continue  # nothing asked can change it
        if not reads.local:
            for pid in ids:
                relevant[pid].update(n for n in reads.questions if len(domain[pid][n]) > 1)
            relevant_answers.update(k for k in reads.answers if len(answer_domain[k]) > 1)
            continue
        table = _Table(rule, reads, index)
        _fill(table, prepared, people, domain)
        tables.append(table)

    _evaluate(tables, prepared, answers, answer_domain)
    for table in tables:
        _judge(table, prepared, allowed, answer_allowed, answer_domain, relevant,
               relevant_answers, domain)  # fmt: skip
    return Relevance(
        persons={pid: tuple(n for n in QUESTION_FIELDS if n in relevant[pid]) for pid in ids},
        answers=tuple(key for key in answer_order if key in relevant_answers),
    )


def _base_item(person: dict[str, Any], reads: _Reads) -> dict[str, Any]:
    return {name: person[name] for name in reads.fields}


def _fill(
    table: _Table,
    prepared: Prepared,
    people: dict[str, dict[str, Any]],
    domain: dict[str, dict[str, tuple[Any, ...]]],
) -> None:
    """The candidates and every combination of the values of the questions read."""
    reads, rule = table.reads, table.rule
    if rule.applies_to == "household":
        table.add(None, {}, ())
        return
    if rule.applies_to == "claimant":
        # any person may be the claimant (the first recipient), the householder also
        # when nobody is a recipient: items carry child_allowance_recipient accordingly
        others = [n for n in reads.questions if n != "child_allowance_recipient"]
        for pid, person in people.items():
            flags = [True] if True in domain[pid]["child_allowance_recipient"] else []
            if person["householder"]:
                flags.append(False)
            for flag in flags:
                for rest in itertools.product(*(domain[pid][n] for n in others)):
                    values = dict(zip(others, rest, strict=True))
                    values["child_allowance_recipient"] = flag
                    ordered = tuple(values[n] for n in reads.questions)
                    table.add(pid, _base_item(person, reads), ordered)
        return
    for pid in prepared.subject_ids:
        person = people[pid]
        for values in itertools.product(*(domain[pid][n] for n in reads.questions)):
            table.add(pid, _base_item(person, reads), values)


def _trimmed(person: dict[str, Any] | None) -> dict[str, Any] | None:
    """A person without the question attributes (a local rule never reads them there)."""
    if person is None:
        return None
    return {k: v for k, v in person.items() if k not in QUESTION_FIELDS}


def _evaluate(
    tables: list[_Table],
    prepared: Prepared,
    answers: dict[str, Any],
    answer_domain: dict[str, tuple[Any, ...]],
) -> None:
    """Run every table: one CEL context per combination of the answers a group of rules
    reads (contexts are what costs; a rule's candidates are one list in it)."""
    variables = prepared.context.variables
    groups: dict[tuple[str, ...], list[_Table]] = {}
    for table in tables:
        groups.setdefault(table.reads.answers, []).append(table)
    for keys, members in groups.items():
        collections = frozenset().union(*(t.reads.collections for t in members))
        base: dict[str, Any] = {
            "person": None,
            "event": variables["event"],
            "D": variables["D"],
        }
        for name in collections:
            value = variables[name]
            base[name] = (
                [_trimmed(p) for p in value] if isinstance(value, list) else _trimmed(value)
            )
        for table in members:
            base[table.variable] = table.items
        for combo in itertools.product(*(answer_domain[k] for k in keys)):
            context = cel.Context(
                {**base, "answers": {**answers, **dict(zip(keys, combo, strict=True))}},
                functions=HELPERS,
            )
            for table in members:
                table.outcomes[combo] = _outcomes(table, context, prepared)


def _outcomes(table: _Table, context: Any, prepared: Prepared) -> list[Any]:
    rule = table.rule
    fired = _program(_condition_text(rule, table.variable)).execute(context)
    filer_text = _filer_text(rule, table.variable)
    filers = _program(filer_text).execute(context) if filer_text else None
    if rule.applies_to == "household":
        fired, filers = [fired], [filers]
    result: list[Any] = []
    for i, item in enumerate(table.items):
        if fired[i] is not True:
            result.append(None)
            continue
        filer = None
        if filers is not None:
            try:
                filer = _filer_id(filers[i], rule, prepared)
            except Exception:  # the navigator reports it; here it is just "some filer"
                filer = repr(filers[i])
        result.append((_FIRED, None if filer == item.get("id") else filer))
    return result


def _judge(
    table: _Table,
    prepared: Prepared,
    allowed: dict[str, dict[str, tuple[Any, ...]]],
    answer_allowed: dict[str, tuple[Any, ...]],
    answer_domain: dict[str, tuple[Any, ...]],
    relevant: dict[str, set[str]],
    relevant_answers: set[str],
    domain: dict[str, dict[str, tuple[Any, ...]]],
) -> None:
    reads, rule = table.reads, table.rule
    keys = reads.answers
    questions = reads.questions
    combos = list(table.outcomes)

    def answers_ok(combo: tuple[Any, ...], free: str | None = None) -> bool:
        return all(k == free or v in answer_allowed[k] for k, v in zip(keys, combo, strict=True))

    def values_ok(pid: str | None, values: tuple[Any, ...], free: str | None = None) -> bool:
        if pid is None:
            return True
        return all(
            n == free or v in allowed[pid][n] for n, v in zip(questions, values, strict=True)
        )

    # outcome by (candidate, values) for each answers combo
    rows: dict[tuple[Any, tuple[Any, ...]], int] = {(c, v): i for c, v, i in table.rows}

    def outcome(combo: tuple[Any, ...], candidate: Any, values: tuple[Any, ...]) -> Any:
        return table.outcomes[combo][rows[(candidate, values)]]

    claimant_rule = rule.applies_to == "claimant"
    worlds = _claimant_worlds(prepared, allowed) if claimant_rule else None

    # the answers: one candidate whose entry changes is enough
    for position, key in enumerate(keys):
        if key in relevant_answers:
            continue
        for combo in combos:
            if not answers_ok(combo, free=key):
                continue
            for other in answer_domain[key]:
                if other == combo[position]:
                    continue
                flipped = (*combo[:position], other, *combo[position + 1 :])
                if flipped not in table.outcomes:
                    continue
                for candidate, values, _ in table.rows:
                    if claimant_rule and not _world_ok(worlds, candidate, values, questions):
                        continue
                    if not values_ok(candidate, values):
                        continue
                    if outcome(combo, candidate, values) != outcome(flipped, candidate, values):
                        relevant_answers.add(key)
                        break
                if key in relevant_answers:
                    break
            if key in relevant_answers:
                break

    # each candidate's own attributes
    for candidate, values, _ in table.rows:
        if candidate is None:
            continue
        for position, name in enumerate(questions):
            if name in relevant[candidate]:
                continue
            if claimant_rule and name == "child_allowance_recipient":
                continue  # below: it changes who the claimant is
            if not values_ok(candidate, values, free=name):
                continue
            if claimant_rule and not _world_ok(worlds, candidate, values, questions):
                continue
            for other in domain[candidate][name]:
                if other == values[position]:
                    continue
                flipped = (*values[:position], other, *values[position + 1 :])
                if (candidate, flipped) not in rows:
                    continue
                if any(
                    answers_ok(combo)
                    and outcome(combo, candidate, values) != outcome(combo, candidate, flipped)
                    for combo in combos
                ):
                    relevant[candidate].add(name)
                    break
    if claimant_rule:
        _judge_recipients(table, prepared, allowed, domain, relevant, combos, answers_ok,
                          values_ok, outcome)  # fmt: skip


def _claimant_worlds(
    prepared: Prepared, allowed: dict[str, dict[str, tuple[Any, ...]]]
) -> dict[tuple[str, bool], bool]:
    """(person, their recipient flag) → whether that person can be the claimant with
    the known values: the first recipient (everyone before can be no recipient), or the
    householder when nobody can be made a recipient... nobody is one."""
    order = sorted(prepared.order, key=prepared.order.__getitem__)
    worlds: dict[tuple[str, bool], bool] = {}
    before_all_false = True
    for pid in order:
        flags = allowed[pid]["child_allowance_recipient"]
        worlds[(pid, True)] = before_all_false and True in flags
        before_all_false = before_all_false and False in flags
    householder = next((p["id"] for p in prepared.persons if p["householder"]), None)
    if householder is not None:
        worlds[(householder, False)] = before_all_false
    return worlds


def _world_ok(
    worlds: dict[tuple[str, bool], bool] | None,
    candidate: Any,
    values: tuple[Any, ...],
    questions: tuple[str, ...],
) -> bool:
    flag = values[questions.index("child_allowance_recipient")]
    return bool(worlds and worlds.get((candidate, flag)))


def _judge_recipients(
    table: _Table,
    prepared: Prepared,
    allowed: dict[str, dict[str, tuple[Any, ...]]],
    domain: dict[str, dict[str, tuple[Any, ...]]],
    relevant: dict[str, set[str]],
    combos: list[tuple[Any, ...]],
    answers_ok: Any,
    values_ok: Any,
    outcome: Any,
) -> None:
    """``child_allowance_recipient`` of a person p decides who the claimant is: with
    everyone before p no recipient, p true makes p the claimant; p false hands the claim
    to a later recipient or, when there is none, to the householder."""
    questions = table.reads.questions
    position = questions.index("child_allowance_recipient")
    order = sorted(prepared.order, key=prepared.order.__getitem__)
    householder = next((p["id"] for p in prepared.persons if p["householder"]), None)
    by_candidate: dict[Any, list[tuple[Any, ...]]] = {}
    for candidate, values, _ in table.rows:
        by_candidate.setdefault(candidate, []).append(values)

    def entries(candidate: str, flag: bool) -> list[tuple[Any, ...]]:
        """``candidate``'s rows as the claimant with recipient ``flag`` (whether that
        flag is possible is the caller's business), other fields within what is known."""
        return [
            values
            for values in by_candidate.get(candidate, [])
            if values[position] is flag
            and values_ok(candidate, values, free="child_allowance_recipient")
        ]

    def fires(combo: tuple[Any, ...], candidate: str | None, flag: bool) -> bool:
        return candidate is not None and any(
            outcome(combo, candidate, values) is not None for values in entries(candidate, flag)
        )

    def differs(combo: tuple[Any, ...], pid: str) -> bool:
        """The householder p as claimant: recipient or not, same other fields."""
        twins = {v[:position] + v[position + 1 :]: v for v in entries(pid, True)}
        for values in entries(pid, False):
            twin = twins.get(values[:position] + values[position + 1 :])
            if twin is not None and outcome(combo, pid, twin) != outcome(combo, pid, values):
                return True
        return False

    for index, pid in enumerate(order):
        if not all(False in allowed[q]["child_allowance_recipient"] for q in order[:index]):
            break  # a known recipient comes first: nobody after them changes the claimant
        if True not in domain[pid]["child_allowance_recipient"]:
            continue
        alternatives: list[tuple[str | None, bool]] = []  # the claimant when p is none
        between_false = True
        for q in order[index + 1 :]:
            flags = allowed[q]["child_allowance_recipient"]
            if between_false and True in flags:
                alternatives.append((q, True))
            between_false = between_false and False in flags
        if between_false:
            alternatives.append((householder, False))
        if any(
            answers_ok(combo)
            and any(
                differs(combo, pid)
                if other == pid
                else fires(combo, pid, True) or fires(combo, other, flag)
                for other, flag in alternatives
            )
            for combo in combos
        ):
            relevant[pid].add("child_allowance_recipient")

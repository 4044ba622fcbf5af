"""Life-event intake: one filing in, every procedure out (総合窓口 / 書かない窓口).

``life_event_confirm`` does, in ONE transaction on the municipality's database: the
registry change through the registry services, the navigator run, the visit with one
task per procedure, and the outbox events of all of them. If anything fails, nothing
is written.

The input is the navigator's (DOMAIN.md §6) where each person is either an existing
resident (``atena_number``: the registry supplies the birth date, householder, nationality
and insurance) or a new person (``name``, ``kana``, ``sex``, ``birth_date``,
``relationship`` …: a newborn or a newcomer), plus what the event needs (``address``
for a move in or within, ``destination`` for a move out, ``new_name`` for a marriage…).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from pydantic_core import PydanticCustomError

from machi.audit.services import Terminal
from machi.counter.models import Ticket, Visit
from machi.counter.services.visits import tasks_create, tasks_prepare, visit_open
from machi.japanese import JapaneseDate, parse_date
from machi.japanese.dates import canonical_date
from machi.procedures.engine import navigate
from machi.procedures.engine.errors import NavigatorInputError
from machi.procedures.engine.schema import parse_birth_date, parse_event_date
from machi.procedures.selectors import catalogue_effective
from machi.registry import services as registry
from machi.registry.models import Household, Resident, Status
from machi.registry.relationships import HOUSEHOLDER, relationship_problem
from machi.tenancy.context import current_tenant_alias
from machi.tenancy.sqlite3.base import deferred_begin

NAVIGATOR_FIELDS = (
    "receives_pension", "civil_servant", "my_number_card", "seal_registered",
    "care_certified", "disability_certificate", "child_allowance_recipient", "name_changes",
    "custodial_parent",
)  # fmt: skip
ADDRESS_FIELDS = ("postal_code", "prefecture", "city", "machiaza", "banchi", "katagaki")
NEW_PERSON_REQUIRED = ("name", "sex", "birth_date", "relationship")
# The procedure the intake's registry change itself carries out, by event: its tasks
# are created done (by the clerk, now) for every person whose record changed.
DONE_AT_COUNTER = {
    "move_in": "juki.move_in",
    "move_out": "juki.move_out",
    "move_within": "juki.move_within",
    "birth": "juki.birth",
    "death": "juki.death",
    "marriage": "juki.marriage",
    "divorce": "juki.divorce",
    "household_change": "juki.household_change",
}
# 届出人 (who came to the counter): a household member, or an agent (代理人).
NOTIFIER_KINDS = ("member", "agent")
NOTIFIER_AGENT_FIELDS = {"name": 100, "kana": 100, "relationship": 40, "address": 200}


class IntakeError(ValueError):
    """The intake was refused; ``errors`` names every problem by its field
    (``persons[1].name: …``). Nothing was written."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class IntakeResult:
    visit: Visit
    procedures: list[dict[str, Any]]
    task_ids: list[int]
    change: str
    atena_numbers: dict[str, str]  # navigator person id → atena number
    residents_changed: list[str] = field(default_factory=list)


@dataclass
class _Person:
    pid: str
    data: dict[str, Any]
    resident: Resident | None = None  # existing resident
    birth: JapaneseDate | None = None  # a new person's date of birth, canonical


def _insurance_of(resident: Resident) -> str | None:
    if resident.kouki:
        return "kouki"
    if resident.kokuho:
        return "kokuho"
    return None  # the registry cannot know: the clerk answers


def _navigator_person(person: _Person, errors: list[str], where: str) -> dict[str, Any]:
    data = person.data
    entry: dict[str, Any] = {"id": person.pid}
    resident = person.resident
    if resident is not None:
        born = resident.birth_date
        if born.approx is None:
            # 年月日不詳: no age can be worked out, and the input holds dates, never text.
            errors.append(
                f"{where}.birth_date: 住民記録の生年月日が年月日不詳のため、年齢で決まる"
                f"手続きを判定できません（宛名番号 {resident.atena_number}）"
            )
        else:
            # A 不詳 or non-calendar date counts as its approximate day (DOMAIN §3).
            entry["birth_date"] = born.approx.isoformat()
        entry["householder"] = resident.relationship == HOUSEHOLDER
        entry["nationality"] = (
            "JP" if resident.resident_type == "1" else (resident.nationality or "XX")
        )
        entry["insurance"] = data.get("insurance") or _insurance_of(resident)
        entry["pension"] = data.get("pension", resident.pension_category or None)
        entry["child_allowance_recipient"] = data.get(
            "child_allowance_recipient", resident.child_allowance
        )
    else:
        if person.birth is not None:
            entry["birth_date"] = person.birth.approx.isoformat()
        entry["householder"] = data.get("relationship") == HOUSEHOLDER
        entry["nationality"] = data.get("nationality") or "JP"
        entry["insurance"] = data.get("insurance")
        entry["pension"] = data.get("pension")
    if not entry.get("insurance"):
        errors.append(
            f"{where}.insurance: 健康保険（kokuho, employee, kouki, welfare, none）を選んでください"
        )
    for name in NAVIGATOR_FIELDS:
        if name in data:
            entry[name] = bool(data[name])
        else:
            entry.setdefault(name, False)
    return entry


def _parse(data: Any) -> tuple[dict[str, Any], list[_Person], list[str]]:
    errors: list[str] = []
    if not isinstance(data, dict):
        raise IntakeError("入力は JSON オブジェクトです")
    event = data.get("event")
    if not isinstance(event, dict):
        raise IntakeError("event: 必須です")
    raw_persons = data.get("persons")
    if not isinstance(raw_persons, list) or not raw_persons:
        raise IntakeError("persons: 1人以上必要です")
    numbers = [n for p in raw_persons if isinstance(p, dict) and (n := p.get("atena_number"))]
    found = (
        {
            r.atena_number: r
            for r in Resident.objects.select_related("household").filter(atena_number__in=numbers)
        }
        if numbers  # a household of newcomers: no query to build
        else {}
    )
    persons: list[_Person] = []
    for index, raw in enumerate(raw_persons):
        where = f"persons[{index}]"
        if not isinstance(raw, dict) or not raw.get("id"):
            errors.append(f"{where}.id: 必須です")
            continue
        person = _Person(pid=str(raw["id"]), data=raw)
        if number := raw.get("atena_number"):
            person.resident = found.get(number)
            if person.resident is None:
                errors.append(f"{where}.atena_number: 宛名番号 {number} の住民はいません")
        else:
            for name in NEW_PERSON_REQUIRED:
                if not str(raw.get(name, "")).strip():
                    errors.append(f"{where}.{name}: 新しく記録する人には必須です")
            if str(raw.get("birth_date", "")).strip():
                person.birth = _birth_date(raw["birth_date"], errors, where)
            if raw.get("relationship") and (problem := relationship_problem(raw["relationship"])):
                errors.append(f"{where}.relationship: {problem}")
        persons.append(person)
    return event, persons, errors


def _birth_date(value: Any, errors: list[str], where: str) -> JapaneseDate | None:
    """A new person's date of birth, checked by the navigator's own parser (its
    message, naming the field), kept for the registry in the canonical 和暦."""
    try:
        parse_birth_date(value)
    except PydanticCustomError as error:
        errors.append(f"{where}.birth_date: {error.message()}")
        return None
    return canonical_date(parse_date(value))


def _event_date(event: dict[str, Any], errors: list[str]) -> JapaneseDate | None:
    """The event's day, checked by the navigator's own parser (one message)."""
    try:
        day = parse_event_date(event.get("date"))
    except PydanticCustomError as error:
        errors.append(f"event.date: {error.message()}")
        return None
    return canonical_date(day)


def _new_person(person: _Person) -> registry.Person:
    data = person.data
    foreign = (data.get("nationality") or "JP") != "JP"
    return registry.Person(
        name=data["name"],
        kana=data.get("kana", ""),
        sex=str(data["sex"]),
        birth_date=person.birth,
        relationship=data["relationship"],
        resident_type="2" if foreign else "1",
        nationality=data.get("nationality_name") or (data.get("nationality") if foreign else ""),
        name_alphabet=data.get("name_alphabet", ""),
        my_number=data.get("my_number", ""),
        kokuho=data.get("insurance") == "kokuho",
        kouki=data.get("insurance") == "kouki",
        pension_category=data.get("pension") or "",
    )


def _address(data: dict[str, Any], errors: list[str]) -> registry.Address | None:
    address = data.get("address")
    if not isinstance(address, dict):
        errors.append("address: 新しい住所が必要です")
        return None
    for name in ("prefecture", "city", "machiaza"):
        if not str(address.get(name, "")).strip():
            errors.append(f"address.{name}: 必須です")
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        errors.append(f"address: 不明な項目 {', '.join(sorted(unknown))}")
    if errors:
        return None
    return registry.Address(**{k: str(address.get(k, "")).replace("-", "") if k == "postal_code"
                               else str(address.get(k, "")) for k in ADDRESS_FIELDS})  # fmt: skip


def _notifier(data: dict[str, Any], persons: list[_Person], errors: list[str]) -> dict[str, str]:
    """The 届出人 of ``data["notifier"]`` as the visit's ``notifier_*`` fields (without
    the atena number of a newcomer: known after the registry change); ``{}`` when not
    given. Problems go to ``errors``."""
    raw = data.get("notifier")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append(
            'notifier: {"kind": "member", "person": …} または '
            '{"kind": "agent", "name": …, "relationship": …} で指定してください'
        )
        return {}
    kind = raw.get("kind")
    if kind not in NOTIFIER_KINDS:
        errors.append(f"notifier.kind: member（世帯の方）または agent（代理人）です: {kind!r}")
        return {}
    allowed = {"kind", "person"} if kind == "member" else {"kind", *NOTIFIER_AGENT_FIELDS}
    if unknown := sorted(set(raw) - allowed):
        errors.append(f"notifier: {kind} には使えない項目です: {', '.join(map(str, unknown))}")
    if kind == "member":
        pid = raw.get("person")
        ids = {p.pid for p in persons}
        subjects = data["event"].get("subjects") or []
        if not isinstance(pid, str) or pid not in ids:
            errors.append(f"notifier.person: persons の id を指定してください: {pid!r}")
        elif data["event"].get("type") in ("birth", "death") and pid in subjects:
            what = "新生児" if data["event"]["type"] == "birth" else "亡くなった方"
            errors.append(f"notifier.person: {what}は届出人になれません")
        else:
            return {"notifier_kind": kind, "notifier_person": pid}
        return {}
    fields: dict[str, str] = {"notifier_kind": kind}
    for name, limit in NOTIFIER_AGENT_FIELDS.items():
        value = raw.get(name, "")
        if not isinstance(value, str):
            errors.append(f"notifier.{name}: 文字列で指定してください")
            continue
        value = value.strip()
        if not value and name in ("name", "relationship"):
            errors.append(f"notifier.{name}: 代理人には必須です")
        elif len(value) > limit:
            errors.append(f"notifier.{name}: {limit}文字以内にしてください")
        fields[f"notifier_{name}"] = value
    return fields


@dataclass
class _Prepared:
    event: dict[str, Any]
    persons: list[_Person]
    event_date: JapaneseDate
    navigator_input: dict[str, Any]
    procedures: list[dict[str, Any]]
    catalogue: Any = None  # the catalogue the navigator ran on (its forms go on the tasks)
    notifier: dict[str, str] = field(default_factory=dict)  # the visit's notifier_* fields


def _prepare(data: Any) -> _Prepared:
    """Parse the filing, build the navigator input from the registry and the answers,
    and run the navigator. Reads only. Raises IntakeError naming every problem."""
    event, persons, errors = _parse(data)
    event_date = _event_date(event, errors)
    navigator_input = {
        "event": {k: v for k, v in event.items() if k in {"type", "date", "subjects",
                                                           "from_abroad", "to_abroad"}},
        "persons": [
            _navigator_person(p, errors, f"persons[{i}]") for i, p in enumerate(persons)
        ],
        "answers": data.get("answers") or {},
    }  # fmt: skip
    if event_date is not None:
        navigator_input["event"]["date"] = event_date.approx.isoformat()
    notifier = _notifier(data, persons, errors)
    if errors:
        raise IntakeError(errors)
    assert event_date is not None  # else an error above
    try:
        catalogue = catalogue_effective().catalogue
        procedures = navigate(navigator_input, catalogue)["procedures"]
    except NavigatorInputError as error:
        raise IntakeError(error.errors) from error
    return _Prepared(event, persons, event_date, navigator_input, procedures, catalogue, notifier)


def life_event_preview(*, data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The navigator input and the procedures ``life_event_confirm`` would produce for
    ``data``, built the same way; nothing is written. Raises IntakeError."""
    prepared = _prepare(data)
    return prepared.navigator_input, prepared.procedures


def life_event_confirm(
    *,
    data: Any,
    actor: Any,
    terminal: Terminal | None = None,
    ticket: Ticket | None = None,
    filed_on: datetime.date | None = None,
) -> IntakeResult:
    """Record a life event at the counter (see the module docstring). Raises IntakeError
    naming every problem; nothing is written then."""
    prepared = _prepare(data)
    event, persons = prepared.event, prepared.persons
    event_date, navigator_input = prepared.event_date, prepared.navigator_input
    procedures = prepared.procedures
    by_id = {p.pid: p for p in persons}
    event_type = event.get("type")
    subjects = [s for s in event.get("subjects", []) if isinstance(s, str)]

    filing = registry.Filing(
        effective_on=event_date,
        filed_on=filed_on or datetime.date.today(),
        filing_kind="ex_officio" if event_type in {"birth", "death", "marriage", "divorce"}
        else "filing",
        actor=actor,
        terminal=terminal,
        function="counter:intake",
    )  # fmt: skip
    # Built before the transaction: on SQLite it holds the write lock for the inserts only.
    task_rows = tasks_prepare(procedures=procedures, catalogue=prepared.catalogue)
    # One transaction; the rows that follow the changes (history, search keys, outbox
    # events, audit entries) are written in one bulk insert each at the end of the batch.
    # On SQLite it begins (takes the write lock) at its first statement: the residents'
    # rows are built and validated before that.
    using = current_tenant_alias()
    with deferred_begin(using), transaction.atomic(using=using), registry.filing_batch():
        reservation = None
        try:
            if data.get("reservation"):  # 転入予約 (引越しワンストップ): machi.moves
                from machi.moves.services import move_reservation_take

                reservation = move_reservation_take(
                    reference=data["reservation"], event_type=event_type, persons=persons
                )
            changed = _registry_change(event_type, event, data, persons, by_id, subjects, filing)
        except ValidationError as error:
            raise IntakeError(error.messages) from error
        atena = {p.pid: p.resident.atena_number for p in persons if p.resident is not None}
        notifier = dict(prepared.notifier)
        if pid := notifier.get("notifier_person"):
            notifier["notifier_atena"] = atena.get(pid, "")
        done_code = DONE_AT_COUNTER.get(event_type)
        recorded = set(changed)
        done = {(done_code, pid) for pid, number in atena.items() if number in recorded}
        visit = visit_open(
            event_type=event_type,
            event_date=event_date.approx,
            navigator_input=navigator_input,
            atena_numbers=sorted(set(atena.values())),
            ticket=ticket,
            actor=actor,
            terminal=terminal,
            notifier=notifier,
        )
        tasks = tasks_create(
            visit=visit, procedures=procedures, person_atena=atena, actor=actor,
            terminal=terminal, prepared=task_rows, visit_is_new=True, done_at_counter=done,
        )  # fmt: skip
        if reservation is not None:
            from machi.moves.services import move_reservation_complete

            move_reservation_complete(
                reservation=reservation, atena_numbers=changed, moved_in_on=event_date,
                address=str(_address(data, [])), visit_code=visit.public_code, actor=actor,
                terminal=terminal,
            )  # fmt: skip
    return IntakeResult(
        visit=visit,
        procedures=procedures,
        task_ids=[t.pk for t in tasks],
        change=event_type,
        atena_numbers=atena,
        residents_changed=changed,
    )


def _existing(persons: list[_Person], ids: list[str], *, what: str) -> list[Resident]:
    residents = []
    for pid in ids:
        person = next((p for p in persons if p.pid == pid), None)
        if person is None or person.resident is None:
            raise IntakeError(f"event.subjects: {pid} は{what}ため、宛名番号が必要です")
        if person.resident.status != Status.RESIDENT:
            raise IntakeError(
                f"{pid}: 宛名番号 {person.resident.atena_number} は住民ではありません"
            )
        residents.append(person.resident)
    return residents


def _household_of(persons: list[_Person]) -> Household | None:
    heads = [p.resident for p in persons if p.resident is not None]
    return heads[0].household if heads else None


def _registry_change(
    event_type: str,
    event: dict[str, Any],
    data: dict[str, Any],
    persons: list[_Person],
    by_id: dict[str, _Person],
    subjects: list[str],
    filing: registry.Filing,
) -> list[str]:
    errors: list[str] = []
    if event_type == "move_in":
        newcomers = [by_id[s] for s in subjects if s in by_id]
        if any(p.resident is not None for p in newcomers):
            raise IntakeError("event.subjects: 転入する人は新しく記録する人です（宛名番号なし）")
        address = _address(data, errors)
        if errors:
            raise IntakeError(errors)
        residents = registry.resident_move_in(
            persons=[_new_person(p) for p in newcomers],
            address=address,
            filing=filing,
            household=_household_of(persons),
            previous_address=str(data.get("previous_address", "")),
            from_abroad=bool(event.get("from_abroad")),
        )
        for person, resident in zip(newcomers, residents, strict=True):
            person.resident = resident
        return [r.atena_number for r in residents]
    if event_type == "birth":
        newborns = [by_id[s] for s in subjects if s in by_id]
        household = _household_of(persons)
        if len(newborns) != 1 or newborns[0].resident is not None or household is None:
            raise IntakeError(
                "出生: subjects は新生児1人（宛名番号なし）、persons に同じ世帯の住民が必要です"
            )
        newborn = newborns[0]
        newborn.resident = registry.resident_register_birth(
            person=_new_person(newborn), household=household, filing=filing
        )
        return [newborn.resident.atena_number]
    if event_type == "move_within":
        residents = _existing(persons, subjects, what="転居する")
        address = _address(data, errors)
        if errors:
            raise IntakeError(errors)
        registry.resident_move_within(residents=residents, address=address, filing=filing)
        return [r.atena_number for r in residents]
    if event_type == "move_out":
        residents = _existing(persons, subjects, what="転出する")
        destination = str(data.get("destination", "")).strip()
        if not destination:
            raise IntakeError("destination: 転出先を入力してください")
        if data.get("destination_lg_code"):  # 引越しワンストップ: machi.moves, with consent
            from machi.moves.services import outgoing_move_record

            outgoing_move_record(
                residents=residents, destination_lg_code=str(data["destination_lg_code"]),
                destination=destination, filing=filing, consent=data.get("consent") is True,
            )  # fmt: skip
            return [r.atena_number for r in residents]
        registry.resident_move_out(
            residents=residents, destination=destination, filing=filing,
            to_abroad=bool(event.get("to_abroad")),
        )  # fmt: skip
        return [r.atena_number for r in residents]
    if event_type == "death":
        (resident,) = _existing(persons, subjects[:1], what="亡くなった")
        registry.resident_record_death(resident=resident, filing=filing)
        return [resident.atena_number]
    if event_type in {"marriage", "divorce"}:
        residents = _existing(persons, subjects, what="届出の当事者の")
        changed = []
        for pid, resident in zip(subjects, residents, strict=True):
            person = by_id[pid].data
            if not person.get("new_name"):
                continue
            registry.resident_change_name(
                resident=resident,
                name=person["new_name"],
                kana=person.get("new_kana", ""),
                reason=event_type,
                former_surname=person.get("former_surname"),
                former_surname_kana=person.get("former_surname_kana"),
                filing=filing,
            )
            changed.append(resident.atena_number)
        return changed
    if event_type == "household_change":
        residents = _existing(persons, [p.pid for p in persons], what="世帯変更の")
        relationships = {}
        for person, resident in zip(persons, residents, strict=True):
            relationships[resident] = person.data.get("relationship") or resident.relationship
        target = None
        if number := data.get("household_number"):
            target = Household.objects.filter(household_number=number).first()
            if target is None:
                raise IntakeError(f"household_number: 世帯番号 {number} はありません")
        moving = [r for p, r in zip(persons, residents, strict=True) if p.pid in subjects]
        registry.household_change(
            relationships=relationships, moving=moving, household=target, filing=filing
        )
        return [r.atena_number for r in residents]
    raise IntakeError(f"event.type: 不明な届出 {event_type!r}")

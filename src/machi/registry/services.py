"""Every write on the registry. One transaction each: the record, its history, its
search keys, the outbox event and the audit entry commit together or not at all."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from machi.audit.services import AuditRecord, Terminal, audit_append_many
from machi.japanese import JapaneseDate, parse_date, to_katakana_fullwidth
from machi.linkage.services import NewEvent, outbox_append_many
from machi.registry.keys import resident_keys
from machi.registry.models import (
    FilingKind,
    Household,
    KanaStatus,
    Resident,
    ResidentHistory,
    ResidentKey,
    ResidentType,
    Status,
)
from machi.registry.mynumber import my_number_seal
from machi.registry.numbers import next_number, next_numbers
from machi.registry.relationships import HOUSEHOLDER, validate_relationship
from machi.tenancy.context import current_tenant_alias
from machi.tenancy.rows import rows_insert, rows_new


class RegistryError(ValidationError):
    """A registry change was refused; the message says why (nothing was written)."""


@dataclass(frozen=True)
class Address:
    prefecture: str
    city: str
    machiaza: str
    banchi: str = ""
    katagaki: str = ""
    postal_code: str = ""

    def as_fields(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __str__(self) -> str:
        text = f"{self.prefecture}{self.city}{self.machiaza}{self.banchi}"
        return f"{text}　{self.katagaki}" if self.katagaki else text


@dataclass(frozen=True)
class Person:
    """What a filing says about one person (names exactly as written)."""

    name: str
    sex: str
    birth_date: JapaneseDate | str
    relationship: str
    kana: str = ""
    kana_status: str = KanaStatus.UNCONFIRMED
    resident_type: str = ResidentType.JAPANESE
    former_surname: str = ""
    former_surname_kana: str = ""
    alias: str = ""
    alias_kana: str = ""
    name_alphabet: str = ""
    nationality: str = ""
    residence_status: str = ""
    my_number: str = ""
    resident_code: str = ""
    kokuho: bool = False
    kouki: bool = False
    kaigo: bool = False
    pension_category: str = ""
    child_allowance: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filing:
    """Who records the change, when it took effect and how it reached the office."""

    effective_on: JapaneseDate | str | datetime.date
    filed_on: datetime.date | None = None
    filing_kind: str = FilingKind.FILING
    actor: Any = None
    terminal: Terminal | None = None
    function: str = ""

    @property
    def effective(self) -> JapaneseDate:
        return _as_japanese_date(self.effective_on)


def _as_japanese_date(value: JapaneseDate | str | datetime.date) -> JapaneseDate:
    if isinstance(value, JapaneseDate):
        return value
    if isinstance(value, datetime.date):
        return parse_date(value.isoformat())
    return parse_date(value)


TRACKED_FIELDS = (
    "status", "name", "kana", "kana_status", "former_surname", "former_surname_kana",
    "alias", "alias_kana", "name_alphabet", "sex", "birth_date", "relationship",
    "postal_code", "prefecture", "city", "machiaza", "banchi", "katagaki",
    "became_resident_on", "settled_on", "previous_address", "destination_address",
    "nationality", "residence_status", "my_number", "resident_code", "kokuho", "kouki",
    "kaigo", "pension_category", "child_allowance", "household_id", "resident_type",
)  # fmt: skip


def _snapshot(resident: Resident) -> dict[str, Any]:
    return {name: getattr(resident, name) for name in TRACKED_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, JapaneseDate):
        return value.text
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for name in TRACKED_FIELDS:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name == "my_number":
            # The history shows that the number changed, never the number.
            changes[name] = "changed"
        else:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes


def resident_key_rows(resident: Resident) -> list[ResidentKey]:
    """The search-key rows of ``resident`` as its names stand now (not saved)."""
    keys = resident_keys(
        name=resident.name,
        kana=resident.kana,
        former_surname=resident.former_surname,
        former_surname_kana=resident.former_surname_kana,
        alias=resident.alias,
        alias_kana=resident.alias_kana,
        name_alphabet=resident.name_alphabet,
    )
    return [
        rows_new(ResidentKey, {"resident": resident, "key": key, "raw": raw[:200]})
        for key, raw in keys.items()
    ]


@dataclass
class _Pending:
    """The history rows, search keys, outbox events and audit entries of one filing,
    written together at its end (a few bulk inserts instead of a few per resident).

    Inside :func:`filing_batch` the services share the batch in force (``deferred``):
    their ``flush`` does nothing and the batch is written once when it closes."""

    events: list[NewEvent] = field(default_factory=list)
    audits: list[AuditRecord] = field(default_factory=list)
    histories: list[ResidentHistory] = field(default_factory=list)
    keys: dict[int, Resident] = field(default_factory=dict)  # pk → resident to re-key
    new_keys: set[int] = field(default_factory=set)  # pks with no key rows yet
    key_rows: list[ResidentKey] = field(default_factory=list)  # built before the lock
    deferred: bool = False

    def flush(self) -> None:
        if not self.deferred:
            self.write()

    def write(self) -> None:
        stale = [pk for pk in self.keys if pk not in self.new_keys]
        if stale:
            ResidentKey.objects.filter(resident_id__in=stale).delete()
        using = current_tenant_alias()
        rows_insert(ResidentHistory, self.histories, using=using)
        # Prebuilt rows of a resident renamed later in the batch give way to fresh ones.
        prebuilt = [row for row in self.key_rows if row.resident.pk not in self.keys]
        rows_insert(
            ResidentKey,
            prebuilt
            + [row for resident in self.keys.values() for row in resident_key_rows(resident)],
            using=using,
        )
        outbox_append_many(events=self.events)
        audit_append_many(records=self.audits)
        self.events, self.audits, self.histories, self.key_rows = [], [], [], []
        self.keys, self.new_keys = {}, set()


_batch: ContextVar[_Pending | None] = ContextVar("machi_registry_batch", default=None)


def _pending() -> _Pending:
    return _batch.get() or _Pending()


@contextmanager
def filing_batch() -> Iterator[_Pending]:
    """Collect the rows of every registry change made in the block and write them at its
    end, inside the caller's transaction: history, search keys, outbox events and audit
    entries in one bulk insert each. The caller may add its own events and audit records
    (``batch.events``, ``batch.audits``). Nothing is written if the block raises; use it
    inside ``transaction.atomic`` so that the changes and their rows commit together."""
    outer = _batch.get()
    if outer is not None:
        yield outer
        return
    batch = _Pending(deferred=True)
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
    batch.write()


def _record(
    *,
    resident: Resident,
    before: dict[str, Any],
    change: str,
    filing: Filing,
    event_type: str | None,
    pending: _Pending,
    my_number_changed: bool = False,
    key_rows: list[ResidentKey] | None = None,
) -> None:
    """History and search keys of one changed resident; its outbox event and audit entry
    go to ``pending`` (flushed once per filing, in the same transaction). ``key_rows``:
    the search keys of a new resident, built before the transaction."""
    after = _snapshot(resident)
    changes = _diff(before, after)
    history = rows_new(ResidentHistory, {
        "resident": resident,
        "change": change,
        "changes": changes,
        "effective_on": filing.effective,
        "filed_on": filing.filed_on,
        "filing_kind": filing.filing_kind,
        "staff_id": getattr(filing.actor, "pk", None),
        "staff_username": getattr(filing.actor, "username", "") or "",
    })  # fmt: skip
    pending.histories.append(history)
    name_fields = {"name", "kana", "former_surname", "former_surname_kana", "alias"}
    if key_rows is not None:
        pending.key_rows.extend(key_rows)
        pending.new_keys.add(resident.pk)
    elif not before:
        pending.keys[resident.pk] = resident
        pending.new_keys.add(resident.pk)
    elif name_fields.intersection(changes) or "alias_kana" in changes:
        pending.keys[resident.pk] = resident
    if event_type:
        pending.events.append(
            NewEvent(
                type=event_type,
                subject=resident.atena_number,
                data={
                    "atena_number": resident.atena_number,
                    "household_number": resident.household.household_number,
                    "change": change,
                    # Department systems read a date, not how staff wrote it (issue 12).
                    "effective_date": filing.effective.interchange,
                    "effective_date_approx": (
                        filing.effective.approx.isoformat() if filing.effective.approx else None
                    ),
                },
            )
        )
    pending.audits.append(
        AuditRecord(
            action=f"resident.{change}",
            actor=filing.actor,
            object_type="resident",
            object_id=resident.atena_number,
            function=filing.function,
            terminal=filing.terminal,
            my_number_changed=my_number_changed or "my_number" in changes,
            detail={"fields": sorted(changes)},
        )
    )


def household_create() -> Household:
    household = Household(household_number=next_number(kind="household"))
    (household,) = rows_insert(Household, [household], using=current_tenant_alias(), returning=True)
    return household


def _new_resident(
    *,
    person: Person,
    household: Household,
    address: Address,
    became_resident_on: JapaneseDate | None = None,
    previous_address: str = "",
    save: bool = True,
) -> Resident:
    """A new resident record (saved, with the next atena number, unless ``save`` is
    False: then it is validated but has neither number nor household id yet)."""
    validate_relationship(person.relationship)
    resident = Resident(
        atena_number=next_number(kind="atena") if save else "",
        household=household if save else None,
        resident_type=person.resident_type,
        status=Status.RESIDENT,
        name=person.name,
        kana=to_katakana_fullwidth(person.kana),
        kana_status=person.kana_status,
        former_surname=person.former_surname,
        former_surname_kana=to_katakana_fullwidth(person.former_surname_kana),
        alias=person.alias,
        alias_kana=to_katakana_fullwidth(person.alias_kana),
        name_alphabet=person.name_alphabet,
        sex=person.sex,
        birth_date=_as_japanese_date(person.birth_date),
        relationship=person.relationship,
        nationality=person.nationality,
        residence_status=person.residence_status,
        my_number=my_number_seal(person.my_number),
        resident_code=person.resident_code,
        kokuho=person.kokuho,
        kouki=person.kouki,
        kaigo=person.kaigo,
        pension_category=person.pension_category,
        child_allowance=person.child_allowance,
        previous_address=previous_address,
        **address.as_fields(),
    )
    resident.birth_date_approx = resident.birth_date.approx
    resident.became_resident_on = became_resident_on or resident.birth_date
    resident.settled_on = resident.became_resident_on
    _validate_person(resident)
    if save:
        resident.save()
    return resident


def _validate_person(resident: Resident) -> None:
    problems = []
    if not resident.name.strip():
        problems.append("氏名を入力してください。")
    if resident.sex not in {"1", "2"}:
        problems.append("性別は 1（男）または 2（女）です。")
    if resident.resident_type == ResidentType.FOREIGN and not resident.nationality:
        problems.append("外国人住民は国籍・地域を入力してください。")
    if problems:
        raise RegistryError(problems)


def _active(residents: Iterable[Resident]) -> list[Resident]:
    residents = list(residents)
    for resident in residents:
        if resident.status != Status.RESIDENT:
            raise RegistryError(
                f"宛名番号 {resident.atena_number} は住民ではありません"
                f"（{resident.get_status_display()}）。"
            )
    return residents


def _atomic():
    # Inside a filing batch a refused change fails the caller's whole transaction (no
    # savepoint to roll back to): the batch may hold rows of the change already.
    # Elsewhere a caller may catch the refusal and carry on.
    return transaction.atomic(using=current_tenant_alias(), savepoint=_batch.get() is None)


def resident_register_birth(*, person: Person, household: Household, filing: Filing) -> Resident:
    """出生: the newborn joins ``household`` at its address (birth date = effective date)."""
    with _atomic():
        pending = _pending()
        parent = household.members.filter(status=Status.RESIDENT).order_by("id").first()
        if parent is None:
            raise RegistryError("出生届の世帯に住民がいません。")
        address = Address(
            prefecture=parent.prefecture, city=parent.city, machiaza=parent.machiaza,
            banchi=parent.banchi, katagaki=parent.katagaki, postal_code=parent.postal_code,
        )  # fmt: skip
        resident = _new_resident(person=person, household=household, address=address)
        _record(
            resident=resident, pending=pending, before={}, change="birth", filing=filing,
            event_type="jp.machi.resident.born",
        )  # fmt: skip
        pending.flush()
        return resident


def resident_move_in(
    *,
    persons: list[Person],
    address: Address,
    filing: Filing,
    household: Household | None = None,
    previous_address: str = "",
    from_abroad: bool = False,
) -> list[Resident]:
    """転入: the persons become residents at ``address`` (a new household unless given)."""
    if not persons:
        raise RegistryError("転入する人がいません。")
    # Built and validated before the transaction: inside it only numbers and inserts.
    residents = [
        _new_resident(
            person=person,
            household=household,
            address=address,
            became_resident_on=filing.effective,
            previous_address=previous_address or ("国外" if from_abroad else ""),
            save=False,
        )
        for person in persons
    ]
    key_rows = [resident_key_rows(resident) for resident in residents]
    with _atomic():
        pending = _pending()
        household = household or household_create()
        for resident, number in zip(
            residents, next_numbers(kind="atena", count=len(residents)), strict=True
        ):
            resident.atena_number = number
            resident.household = household
        residents = rows_insert(Resident, residents, using=current_tenant_alias(), returning=True)
        if any(resident.pk is None for resident in residents):  # a backend without RETURNING
            by_number = dict(
                Resident.objects.filter(
                    atena_number__in=[r.atena_number for r in residents]
                ).values_list("atena_number", "pk")
            )
            for resident in residents:
                resident.pk = by_number[resident.atena_number]
        for resident, keys in zip(residents, key_rows, strict=True):
            _record(
                resident=resident, pending=pending, before={}, change="move_in", filing=filing,
                event_type="jp.machi.resident.moved_in", key_rows=keys,
            )  # fmt: skip
        pending.flush()
        return residents


def resident_move_within(
    *,
    residents: list[Resident],
    address: Address,
    filing: Filing,
    household: Household | None = None,
) -> list[Resident]:
    """転居: a new address in the same municipality (optionally joining another household)."""
    residents = _active(residents)
    with _atomic():
        pending = _pending()
        for resident in residents:
            before = _snapshot(resident)
            resident.previous_address = resident.address
            for name, value in address.as_fields().items():
                setattr(resident, name, value)
            resident.settled_on = filing.effective
            if household is not None:
                resident.household = household
            resident.save()
            _record(
                resident=resident, pending=pending, before=before, change="move_within",
                filing=filing, event_type="jp.machi.resident.moved_within",
            )  # fmt: skip
        pending.flush()
        return residents


def resident_move_out(
    *,
    residents: list[Resident],
    destination: str,
    filing: Filing,
    to_abroad: bool = False,
) -> list[Resident]:
    """転出: the residents leave for ``destination`` (status moved out)."""
    residents = _active(residents)
    if not destination.strip():
        raise RegistryError("転出先を入力してください。")
    with _atomic():
        pending = _pending()
        for resident in residents:
            before = _snapshot(resident)
            resident.status = Status.MOVED_OUT
            resident.destination_address = (
                destination if not to_abroad else f"国外（{destination}）"
            )
            resident.save()
            _record(
                resident=resident, pending=pending, before=before, change="move_out", filing=filing,
                event_type="jp.machi.resident.moved_out",
            )  # fmt: skip
        pending.flush()
        return residents


def resident_record_death(*, resident: Resident, filing: Filing) -> Resident:
    """死亡: the record is closed (status deceased). A householder's household needs a
    new householder afterwards (household_change)."""
    (resident,) = _active([resident])
    with _atomic():
        pending = _pending()
        before = _snapshot(resident)
        resident.status = Status.DECEASED
        resident.save()
        _record(
            resident=resident, pending=pending, before=before, change="death", filing=filing,
            event_type="jp.machi.resident.died",
        )  # fmt: skip
        pending.flush()
        return resident


def household_change(
    *,
    relationships: dict[Resident, str],
    filing: Filing,
    household: Household | None = None,
    moving: Iterable[Resident] | None = None,
    kind: str = "household_change",
) -> Household:
    """世帯変更: split, merge or a new householder, in one filing.

    ``relationships`` gives every affected resident their relationship afterwards.
    Residents in ``moving`` (by default all of them) go to ``household`` (None → a new
    household: a split); the others stay where they are with their new relationship
    (e.g. the new 世帯主 of the household left behind). Every household touched must
    end with exactly one 世帯主."""
    residents = _active(relationships)
    for relationship in relationships.values():
        validate_relationship(relationship)
    movers = set(residents if moving is None else moving)
    if not movers <= set(residents):
        raise RegistryError("移る人には変更後の続柄も指定してください。")
    with _atomic():
        pending = _pending()
        target = household or (household_create() if movers else None)
        touched = {r.household_id for r in residents}
        for resident in residents:
            before = _snapshot(resident)
            if resident in movers:
                resident.household = target
            resident.relationship = relationships[resident]
            resident.save()
            _record(
                resident=resident, pending=pending, before=before, change=kind, filing=filing,
                event_type="jp.machi.resident.household_changed",
            )  # fmt: skip
        if target is not None:
            touched.add(target.pk)
        for household_id in touched:
            _check_one_householder(household_id)
        pending.flush()
        return target or residents[0].household


def _check_one_householder(household_id: int) -> None:
    members = Resident.objects.filter(household_id=household_id, status=Status.RESIDENT)
    heads = sum(1 for m in members if m.relationship == HOUSEHOLDER)
    if members and heads != 1:
        number = Household.objects.get(pk=household_id).household_number
        raise RegistryError(f"世帯 {number} の世帯主は1人でなければなりません（{heads}人）。")


def resident_change_name(
    *,
    resident: Resident,
    name: str,
    kana: str,
    filing: Filing,
    reason: str,
    former_surname: str | None = None,
    former_surname_kana: str | None = None,
) -> Resident:
    """氏名の変更 by marriage or divorce (``reason`` 'marriage' or 'divorce')."""
    if reason not in {"marriage", "divorce"}:
        raise RegistryError("氏名変更の理由は marriage（婚姻）か divorce（離婚）です。")
    if not name.strip():
        raise RegistryError("氏名を入力してください。")
    (resident,) = _active([resident])
    with _atomic():
        pending = _pending()
        before = _snapshot(resident)
        resident.name = name
        resident.kana = to_katakana_fullwidth(kana)
        if former_surname is not None:
            resident.former_surname = former_surname
            resident.former_surname_kana = to_katakana_fullwidth(former_surname_kana or "")
        resident.save()
        _record(
            resident=resident, pending=pending, before=before,
            change=f"name_change.{reason}", filing=filing,
            event_type="jp.machi.resident.name_changed",
        )  # fmt: skip
        pending.flush()
        return resident


def resident_move_out_confirm(
    *, residents: list[Resident], destination: str, filing: Filing
) -> list[Resident]:
    """転出確定: the destination's 転入通知 arrived; the moved-out residents' destination
    becomes the address they were registered at there (effective: their move-in date)."""
    residents = list(residents)
    for resident in residents:
        if resident.status != Status.MOVED_OUT:
            raise RegistryError(
                f"宛名番号 {resident.atena_number} は転出の状態ではありません"
                f"（{resident.get_status_display()}）。"
            )
    if not residents or not destination.strip():
        raise RegistryError("転出を確定する人と転出先が必要です。")
    with _atomic():
        pending = _pending()
        for resident in residents:
            before = _snapshot(resident)
            resident.destination_address = destination
            resident.save()
            _record(
                resident=resident, pending=pending, before=before, change="move_out_confirm",
                filing=filing, event_type="jp.machi.resident.move_out_confirmed",
            )  # fmt: skip
        pending.flush()
        return residents

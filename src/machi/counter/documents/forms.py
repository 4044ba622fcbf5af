"""Which documents a visit gets, and the data each one prints (書かない窓口).

The resident reads the pre-filled form and signs it: the names, kana, dates of birth,
relationships and addresses come from the registry exactly as stored (variant kanji,
IVS sequences and 𠮷 included), the event and the procedures from the intake.

The templates receive plain dicts and strings only — never a ``Resident`` — so a
template cannot print a field by accident. The My Number is never read: every form
prints 「（窓口で確認）」 in its 個人番号 box.

The visit summary's guidance — where each department's counter is and what to bring
for each procedure (持ち物) — comes from the procedure catalogue in force for the
municipality (``places`` and each entry's ``bring`` / ``bring_from_abroad``), read when
the summary is printed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from machi.counter.models import Task, Visit
from machi.counter.selectors.visits import PUBLIC_STATUS_LABELS
from machi.japanese import eligible_child, format_date, format_seireki
from machi.procedures.engine.catalogue import EVENT_LABELS, Entry
from machi.procedures.selectors import catalogue_effective

# --- the documents ---------------------------------------------------------------------------

JUMIN_IDOU = "jumin_idou_todoke"
KOKUHO_SHUTOKU = "kokuho_shikaku_shutoku_todoke"
JIDOU_TEATE = "jidou_teate_nintei_seikyu"
VISIT_SUMMARY = "visit_summary"

TITLES: dict[str, str] = {
    JUMIN_IDOU: "住民異動届",
    KOKUHO_SHUTOKU: "国民健康保険 資格取得届",
    JIDOU_TEATE: "児童手当 認定請求書",
    VISIT_SUMMARY: "本日の手続きのご案内",
}

# 住民異動届: the filings by the resident (転入, 転出, 転居, 世帯変更).
JUMIN_IDOU_KINDS: dict[str, str] = {
    "move_in": "転入",
    "move_out": "転出",
    "move_within": "転居",
    "household_change": "世帯変更",
}
KOKUHO_ENROLL = "kokuho.enroll"
CHILD_ALLOWANCE_APPLY = "child_allowance.apply"

MY_NUMBER_BOX = "（窓口で確認）"  # printed in every 個人番号 box instead of the number
HOUSEHOLDER = "世帯主"
SPOUSES = frozenset({"妻", "夫", "妻(未届)", "夫(未届)"})
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class Document:
    name: str  # the form id (URL: documents/<name>.pdf)
    title: str
    filename: str  # for Content-Disposition (ASCII)


class DocumentNotFound(LookupError):
    """The visit does not get a document of that name."""


def _document(visit: Visit, name: str) -> Document:
    return Document(name=name, title=TITLES[name], filename=f"{name}_{visit.public_code}.pdf")


def visit_documents(*, visit: Visit, tasks: Iterable[Task] | None = None) -> list[Document]:
    """The documents ``visit`` gets, in print order: 住民異動届 for a resident's filing
    (転入/転出/転居/世帯変更), 国保 資格取得届 when a ``kokuho.enroll`` task exists,
    児童手当 認定請求書 when a ``child_allowance.apply`` task exists, and always the
    visit summary. One query (none when ``tasks`` is given)."""
    if tasks is None:
        codes = set(Task.objects.filter(visit_id=visit.pk).values_list("procedure_code", flat=True))
    else:
        codes = {task.procedure_code for task in tasks}
    names = []
    if visit.event_type in JUMIN_IDOU_KINDS:
        names.append(JUMIN_IDOU)
    if KOKUHO_ENROLL in codes:
        names.append(KOKUHO_SHUTOKU)
    if CHILD_ALLOWANCE_APPLY in codes:
        names.append(JIDOU_TEATE)
    names.append(VISIT_SUMMARY)
    return [_document(visit, name) for name in names]


# --- guidance data (the visit summary) --------------------------------------------------------

# Every visit needs it: printed once at the top of the summary (not per procedure).
IDENTITY = "本人確認書類（マイナンバーカード・運転免許証など）"

# Printed for a department the catalogue in force gives no place.
PLACE_UNKNOWN = "総合案内でおたずねください"


# --- formatting -----------------------------------------------------------------------------


def date_text(value: Any) -> str:
    """A date as every screen shows it (:func:`machi.japanese.format_date`: 和暦; a
    register date keeps its era and its 不詳/頃 parts)."""
    return format_date(value)


def wareki_day(day: datetime.date | None) -> str:
    """令和8年4月17日（金）"""
    if day is None:
        return ""
    return f"{format_date(day)}（{WEEKDAYS[day.weekday()]}）"


def seireki_day(day: datetime.date | None) -> str:
    """2026年4月17日: the 西暦 that ``format_date(day, both=True)`` shows in brackets on the
    staff screens, printed on its own line under the 和暦 (a narrow column)."""
    return "" if day is None else format_seireki(day, style="kanji")


def postal(code: str) -> str:
    code = (code or "").replace("-", "")
    return f"〒{code[:3]}-{code[3:]}" if len(code) == 7 else ""


# --- the people on a form -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """What a form prints about one resident (never the My Number)."""

    atena_number: str
    name: str
    kana: str
    birth: str  # 和暦
    sex: str
    relationship: str
    household_id: int
    address: str
    postal: str
    previous_address: str
    destination: str
    birth_approx: datetime.date | None = field(default=None, compare=False)


def _person(resident: Any) -> PersonRow:
    return PersonRow(
        atena_number=resident.atena_number,
        name=resident.name,
        kana=resident.kana,
        birth=date_text(resident.birth_date),
        sex=str(resident.get_sex_display()),
        relationship=resident.relationship,
        household_id=resident.household_id,
        address=resident.address,
        postal=postal(resident.postal_code),
        previous_address=resident.previous_address,
        destination=resident.destination_address,
        birth_approx=resident.birth_date_approx or getattr(resident.birth_date, "approx", None),
    )


# Only these columns are read: the encrypted My Number is never loaded.
_PERSON_COLUMNS = (
    "atena_number", "name", "kana", "birth_date", "birth_date_approx", "sex", "relationship",
    "household", "prefecture", "city", "machiaza", "banchi", "katagaki", "postal_code",
    "previous_address", "destination_address", "status",
)  # fmt: skip


def _residents() -> Any:  # a QuerySet of Resident
    from machi.registry.models import Resident

    return Resident.objects.only(*_PERSON_COLUMNS)


def _by_atena(numbers: Iterable[str]) -> dict[str, PersonRow]:
    wanted = sorted({n for n in numbers if n})
    if not wanted:
        return {}
    return {r.atena_number: _person(r) for r in _residents().filter(atena_number__in=wanted)}


def _householder(household_id: int) -> PersonRow | None:
    resident = (
        _residents()
        .filter(household_id=household_id, relationship=HOUSEHOLDER)
        .order_by("status", "id")  # a current resident ("1") first
        .first()
    )
    return None if resident is None else _person(resident)


def _household_members(household_id: int) -> list[PersonRow]:
    from machi.registry.models import Status

    return [
        _person(r)
        for r in _residents()
        .filter(household_id=household_id, status=Status.RESIDENT)
        .order_by("id")
    ]


def _label_atena(tasks: list[Task]) -> dict[str, str]:
    """navigator person id → atena number, from the tasks."""
    return {t.person_label: t.person_atena for t in tasks if t.person_label and t.person_atena}


def _subject_numbers(visit: Visit, tasks: list[Task]) -> list[str]:
    """The atena numbers of the event's subjects, in the navigator's order; all of the
    visit's residents when the tasks do not name them."""
    labels = _label_atena(tasks)
    subjects = (visit.navigator_input or {}).get("event", {}).get("subjects", [])
    numbers = [labels[s] for s in subjects if s in labels]
    return list(dict.fromkeys(numbers)) or list(visit.atena_numbers or [])


# --- who files (届出人, 請求者) ----------------------------------------------------------------

# The 届出人 boxes of the forms, in print order.
NOTIFIER_SELF = "本人"
NOTIFIER_HOUSEHOLDER = "世帯主"
NOTIFIER_MEMBER = "同一世帯の方"
NOTIFIER_AGENT = "代理人"
JUMIN_IDOU_NOTIFIERS = (NOTIFIER_SELF, NOTIFIER_HOUSEHOLDER, NOTIFIER_MEMBER, NOTIFIER_AGENT)
KOKUHO_NOTIFIERS = (NOTIFIER_HOUSEHOLDER, NOTIFIER_MEMBER, NOTIFIER_AGENT)

# Who files a procedure whose filer the navigator names by role; printed while the
# intake does not know the person yet (葬祭費: 葬祭を行った方 not answered).
FILER_ROLES = {
    "kokuho.birth_lump_sum": "世帯主",
    "kokuho.funeral_benefit": "葬祭を行った方",
    "kouki.funeral_benefit": "葬祭を行った方",
    "tax.heir_representative": "相続人の代表者",
}


@dataclass(frozen=True)
class NotifierRow:
    """The 届出人 as a form prints it: ``person`` for a household member (from the
    registry, exactly as stored), the typed name, kana and address for an agent."""

    kind: str  # the box ticked: 本人, 世帯主, 同一世帯の方 or 代理人
    name: str
    kana: str
    relationship: str  # an agent's relationship (関係); a member's 続柄
    address: str
    atena_number: str = ""


def notifier_row(
    visit: Visit, subjects: Iterable[str], people: dict[str, PersonRow]
) -> NotifierRow | None:
    """The visit's 届出人 (None when the intake did not record one). ``people`` holds the
    member's row when the notifier is a household member (absent: read here)."""
    if visit.notifier_kind == "agent":
        return NotifierRow(
            kind=NOTIFIER_AGENT,
            name=visit.notifier_name,
            kana=visit.notifier_kana,
            relationship=visit.notifier_relationship,
            address=visit.notifier_address,
        )
    if visit.notifier_kind != "member" or not visit.notifier_atena:
        return None
    number = visit.notifier_atena
    person = people.get(number) or _by_atena([number]).get(number)
    if person is None:
        return None
    if number in set(subjects):
        kind = NOTIFIER_SELF
    elif person.relationship == HOUSEHOLDER:
        kind = NOTIFIER_HOUSEHOLDER
    else:
        kind = NOTIFIER_MEMBER
    return NotifierRow(
        kind=kind,
        name=person.name,
        kana=person.kana,
        relationship=person.relationship,
        address=person.address,
        atena_number=number,
    )


def filer_text(code: str, filer: str, name: str) -> str:
    """Who files procedure ``code`` when not its person (``filer``: the navigator's id,
    ``name``: theirs): the name, else the role, with 「（未定）」 while the intake does
    not know them; "" when the person files themselves."""
    if name:
        return name
    role = FILER_ROLES.get(code)
    if role is None:
        return ""
    return role if filer else f"{role}（未定）"


def _from_abroad(visit: Visit) -> bool:
    return bool((visit.navigator_input or {}).get("event", {}).get("from_abroad"))


def _filed_on(visit: Visit) -> datetime.date:
    opened = visit.opened_at
    return timezone.localdate(opened) if opened else timezone.localdate()


# --- context builders -----------------------------------------------------------------------


@dataclass
class DocumentData:
    template: str
    context: dict[str, Any]
    atena_numbers: list[str]  # whose data the document prints (for the audit log)


def _common(visit: Visit, municipality: Any, name: str) -> dict[str, Any]:
    return {
        "title": TITLES[name],
        "visit_code": visit.public_code,
        "municipality": getattr(municipality, "name", ""),
        "prefecture": getattr(municipality, "prefecture", ""),
        "addressee": (f"{municipality.name}長" if municipality and name != VISIT_SUMMARY else ""),
        "filed_on": wareki_day(_filed_on(visit)),
        "event_date": date_text(visit.event_date),
        "event_label": EVENT_LABELS.get(visit.event_type, visit.event_type),
        "my_number_box": MY_NUMBER_BOX,
    }


def _jumin_idou(visit: Visit, tasks: list[Task], context: dict[str, Any]) -> DocumentData:
    numbers = _subject_numbers(visit, tasks)
    people = _by_atena(numbers)
    persons = [people[n] for n in numbers if n in people]
    first = persons[0] if persons else None
    householder = _householder(first.household_id) if first else None
    event = visit.event_type
    new_address = old_address = new_postal = ""
    if first is not None:
        if event == "move_out":
            new_address, old_address = first.destination, first.address
        elif event == "household_change":
            new_address, new_postal, old_address = first.address, first.postal, "同上"
        else:
            new_address, new_postal = first.address, first.postal
            old_address = first.previous_address
    kind = JUMIN_IDOU_KINDS.get(event, "")
    context.update(
        kinds=[(label, label == kind) for label in JUMIN_IDOU_KINDS.values()],
        from_abroad=_from_abroad(visit),
        new_label="転出先" if event == "move_out" else "新住所",
        old_label="現住所" if event == "move_out" else "旧住所",
        new_address=new_address,
        new_postal=new_postal,
        old_address=old_address,
        householder=householder,
        persons=persons,
        blank_rows=range(max(0, 4 - len(persons))),
    )
    notifier = notifier_row(visit, numbers, people)
    context.update(notifier=notifier, notifier_kinds=_boxes(JUMIN_IDOU_NOTIFIERS, notifier))
    shown = [p.atena_number for p in persons] + ([householder.atena_number] if householder else [])
    if notifier is not None and notifier.atena_number:
        shown.append(notifier.atena_number)
    return DocumentData("counter/documents/jumin_idou_todoke.html", context, shown)


def _boxes(kinds: tuple[str, ...], notifier: NotifierRow | None) -> list[tuple[str, bool]]:
    """The 届出人 check boxes: (label, ticked). On a form without 本人, the person
    themselves files as a household member."""
    kind = notifier.kind if notifier is not None else ""
    if kind == NOTIFIER_SELF and kind not in kinds:
        kind = NOTIFIER_HOUSEHOLDER if notifier.relationship == HOUSEHOLDER else NOTIFIER_MEMBER
    return [(label, label == kind) for label in kinds]


KOKUHO_REASONS = ("転入", "出生", "職場の健康保険などをやめた", "生活保護をやめた", "その他")
KOKUHO_EVENT_REASON = {"move_in": "転入", "birth": "出生", "divorce": "その他"}


def _kokuho(visit: Visit, tasks: list[Task], context: dict[str, Any]) -> DocumentData:
    numbers = list(
        dict.fromkeys(t.person_atena for t in tasks if t.procedure_code == KOKUHO_ENROLL)
    )
    people = _by_atena(numbers)
    insured = [people[n] for n in numbers if n in people]
    householder = _householder(insured[0].household_id) if insured else None
    reason = KOKUHO_EVENT_REASON.get(visit.event_type, "その他")
    other_note = "" if reason != "その他" else EVENT_LABELS.get(visit.event_type, "")
    context.update(
        householder=householder,
        address=(householder or (insured[0] if insured else None)),
        previous_address=(insured[0].previous_address if insured else ""),
        insured=insured,
        blank_rows=range(max(0, 4 - len(insured))),
        reasons=[(label, label == reason) for label in KOKUHO_REASONS],
        other_note=other_note,
        acquired_on=date_text(visit.event_date),
    )
    notifier = notifier_row(visit, (), people)
    context.update(notifier=notifier, notifier_kinds=_boxes(KOKUHO_NOTIFIERS, notifier))
    shown = [p.atena_number for p in insured]
    if householder is not None:
        shown.append(householder.atena_number)
    if notifier is not None and notifier.atena_number:
        shown.append(notifier.atena_number)
    return DocumentData("counter/documents/kokuho_shikaku_shutoku_todoke.html", context, shown)


def _spouse_of(claimant: PersonRow, members: list[PersonRow]) -> PersonRow | None:
    others = [m for m in members if m.atena_number != claimant.atena_number]
    if claimant.relationship == HOUSEHOLDER:
        return next((m for m in others if m.relationship in SPOUSES), None)
    if claimant.relationship in SPOUSES:
        return next((m for m in others if m.relationship == HOUSEHOLDER), None)
    return None


def _jidou_teate(visit: Visit, tasks: list[Task], context: dict[str, Any]) -> DocumentData:
    number = next((t.person_atena for t in tasks if t.procedure_code == CHILD_ALLOWANCE_APPLY), "")
    claimant = _by_atena([number]).get(number)
    members = _household_members(claimant.household_id) if claimant else []
    children = [
        m
        for m in members
        if claimant is not None
        and m.atena_number != claimant.atena_number
        and m.birth_approx is not None
        and eligible_child(m.birth_approx, visit.event_date)
    ]
    spouse = _spouse_of(claimant, members) if claimant else None
    context.update(
        claimant=claimant,
        spouse=spouse,
        children=children,
        blank_rows=range(max(0, 3 - len(children))),
    )
    shown = ([claimant.atena_number] if claimant else []) + [c.atena_number for c in children]
    if spouse is not None:
        shown.append(spouse.atena_number)
    return DocumentData("counter/documents/jidou_teate_nintei_seikyu.html", context, shown)


def _what_to_bring(entry: Entry | None, from_abroad: bool) -> tuple[str, ...]:
    """The 持ち物 of a task's procedure (none when the catalogue in force no longer has
    the procedure)."""
    return () if entry is None else entry.what_to_bring(from_abroad=from_abroad)


def _summary(
    visit: Visit, tasks: list[Task], context: dict[str, Any], status_url: str, qr_svg: str
) -> DocumentData:
    """One row per task, as the intake's result page lists them (so 「手続きの数」 is the
    number of tasks the resident has, one per procedure and person)."""
    people = _by_atena(
        [t.person_atena for t in tasks] + [t.filer_atena for t in tasks] + [visit.notifier_atena]
    )
    names = {number: person.name for number, person in people.items()}
    from_abroad = _from_abroad(visit)
    catalogue = catalogue_effective().catalogue
    entries = {entry.code: entry for entry in catalogue.entries}
    departments: dict[str, dict[str, Any]] = {}
    for task in tasks:
        group = departments.setdefault(
            task.department,
            {
                "code": task.department,
                "name": task.department_name or task.department,
                "place": catalogue.places.get(task.department, PLACE_UNKNOWN),
                "rows": [],
            },
        )
        person = people.get(task.person_atena)
        group["rows"].append(
            {
                "title": task.title,
                "person": person.name if person is not None else "" if task.person_atena
                else "世帯",
                "filer": filer_text(
                    task.procedure_code, task.filer_label, names.get(task.filer_atena, "")
                ),
                "due_wareki": wareki_day(task.due),
                "due_seireki": seireki_day(task.due),
                "bring": _what_to_bring(entries.get(task.procedure_code), from_abroad),
                "status": str(PUBLIC_STATUS_LABELS.get(task.status, task.status)),
            }
        )  # fmt: skip
    groups = list(departments.values())
    notifier = notifier_row(visit, _subject_numbers(visit, tasks), people)
    context.update(
        event_on=wareki_day(visit.event_date),
        groups=groups,
        count=len(tasks),
        identity=IDENTITY,
        notifier=notifier,
        status_url=status_url,
        qr_svg=qr_svg,
    )
    return DocumentData("counter/documents/visit_summary.html", context, sorted(people))


def document_data(
    *,
    visit: Visit,
    name: str,
    municipality: Any = None,
    status_url: str = "",
    qr_svg: str = "",
) -> DocumentData:
    """The template and context of document ``name`` for ``visit`` (DocumentNotFound if
    the visit does not get it). Reads the registry: the caller audits."""
    tasks = list(Task.objects.filter(visit_id=visit.pk).order_by("id"))
    if name not in {d.name for d in visit_documents(visit=visit, tasks=tasks)}:
        raise DocumentNotFound(name)
    context = _common(visit, municipality, name)
    if name == JUMIN_IDOU:
        return _jumin_idou(visit, tasks, context)
    if name == KOKUHO_SHUTOKU:
        return _kokuho(visit, tasks, context)
    if name == JIDOU_TEATE:
        return _jidou_teate(visit, tasks, context)
    return _summary(visit, tasks, context, status_url, qr_svg)

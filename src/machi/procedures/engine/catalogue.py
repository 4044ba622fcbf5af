"""The procedure catalogue: schema, loading, merging an override, validation.

A catalogue document (YAML or JSON) has four top-level keys::

    departments:  {code: display name, …}       # the default lists DOMAIN §6's nine
    places:       {code: where its counter is, …}  # printed on the visit summary
    closed_days:  [YYYY-MM-DD, …]                # the municipality's extra closed days
    procedures:   [entry, …]

An entry::

    code: kaigo.enroll                 # unique; lower-case words joined by "."
    title: 介護保険の資格取得
    department: kaigo                  # a department code
    events: [move_in]                  # life events it follows
    applies_to: each_subject           # newborn | each_subject | deceased | claimant |
                                       # custodial_parent | household (person null)
    condition: legal_age(person.birth_date, D) >= 65     # CEL, must give a bool
    filer: householder                 # optional CEL: who files / receives when not the
                                       # person (a person, a person id or null)
    due: "+14"                         # null | "D" | "+N" (N days, DOMAIN §3)
    forms: [kaigo_shikaku_shutoku_todoke]
    reason: 65歳以上（法定年齢 {legal_age}歳）の転入のため介護保険の資格を取得します
    variants:                          # optional, per event: applies_to, condition, filer,
                                       # due, reason
      move_out: {due: null}
    bring: [介護保険受給資格証明書]      # optional: what the resident brings (持ち物)
    bring_from_abroad: [パスポート]      # optional: instead of bring for a move from abroad

A municipality's override file has the same keys; its ``procedures`` entries replace
the named fields of the default entry with the same code (``variants`` is replaced
whole), ``disabled: true`` removes an entry, and a new code adds one (then every
field is needed). ``departments`` renames or adds departments; ``places`` sets or
replaces the place of a department (a department without one has no place).

Everything is validated before a catalogue is built: every problem is collected, each
naming its entry (``procedures[12] (kaigo.enroll): condition: …``).
"""

from __future__ import annotations

import datetime
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cel
import yaml

from machi.procedures.engine.conditions import HELPERS, CelCheckError, compile_condition
from machi.procedures.engine.errors import CatalogueError

__all__ = [
    "APPLIES_TO",
    "DEFAULT_CATALOGUE_PATH",
    "EVENT_LABELS",
    "EVENT_TYPES",
    "REASON_FIELDS",
    "Catalogue",
    "Entry",
    "Rule",
    "build_catalogue",
    "default_catalogue",
    "default_document",
    "load_document",
]

DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "catalogue" / "default.yaml"

#: Life events (DOMAIN §1, §6) with their Japanese names.
EVENT_LABELS: dict[str, str] = {
    "birth": "出生",
    "move_in": "転入",
    "move_out": "転出",
    "move_within": "転居",
    "death": "死亡",
    "marriage": "婚姻",
    "divorce": "離婚",
    "household_change": "世帯変更",
}
EVENT_TYPES = frozenset(EVENT_LABELS)

#: Who a procedure is for. ``newborn`` and ``deceased`` are the subjects of a birth or a
#: death; ``claimant`` the child-allowance claimant; ``custodial_parent`` each subject
#: with ``custodial_parent``; ``household`` one procedure for the household (person null).
APPLIES_TO = ("newborn", "each_subject", "deceased", "claimant", "custodial_parent", "household")
_APPLIES_TO_EVENT = {"newborn": "birth", "deceased": "death"}

#: Placeholders a ``reason`` may use; the person-level ones need a person.
PERSON_REASON_FIELDS = frozenset({"person", "age", "legal_age", "school_age", "eligible_until"})
REASON_FIELDS = PERSON_REASON_FIELDS | {"D", "due", "title", "event"}

SCHOOL_AGE_LABELS = {
    "preschool": "就学前",
    "elementary": "小学校",
    "junior_high": "中学校",
    "none": "学齢外",
}

_CODE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_DUE = re.compile(r"^\+(\d{1,3})$")
_ANSWER_REF = re.compile(r"\banswers\s*\.\s*([A-Za-z_]\w*)|\banswers\s*\[\s*[\"'](\w+)[\"']\s*\]")

_TOP_KEYS = ("departments", "places", "closed_days", "procedures")
_ENTRY_FIELDS = (
    "code", "title", "department", "events", "applies_to", "condition", "filer", "due",
    "forms", "reason", "variants", "bring", "bring_from_abroad",
)  # fmt: skip
_VARIANT_FIELDS = frozenset({"applies_to", "condition", "filer", "due", "reason"})
_REQUIRED = ("title", "department", "events", "applies_to", "reason")
_DEFAULTS: dict[str, Any] = {
    "condition": "true",
    "filer": None,
    "due": None,
    "forms": [],
    "variants": {},
    "bring": [],
    "bring_from_abroad": None,
}

#: The longest place or 持ち物 text (one cell of the printed visit summary).
MAX_TEXT = 100

#: The answers of the counter's questions that every catalogue knows (missing → false).
BASE_ANSWERS = frozenset({"has_dog", "wants_seal_registration", "owns_real_estate"})


@dataclass(frozen=True)
class Rule:
    """One entry on one event, compiled: what the navigator runs."""

    code: str
    title: str
    department: str
    event: str
    applies_to: str
    condition: str
    due: int | None  # days after D (0 for "D"), None for no deadline
    reason: str
    forms: tuple[str, ...]
    source: str  # "procedures[12] (kaigo.enroll)" — for error messages
    program: Any = field(repr=False, compare=False)
    always: bool = False  # the condition is literally `true`
    reason_fields: frozenset[str] = frozenset()
    filer: str | None = None  # CEL: who files when not the person (DOMAIN §6)
    filer_program: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Entry:
    """An entry of the effective catalogue as written (for display and download)."""

    code: str
    title: str
    department: str
    events: tuple[str, ...]
    applies_to: str
    condition: str
    due: str | None
    forms: tuple[str, ...]
    reason: str
    variants: dict[str, dict[str, Any]]
    source: str
    bring: tuple[str, ...] = ()  # what the resident brings (持ち物)
    bring_from_abroad: tuple[str, ...] | None = None  # instead of bring, from abroad
    filer: str | None = None

    def what_to_bring(self, *, from_abroad: bool = False) -> tuple[str, ...]:
        """The 持ち物 of this procedure (``bring_from_abroad`` for a move from abroad
        when the entry has one)."""
        if from_abroad and self.bring_from_abroad is not None:
            return self.bring_from_abroad
        return self.bring

    def rule_for(self, event: str) -> dict[str, Any]:
        """applies_to, condition, due and reason on ``event`` (the variant applied)."""
        base = {
            "applies_to": self.applies_to,
            "condition": self.condition,
            "filer": self.filer,
            "due": self.due,
            "reason": self.reason,
        }
        return {**base, **self.variants.get(event, {})}


@dataclass(frozen=True)
class Catalogue:
    departments: dict[str, str]
    entries: tuple[Entry, ...]
    rules: dict[str, tuple[Rule, ...]]  # by event type
    closed_days: frozenset[datetime.date]
    answer_keys: frozenset[str]
    places: dict[str, str] = field(default_factory=dict)  # department code → its counter
    #: The answers a ``filer`` reads: a person id (or null while not known), not a bool.
    person_answer_keys: frozenset[str] = frozenset()

    @property
    def department_order(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.departments)}

    def entry(self, code: str) -> Entry | None:
        return next((e for e in self.entries if e.code == code), None)


# --------------------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text (``2026-13-01`` is then our error to
    report, not a crash in the YAML library)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_document(text: str, *, name: str = "catalogue") -> dict[str, Any]:
    """Parse a catalogue file (YAML; JSON is YAML too). Errors give the line and column."""
    if not isinstance(text, str):
        raise CatalogueError(f"{name}: テキストではありません")
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" {mark.line + 1}行 {mark.column + 1}列" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogueError(f"{name}:{where}: YAML として読めません: {problem}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise CatalogueError(f"{name}: 最上位は {' / '.join(_TOP_KEYS)} の対応表です")
    return document


@lru_cache(maxsize=1)
def default_document() -> dict[str, Any]:
    return load_document(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"), name="default.yaml")


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The default catalogue of DOMAIN §6 (built once per process)."""
    return build_catalogue(default_document())


# --------------------------------------------------------------------------- building


def _label(index: int, raw: Any) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    return (
        f"procedures[{index}] ({code})"
        if isinstance(code, str) and code
        else f"procedures[{index}]"
    )


def _departments(
    document: dict[str, Any], base: dict[str, str], errors: list[str]
) -> dict[str, str]:
    raw = document.get("departments")
    result = dict(base)
    if raw is None:
        return result
    if not isinstance(raw, dict):
        errors.append("departments: 「コード: 表示名」の対応表で書いてください")
        return result
    for code, name in raw.items():
        if not isinstance(code, str) or not _IDENT.match(code):
            errors.append(f"departments.{code}: 課のコードは英小文字・数字・_ で書いてください")
        elif not isinstance(name, str) or not name.strip():
            errors.append(f"departments.{code}: 表示名がありません")
        else:
            result[code] = name.strip()
    return result


def _places(document: dict[str, Any], base: dict[str, str], errors: list[str]) -> dict[str, str]:
    """``base`` with the document's places set (department codes checked later, once
    every department is known)."""
    raw = document.get("places")
    result = dict(base)
    if raw is None:
        return result
    if not isinstance(raw, dict):
        errors.append("places: 「課のコード: 窓口の場所」の対応表で書いてください")
        return result
    for code, place in raw.items():
        if not isinstance(place, str) or not place.strip():
            errors.append(f"places.{code}: 窓口の場所を文字列で書いてください")
        elif len(place.strip()) > MAX_TEXT:
            errors.append(f"places.{code}: {MAX_TEXT}文字以内で書いてください")
        else:
            result[code] = place.strip()
    return result


def _unknown_places(places: dict[str, str], departments: dict[str, str], errors: list[str]) -> None:
    known = ", ".join(departments)
    for code in places:
        if code not in departments:
            errors.append(f"places.{code}: 未知の課 '{code}'（既知の課: {known}）")


def _closed_days(document: dict[str, Any], errors: list[str]) -> frozenset[datetime.date]:
    raw = document.get("closed_days")
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        errors.append("closed_days: 日付（YYYY-MM-DD）のリストで書いてください")
        return frozenset()
    days = set()
    for i, value in enumerate(raw):
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            days.add(value)
            continue
        try:
            days.add(datetime.date.fromisoformat(str(value)))
        except ValueError:
            errors.append(f"closed_days[{i}]: 日付は YYYY-MM-DD で書いてください: {value!r}")
    return frozenset(days)


def _procedures(document: dict[str, Any], errors: list[str]) -> list[tuple[int, dict[str, Any]]]:
    raw = document.get("procedures")
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append("procedures: 手続きのリストで書いてください")
        return []
    result = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        label = _label(index, item)
        if not isinstance(item, dict):
            errors.append(f"{label}: 手続きは「項目: 値」の対応表で書いてください")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            errors.append(f"{label}: code: 英小文字・数字・_ を「.」でつないだコードが必要です")
            continue
        if code in seen:
            errors.append(f"{label}: code: 重複しています（procedures[{seen[code]}] と同じ）")
            continue
        seen[code] = index
        unknown = set(item) - set(_ENTRY_FIELDS) - {"disabled"}
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            errors.append(
                f"{label}: 未知の項目 {names}（使える項目: {', '.join(_ENTRY_FIELDS)}, disabled）"
            )
            continue
        result.append((index, item))
    return result


def build_catalogue(default: dict[str, Any], override: dict[str, Any] | None = None) -> Catalogue:
    """The catalogue ``default`` with the municipality's ``override`` applied, validated.

    Raises :class:`CatalogueError` listing every problem, each naming its entry.
    """
    errors: list[str] = []
    for name, document in (("default", default), ("override", override or {})):
        unknown = set(document) - set(_TOP_KEYS)
        if unknown:
            keys = ", ".join(sorted(map(str, unknown)))
            errors.append(f"未知の項目 {keys}（使える項目: {', '.join(_TOP_KEYS)}）")
            if name == "default":
                raise CatalogueError(errors)

    departments = _departments(default, {}, errors)
    places = _places(default, {}, errors)
    closed_days = _closed_days(default, errors)
    merged: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, item in _procedures(default, errors):
        if not item.get("disabled"):
            merged[item["code"]] = (
                _label(index, item),
                {k: v for k, v in item.items() if k != "disabled"},
            )
    _unknown_places(places, departments, errors)
    if errors:  # the default file itself is broken
        raise CatalogueError(errors)

    if override:
        departments = _departments(override, departments, errors)
        places = _places(override, places, errors)
        _unknown_places(places, departments, errors)
        closed_days = closed_days | _closed_days(override, errors)
        for index, item in _procedures(override, errors):
            label = _label(index, item)
            code = item["code"]
            disabled = item.get("disabled", False)
            if not isinstance(disabled, bool):
                errors.append(f"{label}: disabled: true か false で書いてください")
                continue
            if disabled:
                if code not in merged:
                    errors.append(f"{label}: disabled: 既定の目録にない手続きです")
                merged.pop(code, None)
                continue
            fields = {k: v for k, v in item.items() if k != "disabled"}
            if code in merged:
                merged[code] = (label, {**merged[code][1], **fields})
            else:
                merged[code] = (label, fields)

    answer_keys = set(BASE_ANSWERS)
    person_answer_keys: set[str] = set()
    entries: list[Entry] = []
    for label, raw in merged.values():
        entry = _entry(label, raw, departments, errors)
        if entry is not None:
            entries.append(entry)
            for name in ("condition", "filer"):
                for spec in (entry.rule_for(event) for event in entry.events):
                    text = spec.get(name)
                    for a, b in _ANSWER_REF.findall(text if isinstance(text, str) else ""):
                        answer_keys.add(a or b)
                        if name == "filer":
                            person_answer_keys.add(a or b)
    rules: dict[str, list[Rule]] = {event: [] for event in EVENT_LABELS}
    for entry in entries:
        for event in entry.events:
            rule = _rule(entry, event, errors)
            if rule is not None:
                rules[event].append(rule)
    if errors:
        raise CatalogueError(_in_file_order(errors))

    catalogue = Catalogue(
        departments=departments,
        entries=tuple(entries),
        rules={event: tuple(found) for event, found in rules.items()},
        closed_days=closed_days,
        answer_keys=frozenset(answer_keys),
        places=places,
        person_answer_keys=frozenset(person_answer_keys),
    )
    _trial_run(catalogue, errors)
    if errors:
        raise CatalogueError(_in_file_order(errors))
    return catalogue


_INDEX = re.compile(r"^procedures\[(\d+)\]")


def _in_file_order(errors: list[str]) -> list[str]:
    """File-level problems first, then by entry position (stable within an entry)."""

    def key(error: str) -> int:
        match = _INDEX.match(error)
        return int(match[1]) if match else -1

    return sorted(errors, key=key)


def _entry(
    label: str, raw: dict[str, Any], departments: dict[str, str], errors: list[str]
) -> Entry | None:
    before = len(errors)
    values = {**_DEFAULTS, **raw}
    for name in _REQUIRED:
        if values.get(name) in (None, "", []):
            errors.append(f"{label}: {name}: 必須の項目がありません")
    if len(errors) > before:
        return None

    title = values["title"]
    if not isinstance(title, str):
        errors.append(f"{label}: title: 文字列で書いてください")
    department = values["department"]
    if department not in departments:
        known = ", ".join(departments)
        errors.append(f"{label}: department: 未知の課 '{department}'（既知の課: {known}）")
    events = values["events"]
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not events:
        errors.append(f"{label}: events: 出来事のリストで書いてください")
        events = []
    for event in events:
        if event not in EVENT_TYPES:
            known = ", ".join(EVENT_LABELS)
            errors.append(f"{label}: events: 未知の出来事 '{event}'（既知の出来事: {known}）")
    if len(set(map(str, events))) != len(events):
        errors.append(f"{label}: events: 同じ出来事が重複しています")
    forms = values["forms"]
    if not isinstance(forms, list) or not all(
        isinstance(f, str) and _IDENT.match(f) for f in forms
    ):
        errors.append(f"{label}: forms: 様式 ID（英小文字・数字・_）のリストで書いてください")
        forms = []
    variants = values["variants"]
    if variants is None:
        variants = {}
    if not isinstance(variants, dict):
        errors.append(f"{label}: variants: 「出来事: {{項目: 値}}」の対応表で書いてください")
        variants = {}
    clean_variants: dict[str, dict[str, Any]] = {}
    for event, variant in variants.items():
        if event not in events:
            errors.append(f"{label}: variants.{event}: events にない出来事です")
            continue
        if not isinstance(variant, dict):
            errors.append(f"{label}: variants.{event}: 「項目: 値」の対応表で書いてください")
            continue
        unknown = set(variant) - _VARIANT_FIELDS
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            errors.append(
                f"{label}: variants.{event}: 未知の項目 {names}"
                f"（使える項目: {', '.join(sorted(_VARIANT_FIELDS))}）"
            )
            continue
        clean_variants[event] = {
            k: (_normalise_due(v) if k == "due" else v) for k, v in variant.items()
        }
    bring = _texts(label, "bring", values["bring"], errors)
    bring_from_abroad = (
        None
        if values["bring_from_abroad"] is None
        else _texts(label, "bring_from_abroad", values["bring_from_abroad"], errors)
    )
    if len(errors) > before:
        return None
    return Entry(
        code=raw["code"],
        title=title.strip(),
        department=department,
        events=tuple(events),
        applies_to=values["applies_to"],
        condition=values["condition"] if values["condition"] is not None else "true",
        due=_normalise_due(values["due"]),
        forms=tuple(forms),
        reason=values["reason"],
        variants=clean_variants,
        source=label,
        bring=bring,
        bring_from_abroad=bring_from_abroad,
        filer=values["filer"],
    )


def _texts(label: str, name: str, value: Any, errors: list[str]) -> tuple[str, ...]:
    """A list of non-empty strings of at most MAX_TEXT characters (持ち物)."""
    if value is None:
        value = []
    if not isinstance(value, list):
        errors.append(f"{label}: {name}: 持ち物を文字列のリストで書いてください")
        return ()
    result = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            errors.append(f"{label}: {name}[{i}]: 空でない文字列で書いてください")
        elif len(item.strip()) > MAX_TEXT:
            errors.append(f"{label}: {name}[{i}]: {MAX_TEXT}文字以内で書いてください")
        else:
            result.append(item.strip())
    return tuple(result)


def _normalise_due(value: Any) -> Any:
    """YAML reads ``+14`` unquoted as the integer 14: accept it as "+14"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"+{value}"
    return value


def _parse_due(value: Any) -> int | None:
    if value is None:
        return None
    if value == "D":
        return 0
    if isinstance(value, str):
        match = _DUE.match(value.strip())
        if match:
            return int(match[1])
    raise ValueError(f'null、"D" または "+日数"（例 "+14"）で書いてください: {value!r}')


def _wrap(condition: str, applies_to: str) -> str:
    """The program the navigator runs: the condition for each candidate, as a list of
    bools in the candidates' order (``filter`` over maps is slow in cel-rust; ``map`` is
    not), or one bool for a household-level procedure."""
    if applies_to == "household":
        return f"({condition})"
    if applies_to == "claimant":
        return f"[claimant].map(person, ({condition}))"
    if applies_to == "custodial_parent":
        return f"subjects.map(person, person.custodial_parent && ({condition}))"
    # newborn, deceased, each_subject: the subjects of the event
    return f"subjects.map(person, ({condition}))"


def _wrap_filer(filer: str, applies_to: str) -> str:
    """The filer for each candidate, in the order of :func:`_wrap` (one value for a
    household-level procedure)."""
    if applies_to == "household":
        return f"({filer})"
    if applies_to == "claimant":
        return f"[claimant].map(person, ({filer}))"
    return f"subjects.map(person, ({filer}))"


def _rule(entry: Entry, event: str, errors: list[str]) -> Rule | None:
    spec = entry.rule_for(event)
    where = f"{entry.source}" + (f": variants.{event}" if event in entry.variants else "")
    before = len(errors)
    applies_to = spec["applies_to"]
    if applies_to not in APPLIES_TO:
        errors.append(
            f"{where}: applies_to: 未知の対象 '{applies_to}'（使えるもの: {', '.join(APPLIES_TO)}）"
        )
    elif applies_to in _APPLIES_TO_EVENT and _APPLIES_TO_EVENT[applies_to] != event:
        errors.append(
            f"{where}: applies_to: '{applies_to}' は "
            f"{_APPLIES_TO_EVENT[applies_to]} の手続きにだけ使えます（この出来事は {event}）"
        )
    try:
        due = _parse_due(spec["due"])
    except ValueError as error:
        errors.append(f"{where}: due: {error}")
        due = None
    condition = spec["condition"]
    if isinstance(condition, bool):
        condition = "true" if condition else "false"
    if not isinstance(condition, str):
        errors.append(f"{where}: condition: CEL の式を文字列で書いてください")
        condition = "true"
    try:
        compile_condition(condition)
    except CelCheckError as error:
        errors.append(f"{where}: condition: {error}")
    filer = spec.get("filer")
    if filer is not None:
        if not isinstance(filer, str) or not filer.strip():
            errors.append(f"{where}: filer: 届け出る人を CEL の式（例 householder）で書きます")
            filer = None
        else:
            try:
                compile_condition(filer)
            except CelCheckError as error:
                errors.append(f"{where}: filer: {error}")
    reason = spec["reason"]
    reason_fields: frozenset[str] = frozenset()
    if not isinstance(reason, str) or not reason.strip():
        errors.append(f"{where}: reason: 理由の文がありません")
    else:
        try:
            reason_fields = frozenset(
                name for _, name, _, _ in string.Formatter().parse(reason) if name is not None
            )
        except ValueError as error:
            errors.append(f"{where}: reason: 書式が正しくありません（{error}）")
        unknown = reason_fields - REASON_FIELDS
        if unknown:
            errors.append(
                f"{where}: reason: 未知の差し込み {{{', '.join(sorted(unknown))}}}"
                f"（使えるもの: {', '.join(sorted(REASON_FIELDS))}）"
            )
        if applies_to == "household" and reason_fields & PERSON_REASON_FIELDS:
            names = ", ".join(sorted(reason_fields & PERSON_REASON_FIELDS))
            errors.append(f"{where}: reason: 世帯単位の手続きでは {{{names}}} は使えません")
    if len(errors) > before:
        return None
    return Rule(
        code=entry.code,
        title=entry.title,
        department=entry.department,
        event=event,
        applies_to=applies_to,
        condition=condition,
        due=due,
        reason=reason.strip(),
        forms=entry.forms,
        source=where,
        program=cel.compile(_wrap(condition, applies_to)),
        always=condition.strip() == "true",
        reason_fields=reason_fields,
        filer=filer.strip() if filer else None,
        filer_program=cel.compile(_wrap_filer(filer, applies_to)) if filer else None,
    )


# --------------------------------------------------------------------------- trial run


def _trial_run(catalogue: Catalogue, errors: list[str]) -> None:
    """Run every condition on sample households: a condition that fails on a complete,
    valid input (a type error, a missing field, not a bool) is refused now rather than
    at the counter."""
    from machi.procedures.engine.navigator import evaluate_filer, evaluate_rule, sample_inputs

    failed: set[tuple[str, str]] = set()
    for event, rules in catalogue.rules.items():
        for context in sample_inputs(catalogue, event):
            for rule in rules:
                for name, evaluate in (("condition", evaluate_rule), ("filer", evaluate_filer)):
                    if (rule.source, name) in failed:
                        continue
                    try:
                        evaluate(rule, context)
                    except Exception as error:
                        failed.add((rule.source, name))
                        message = str(error).removeprefix(f"{rule.source}: {name}: ")
                        errors.append(
                            f"{rule.source}: {name}: 評価できません（{event}）: {message}"
                        )


HELPER_NAMES = tuple(sorted(HELPERS))

"""Reads for residents' pre-applications: a code's saved input, the navigator's result
grouped by department, and which questions matter for an event (from the catalogue)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from machi.counter.models.preapplications import CODE_ALPHABET, CODE_LENGTH, PreApplication
from machi.procedures.engine import Catalogue
from machi.procedures.engine.navigator import PERSON_BOOLEANS

_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_ANSWER = re.compile(r"\banswers\s*\.\s*([A-Za-z_]\w*)|\banswers\s*\[\s*[\"'](\w+)[\"']\s*\]")


def preapplication_code_normalise(text: str) -> str | None:
    """A code as typed or read (``acef-gh34``, full-width, with spaces, or the page's URL
    that the QR code holds) → ``ACEFGH34``; None when it cannot be a code."""
    text = unicodedata.normalize("NFKC", text or "")
    if "/preapply/" in text:  # a QR scanner types the URL: …/<lg>/preapply/<code>/
        text = text.rstrip("/").rsplit("/", 1)[-1]
    clean = re.sub(r"[\s\-‐ー―]", "", text).upper()
    return clean if _CODE.match(clean) else None


def preapplication_get(*, code: str) -> PreApplication | None:
    """The municipality's pre-application with ``code`` (as typed), None when there is
    none or it has expired."""
    normalised = preapplication_code_normalise(code)
    if normalised is None:
        return None
    return PreApplication.objects.filter(code=normalised, expires_at__gt=timezone.now()).first()


# --- showing a navigator result ----------------------------------------------------------


def person_label(person_id: str | None, order: dict[str, int]) -> str:
    """「1人目」… for a person id of the input, 「世帯」 for a household-level entry."""
    if person_id is None:
        return "世帯"
    index = order.get(person_id)
    return f"{index + 1}人目" if index is not None else person_id


@dataclass
class DepartmentGroup:
    code: str
    name: str
    procedures: list[dict[str, Any]] = field(default_factory=list)


def procedures_by_department(
    result: dict[str, Any], navigator_input: dict[str, Any], catalogue: Catalogue
) -> list[DepartmentGroup]:
    """The navigator's procedures in the catalogue's department order; display names from
    the catalogue. One entry per procedure: the persons with the same deadline and reason
    are listed together (``person_labels``: 「1人目」, 「2人目」; 「世帯」 for a household-level
    procedure), ``due_date`` is a date or None."""
    order = {p["id"]: i for i, p in enumerate(navigator_input.get("persons", []))}
    groups: dict[str, DepartmentGroup] = {}
    merged: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for procedure in result["procedures"]:
        code = procedure["department"]
        group = groups.get(code)
        if group is None:
            group = groups[code] = DepartmentGroup(code, catalogue.departments.get(code, code))
        label = person_label(procedure["person"], order)
        key = (procedure["code"], procedure["due"], procedure["reason"])
        if key in merged:
            merged[key]["persons"].append(procedure["person"])
            merged[key]["person_labels"].append(label)
            continue
        due = procedure["due"]
        entry = {
            **procedure,
            "persons": [procedure["person"]],
            "person_labels": [label],
            "due_date": datetime.date.fromisoformat(due) if due else None,
        }
        merged[key] = entry
        group.procedures.append(entry)
    return list(groups.values())


# --- which questions matter ---------------------------------------------------------------

#: Always asked: what the navigator needs (birth date, insurance), who the event is
#: about, and what the counter needs anyway (householder, nationality).
ALWAYS_ASKED = frozenset({"subject", "birth_date", "insurance", "householder", "nationality"})


def relevant_questions(catalogue: Catalogue, event: str) -> tuple[frozenset[str], list[str]]:
    """The person fields and the answers the catalogue's rules for ``event`` read.

    A field counts when a condition names it (``person.care_certified``,
    ``s.householder``), so a question the rules never read is not asked (its answer
    would change nothing). The child-allowance claimant is the recipient, else the
    householder: a rule about the claimant makes both questions count.
    """
    fields = set(ALWAYS_ASKED)
    answers: list[str] = []
    for rule in catalogue.rules.get(event, ()):
        text = rule.condition
        for name in (*PERSON_BOOLEANS, "pension"):
            if re.search(rf"\b{name}\b", text):
                fields.add(name)
        if rule.applies_to == "claimant" or re.search(r"\bclaimant\b", text):
            fields.update({"householder", "child_allowance_recipient"})
        if rule.applies_to == "custodial_parent":
            fields.add("custodial_parent")
        for match in _ANSWER.finditer(text):
            key = match[1] or match[2]
            if key not in answers:
                answers.append(key)
    return frozenset(fields), answers

"""Step 4, 手続き一覧: the navigator on the draft (built exactly as the service builds
it), by department with reasons and deadlines; problems listed with their step and
field."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.counter.documents.forms import filer_text
from machi.counter.forms_intake import ANSWER_QUESTIONS, NOTIFIER_AGENT, PERSON_QUESTIONS
from machi.counter.services.intake import DONE_AT_COUNTER, IntakeError, life_event_preview
from machi.counter.views.intake._shared import (
    STEP_LABELS,
    _base,
    _people,
    _render,
    intake_data,
    register_step,
)
from machi.procedures.selectors import catalogue_effective

NEW_PERSON_FIELDS = ("name", "kana", "sex", "birth_date", "relationship", "nationality",
                     "nationality_name", "atena_number", "id")  # fmt: skip
FIELD_LABELS = {
    "date": gettext_lazy("異動日"),
    "subjects": gettext_lazy("対象者"),
    "name": gettext_lazy("氏名"),
    "kana": gettext_lazy("フリガナ"),
    "sex": gettext_lazy("性別"),
    "birth_date": gettext_lazy("生年月日"),
    "relationship": gettext_lazy("続柄"),
    "nationality": gettext_lazy("国籍"),
    "insurance": gettext_lazy("健康保険"),
    "pension": gettext_lazy("国民年金"),
    "address": gettext_lazy("新しい住所"),
    "destination": gettext_lazy("転出先"),
    "household_number": gettext_lazy("世帯番号"),
    "postal_code": gettext_lazy("郵便番号"),
    "prefecture": gettext_lazy("都道府県"),
    "city": gettext_lazy("市区町村"),
    "machiaza": gettext_lazy("町字"),
    **PERSON_QUESTIONS,
    **ANSWER_QUESTIONS,
}
_ERROR = re.compile(
    r"^(?P<where>event|persons|address|destination|household_number|answers|previous_address"
    r"|notifier)"
    r"(?:\[(?P<index>\d+)\])?(?:\.(?P<field>\w+))?(?:\[\d+\])?: (?P<text>.*)$",
    re.S,
)


def intake_preview(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The navigator input and the procedures ``life_event_confirm`` would produce
    (nothing is written). Raises IntakeError naming every problem."""
    return life_event_preview(data=data)


# --- problems: which step and field -----------------------------------------------------------


def _problems(draft: dict[str, Any], messages: list[str], base: str) -> list[dict[str, str]]:
    """Each message of the service or the navigator as {step, where, text, href}."""
    people = _people(draft)
    rows = []
    for message in messages:
        match = _ERROR.match(message)
        step, where, anchor = "persons", "", ""
        text = message
        if match is not None:
            text = match["text"]
            name = match["field"] or ""
            kind = match["where"]
            if kind == "event":
                step = "event" if name in ("date", "type") else "persons"
                anchor = "id_date" if name == "date" else "intake-subjects"
                where = FIELD_LABELS.get(name, name)
            elif kind == "persons" and match["index"] is not None:
                index = int(match["index"])
                person = people[index] if index < len(people) else None
                label = person["label"] if person else f"{index + 1}人目"
                key = person["key"] if person else ""
                where = f"{label} {FIELD_LABELS.get(name, name)}".strip()
                if name in NEW_PERSON_FIELDS:
                    anchor = f"id_{key}-{name}" if person and person["newcomer"] else ""
                else:
                    step = "questions"
                    anchor = f"id_q-{key}-{name}"
            else:
                step = "questions"
                where = FIELD_LABELS.get(name or kind, name or kind)
                if kind == "address":
                    anchor = f"id_address-{name or 'machiaza'}"
                elif kind in ("destination", "household_number"):
                    anchor = f"id_{kind}"
                elif kind == "answers":
                    anchor = f"id_answers-{name}"
                elif kind == "notifier":
                    where = _("届出人")
                    anchor = "id_notifier-who_0"
        href = f"{base}?step={step}" + (f"#{anchor}" if anchor else "")
        rows.append(
            {"step": STEP_LABELS[step], "step_code": step, "where": where, "text": text,
             "href": href}
        )  # fmt: skip
    return rows


def _preview_context(
    request: HttpRequest, draft: dict[str, Any], problems: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    data = intake_data(draft)
    groups: list[dict[str, Any]] = []
    count = 0
    if problems is None:
        try:
            _navigator_input, procedures = intake_preview(data)
        except IntakeError as error:
            problems = error.errors
        else:
            problems = []
            departments = catalogue_effective().catalogue.departments
            labels = {f"p{i + 1}": p["label"] for i, p in enumerate(_people(draft))}
            done = _done_at_counter(data)
            by_code: dict[str, dict[str, Any]] = {}
            for procedure in procedures:
                code = procedure["department"]
                if code not in by_code:
                    by_code[code] = {"code": code, "name": departments.get(code, code), "rows": []}
                    groups.append(by_code[code])
                by_code[code]["rows"].append(
                    {**procedure,
                     "person_label": labels.get(procedure["person"], "世帯")
                     if procedure["person"] else "世帯",
                     "filer_label": filer_text(
                         procedure["code"], procedure.get("filer") or "",
                         labels.get(procedure.get("filer") or "", ""),
                     ),
                     "done_at_counter": (procedure["code"], procedure["person"]) in done}
                )  # fmt: skip
            count = len(procedures)
    people = _people(draft)
    return {
        "groups": groups,
        "count": count,
        "notifier_text": _notifier_text(draft),
        "problems": _problems(draft, problems, _base(request)),
        "errors": [],
        "people": people,
        # joined in the view: a template loop that skips the others left a trailing 、
        # when the subject was not the last of the household (丸山 太郎、)
        "subject_labels": [p["label"] for p in people if p["subject"]],
        **extra,
    }


def _done_at_counter(data: dict[str, Any]) -> set[tuple[str, str]]:
    """(code, person) of the procedures that confirming carries out (the registry
    change); a marriage or divorce changes the record only of those whose name changes."""
    event = data["event"]
    code = DONE_AT_COUNTER.get(event["type"])
    by_id = {p["id"]: p for p in data["persons"]}
    return {
        (code, pid)
        for pid in event["subjects"]
        if event["type"] not in ("marriage", "divorce") or by_id.get(pid, {}).get("new_name")
    }


def _notifier_text(draft: dict[str, Any]) -> str:
    notifier = draft.get("notifier") or {}
    who = notifier.get("who")
    if who == NOTIFIER_AGENT:
        return _("代理人 %(name)s（%(relationship)s）") % {
            "name": notifier.get("agent_name", ""),
            "relationship": notifier.get("agent_relationship", ""),
        }
    label = next((p["label"] for p in _people(draft) if p["key"] == who), "")
    return label


def _post_preview(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    return _render(request, draft, "preview")


register_step("preview", context=_preview_context, post=_post_preview)

"""What the intake's steps share: who may use it, the draft in the session, the
service input built from it, the error summary and the step page around each step.

Each step module registers its context builder and its POST handler with
:func:`register_step`; :func:`_render` and the two page views dispatch through them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.counter import selectors
from machi.counter.forms_intake import (
    AGENT_RELATIONSHIP_SUGGESTIONS,
    NOTIFIER_AGENT,
    ON_RESIDENTS,
    RELATIONSHIP_SUGGESTIONS,
)
from machi.counter.models.tickets import AT_WINDOW
from machi.counter.services.intake import NOTIFIER_AGENT_FIELDS
from machi.japanese import DateParseError, JapaneseDate, parse_date
from machi.procedures.engine import EVENT_LABELS

SESSION_KEY = "counter_intake"
RECORDS_DEPARTMENT = "shimin"
STEPS = ("event", "persons", "questions", "preview")
STEP_LABELS = {
    "event": gettext_lazy("届出の種類"),
    "persons": gettext_lazy("人"),
    "questions": gettext_lazy("確認事項"),
    "preview": gettext_lazy("手続き一覧"),
}


# --- who may use it ------------------------------------------------------------------------


def staff_may_intake(staff: Any) -> bool:
    """Counter clerks and supervisors, and the resident-records department's staff."""
    if not getattr(staff, "is_authenticated", False) or staff.is_platform_operator:
        return False
    if staff.has_role(Role.COUNTER_CLERK, Role.SUPERVISOR):
        return True
    return any(
        m.role == Role.DEPARTMENT_STAFF and m.department.code == RECORDS_DEPARTMENT
        for m in staff.memberships.select_related("department")
    )


def intake_role_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not staff_may_intake(request.user):
            raise PermissionDenied(_("この画面を使う役割がありません。"))
        return view(request, *args, **kwargs)

    return wrapper


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal.from_request(request)


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# --- the draft -------------------------------------------------------------------------------


def _new_draft(ticket: int | None = None) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "event": "",
        "date": "",
        "preapplication": "",
        "preapplication_input": None,
        "household": "",
        "members": [],
        "subjects": [],
        "newcomers": [],
        "person_answers": {},
        "answers": {},
        "address": {},
        "previous_address": "",
        "from_abroad": False,
        "to_abroad": False,
        "destination": "",
        "household_number": "",
        "notifier": {},
        "done": [],
    }


def _draft(request: HttpRequest) -> dict[str, Any]:
    draft = request.session.get(SESSION_KEY)
    return draft if isinstance(draft, dict) else _new_draft()


def _save(request: HttpRequest, draft: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = draft


def _mark_done(draft: dict[str, Any], step: str) -> None:
    index = STEPS.index(step)
    draft["done"] = [s for s in STEPS[: index + 1]]


def _reachable(draft: dict[str, Any], step: str) -> bool:
    index = STEPS.index(step)
    return index == 0 or STEPS[index - 1] in draft.get("done", [])


def _members_shown(draft: dict[str, Any]) -> bool:
    return draft["event"] in ON_RESIDENTS


def _newcomers_shown(draft: dict[str, Any]) -> bool:
    return draft["event"] in ("move_in", "birth")


def _people(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """Everyone concerned, in the order of the service input: (key, label, is_subject,
    member snapshot or newcomer data)."""
    people = []
    if _members_shown(draft):
        for member in draft["members"]:
            key = member["atena_number"]
            people.append(
                {"key": key, "label": member["name"], "subject": key in draft["subjects"],
                 "member": member, "newcomer": None}
            )  # fmt: skip
    if _newcomers_shown(draft):
        for index, newcomer in enumerate(draft["newcomers"]):
            people.append(
                {"key": f"n{index}", "label": newcomer.get("name") or f"{index + 1}人目",
                 "subject": True, "member": None, "newcomer": newcomer}
            )  # fmt: skip
    return people


def intake_data(draft: dict[str, Any]) -> dict[str, Any]:
    """The service's input (``life_event_confirm(data=…)``) for the draft."""
    persons: list[dict[str, Any]] = []
    subjects: list[str] = []
    pids: dict[str, str] = {}
    for person in _people(draft):
        pid = f"p{len(persons) + 1}"
        pids[person["key"]] = pid
        entry: dict[str, Any] = {"id": pid}
        if person["member"] is not None:
            entry["atena_number"] = person["key"]
        else:
            newcomer = person["newcomer"]
            foreign = newcomer.get("nationality") == "other"
            entry.update(
                name=newcomer.get("name", ""),
                kana=newcomer.get("kana", ""),
                sex=newcomer.get("sex", ""),
                birth_date=newcomer.get("birth_date", ""),
                relationship=newcomer.get("relationship", ""),
                nationality="other" if foreign else "JP",
            )
            if foreign:
                entry["nationality_name"] = newcomer.get("nationality_name", "")
        answers = draft["person_answers"].get(person["key"], {})
        for name, value in answers.items():
            if name == "pension":
                entry["pension"] = value or None
            elif name in ("new_name", "new_kana", "former_surname"):
                if value and answers.get("name_changes"):
                    entry[name] = value
            elif name == "relationship":
                if value:
                    entry["relationship"] = value
            else:
                entry[name] = value
        persons.append(entry)
        if person["subject"]:
            subjects.append(pid)
    event_type = draft["event"]
    data: dict[str, Any] = {
        "event": {
            "type": event_type,
            "date": draft["date"],
            "subjects": subjects,
            "from_abroad": bool(draft["from_abroad"]) and event_type == "move_in",
            "to_abroad": bool(draft["to_abroad"]) and event_type == "move_out",
        },
        "persons": persons,
        # an answer naming a person (喪主: answers.funeral_host) holds the person's key
        "answers": {
            k: pids.get(v, v) if isinstance(v, str) else v for k, v in draft["answers"].items()
        },
    }
    if event_type in ("move_in", "move_within"):
        data["address"] = dict(draft["address"])
    if event_type == "move_in" and draft["previous_address"]:
        data["previous_address"] = draft["previous_address"]
    if event_type == "move_out":
        data["destination"] = draft["destination"]
        if draft.get("destination_lg_code"):  # 引越しワンストップ (machi.moves)
            data["destination_lg_code"] = draft["destination_lg_code"]
            data["consent"] = bool(draft.get("consent"))
    if event_type == "household_change" and draft["household_number"]:
        data["household_number"] = draft["household_number"]
    if event_type == "move_in" and draft.get("reservation"):  # 転入予約 (machi.moves)
        data["reservation"] = draft["reservation"]
    notifier = draft.get("notifier") or {}
    if notifier.get("who") == NOTIFIER_AGENT:
        data["notifier"] = {
            "kind": "agent",
            **{name: notifier.get(f"agent_{name}", "") for name in NOTIFIER_AGENT_FIELDS},
        }
    elif notifier.get("who") in pids:
        data["notifier"] = {"kind": "member", "person": pids[notifier["who"]]}
    return data


def _notifier_choices(draft: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, label) of the persons who may be the 届出人: not the newborn nor the
    deceased."""
    event = draft["event"]
    choices = []
    for person in _people(draft):
        if event in ("birth", "death") and person["subject"]:
            continue
        data = person["member"] or person["newcomer"] or {}
        relationship = data.get("relationship", "")
        label = f"{person['label']}（{relationship}）" if relationship else person["label"]
        choices.append((person["key"], label))
    return choices


# --- the error summary --------------------------------------------------------------------------


def _mark_errors(form: forms.Form) -> None:
    """Point each control with an error at its message (aria-describedby)."""
    for name, field in form.fields.items():
        if name in form.errors:
            bound = form[name]
            described = [f"{bound.auto_id}_feedback"]
            if field.help_text:
                described.append(f"{bound.auto_id}_helptext")
            field.widget.attrs["aria-describedby"] = " ".join(described)
            field.widget.attrs["aria-invalid"] = "true"


def _summary(forms_: list[tuple[str, forms.Form]]) -> list[dict[str, str]]:
    """(label, bound form) pairs → the error summary's rows, linking to each field."""
    rows = []
    for label, form in forms_:
        if not form.is_bound:
            continue
        _mark_errors(form)
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            anchor = form[name].auto_id if field is not None else ""
            if field is not None and isinstance(field.widget, forms.RadioSelect):
                anchor += "_0"
            where = " ".join(p for p in (label, str(field.label) if field else "") if p)
            rows.extend(
                {"where": where, "text": str(text), "href": f"#{anchor}" if anchor else ""}
                for text in errors
            )
    return rows


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    #: (request, draft, **extra) → the step's context (its own autofocus included)
    context: Callable[..., dict[str, Any]]
    #: (request, draft) → the response to the step's form
    post: Callable[[HttpRequest, dict[str, Any]], HttpResponse]


_STEPS: dict[str, Step] = {}


def register_step(code: str, *, context: Callable[..., dict[str, Any]],
                  post: Callable[[HttpRequest, dict[str, Any]], HttpResponse]) -> None:  # fmt: skip
    _STEPS[code] = Step(context=context, post=post)


def _base(request: HttpRequest) -> str:
    return reverse("counter:intake", args=[request.municipality.lg_code])


def _draft_day(draft: dict[str, Any]) -> JapaneseDate | None:
    """The draft's 異動日 read back for display (``jdate``); ``None`` while it is not a date
    (the step that takes it says why), so the text as typed is never shown as a date."""
    try:
        return parse_date(draft.get("date") or "")
    except DateParseError:
        return None


def _ticket(draft: dict[str, Any]) -> Any:
    return selectors.ticket_get(pk=draft["ticket"]) if draft.get("ticket") else None


def _render(
    request: HttpRequest, draft: dict[str, Any], step: str, status: int = 200, **context: Any
) -> HttpResponse:
    context = {**_STEPS[step].context(request, draft, **context)}
    steps = [
        {"code": code, "label": STEP_LABELS[code], "number": n,
         "current": code == step, "reachable": _reachable(draft, code),
         "done": code in draft.get("done", [])}
        for n, code in enumerate(STEPS, start=1)
    ]  # fmt: skip
    context.update(
        step=step,
        steps=steps,
        draft=draft,
        event_label=EVENT_LABELS.get(draft["event"], ""),
        event_day=_draft_day(draft),
        ticket=_ticket(draft),
        intake_url=_base(request),
        step_template=f"counter/intake_step_{step}.html",
    )
    if _partial(request):
        return render(request, "counter/intake_body.html", context)
    context["relationships"] = RELATIONSHIP_SUGGESTIONS
    context["agent_relationships"] = AGENT_RELATIONSHIP_SUGGESTIONS
    if status == 200 and context.get("errors"):
        status = 400
    return render(request, "counter/intake.html", context, status=status)


def _focus(form: forms.Form, name: str) -> None:
    form.fields[name].widget.attrs["autofocus"] = True


# --- the page ----------------------------------------------------------------------------------


@require_GET
@never_cache
@intake_role_required
def intake(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The intake page: the current step of the draft (``?step=`` to go back)."""
    draft = _draft(request)
    if (ticket_pk := request.GET.get("ticket", "")).isdigit():
        ticket = selectors.ticket_get(pk=int(ticket_pk))
        if ticket is None or ticket.status not in AT_WINDOW:
            raise Http404(_("呼出中または対応中の整理券が見つかりません。"))
        if draft.get("ticket") != ticket.pk:
            draft = _new_draft(ticket=ticket.pk)
            _save(request, draft)
    step = request.GET.get("step", "")
    if step not in STEPS or not _reachable(draft, step):
        done = draft.get("done", [])
        step = STEPS[min(len(done), len(STEPS) - 1)]
    return _render(request, draft, step)


@require_http_methods(["GET", "POST"])
@never_cache
@intake_role_required
def intake_step(request: HttpRequest, lg_code: str, step: str) -> HttpResponse:
    """GET: show a step (htmx: the section); POST: answer it and go on."""
    if step not in STEPS:
        raise Http404
    draft = _draft(request)
    if not _reachable(draft, step):
        return _render(request, draft, "event")
    if request.method == "GET":
        return _render(request, draft, step)
    return _STEPS[step].post(request, draft)

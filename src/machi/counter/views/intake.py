"""The life-event intake screen (総合窓口の受付, htmx): from a called ticket to the
printed summary in one page.

``/<lg>/counter/intake/`` shows one step at a time; each step is a form whose answer
(htmx) is the next step, swapped into ``#intake``. Without htmx the same views answer
the whole page. The steps:

1. 届出 — the event, its date (和暦 or 西暦) and optionally a resident's
   pre-application code, whose answers are loaded into the draft;
2. 人 — the household from a live registry search (events on residents; 「この世帯を
   選ぶ」 loads the residents, checkboxes say whom the event is about) and/or the
   newcomers (転入: repeatable blocks; 出生: the newborn);
3. 確認事項 — what the registry cannot know (insurance, pension and the yes/no
   questions the catalogue reads, prefilled from the registry where it knows), the
   household's answers, the new address (postal-code lookup), 転出先…;
4. 手続き一覧 — the navigator on the draft (built exactly as the service builds it),
   by department with reasons and deadlines; problems listed with their step and field;
5. 確定 — ``life_event_confirm`` (one transaction) and the result page: the visit
   code, the public status page, the tasks, the documents and 「番号札を完了にする」.

The draft lives in the session under :data:`SESSION_KEY` (a JSON dict; cleared on
confirm and cancel). Registry reads go through the audited selectors.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.counter import selectors, services
from machi.counter.forms_intake import (
    ANSWER_QUESTIONS,
    ON_RESIDENTS,
    PERSON_QUESTIONS,
    RELATIONSHIP_SUGGESTIONS,
    AddressForm,
    AnswersForm,
    EventForm,
    HouseholdChangeForm,
    MoveOutForm,
    NewcomerForm,
    PersonQuestionsForm,
    SearchForm,
)
from machi.counter.models.tickets import AT_WINDOW, TicketStatus
from machi.counter.selectors.preapplications import relevant_questions
from machi.counter.services.intake import IntakeError, life_event_confirm, life_event_preview
from machi.japanese import DateParseError, PostalCodeError, format_wareki, parse_date, postal_lookup
from machi.procedures.engine import EVENT_LABELS, NavigatorInputError
from machi.procedures.selectors import catalogue_effective
from machi.registry import selectors as registry
from machi.registry.models import Status

SESSION_KEY = "counter_intake"
RECORDS_DEPARTMENT = "shimin"
STEPS = ("event", "persons", "questions", "preview")
STEP_LABELS = {
    "event": _lazy("届出の種類"),
    "persons": _lazy("人"),
    "questions": _lazy("確認事項"),
    "preview": _lazy("手続き一覧"),
}
MAX_NEWCOMERS = 10
SEARCH_LIMIT = 20
SUBJECT_LEGEND = {
    "move_out": _lazy("転出する人"),
    "move_within": _lazy("転居する人"),
    "death": _lazy("亡くなった人"),
    "marriage": _lazy("婚姻する人"),
    "divorce": _lazy("離婚する人"),
    "household_change": _lazy("世帯が変わる人"),
}
NEW_PERSON_FIELDS = ("name", "kana", "sex", "birth_date", "relationship", "nationality",
                     "nationality_name", "atena_number", "id")  # fmt: skip
FIELD_LABELS = {
    "date": _lazy("異動日"),
    "subjects": _lazy("対象者"),
    "name": _lazy("氏名"),
    "kana": _lazy("フリガナ"),
    "sex": _lazy("性別"),
    "birth_date": _lazy("生年月日"),
    "relationship": _lazy("続柄"),
    "nationality": _lazy("国籍"),
    "insurance": _lazy("健康保険"),
    "pension": _lazy("国民年金"),
    "address": _lazy("新しい住所"),
    "destination": _lazy("転出先"),
    "household_number": _lazy("世帯番号"),
    "postal_code": _lazy("郵便番号"),
    "prefecture": _lazy("都道府県"),
    "city": _lazy("市区町村"),
    "machiaza": _lazy("町字"),
    **PERSON_QUESTIONS,
    **ANSWER_QUESTIONS,
}
_ERROR = re.compile(
    r"^(?P<where>event|persons|address|destination|household_number|answers|previous_address)"
    r"(?:\[(?P<index>\d+)\])?(?:\.(?P<field>\w+))?(?:\[\d+\])?: (?P<text>.*)$",
    re.S,
)


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
    for person in _people(draft):
        pid = f"p{len(persons) + 1}"
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
        "answers": dict(draft["answers"]),
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
    return data


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
        href = f"{base}?step={step}" + (f"#{anchor}" if anchor else "")
        rows.append(
            {"step": STEP_LABELS[step], "step_code": step, "where": where, "text": text,
             "href": href}
        )  # fmt: skip
    return rows


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


def _base(request: HttpRequest) -> str:
    return reverse("counter:intake", args=[request.municipality.lg_code])


def _ticket(draft: dict[str, Any]) -> Any:
    return selectors.ticket_get(pk=draft["ticket"]) if draft.get("ticket") else None


def _render(
    request: HttpRequest, draft: dict[str, Any], step: str, status: int = 200, **context: Any
) -> HttpResponse:
    builder = {
        "event": _event_context,
        "persons": _persons_context,
        "questions": _questions_context,
        "preview": _preview_context,
    }[step]
    context = {**builder(request, draft, **context)}
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
        ticket=_ticket(draft),
        intake_url=_base(request),
        step_template=f"counter/intake_step_{step}.html",
    )
    _autofocus(step, context)
    if _partial(request):
        return render(request, "counter/intake_body.html", context)
    context["relationships"] = RELATIONSHIP_SUGGESTIONS
    if status == 200 and context.get("errors"):
        status = 400
    return render(request, "counter/intake.html", context, status=status)


def _autofocus(step: str, context: dict[str, Any]) -> None:
    """Keyboard first: the step's first control takes the focus (the error summary does
    when there are errors; the preview's heading on step 4)."""
    if context.get("errors") or step == "preview":
        return

    def focus(form: forms.Form, name: str) -> None:
        form.fields[name].widget.attrs["autofocus"] = True

    if step == "event":
        focus(context["form"], "event")
    elif step == "persons":
        newcomers = context["newcomers"] if context["newcomers_shown"] else []
        if context["is_birth"] and newcomers:
            focus(newcomers[0], "name")
        elif context["members_shown"] and context["draft"]["household"]:
            if not context.get("focus") and not newcomers:
                context["focus"] = "intake-subjects-first"
            elif newcomers and context.get("focus") != "intake-subjects-first":
                focus(newcomers[0], "name")
        elif context["members_shown"]:
            focus(context["search_form"], "q")
        elif newcomers:
            added = str(context.get("focus", "")).startswith("id_n")
            focus(newcomers[-1] if added else newcomers[0], "name")
    elif step == "questions" and context["persons"]:
        focus(context["persons"][0]["form"], "insurance")


def _event_context(
    request: HttpRequest, draft: dict[str, Any], form: EventForm | None = None, **extra: Any
) -> dict[str, Any]:
    if form is None:
        form = EventForm(
            initial={"event": draft["event"], "date": draft["date"],
                     "preapplication": draft["preapplication"]}
        )  # fmt: skip
    errors = _summary([("", form)])
    return {"form": form, "errors": errors, **extra}


def _newcomer_forms(draft: dict[str, Any], data: Any = None) -> list[NewcomerForm]:
    if data is not None:
        count = _count(data)
        return [NewcomerForm(data, prefix=f"n{i}") for i in range(count)]
    newcomers = draft["newcomers"] or [_newcomer_initial(draft)]
    return [NewcomerForm(prefix=f"n{i}", initial=n) for i, n in enumerate(newcomers)]


def _newcomer_initial(draft: dict[str, Any]) -> dict[str, str]:
    if draft["event"] == "birth":
        return {"birth_date": draft["date"], "relationship": "子", "nationality": "JP"}
    return {"nationality": "JP", "relationship": "" if draft["newcomers"] else "世帯主"}


def _count(data: Any) -> int:
    try:
        return min(max(int(data.get("count", "1")), 1), MAX_NEWCOMERS)
    except (TypeError, ValueError):
        return 1


def _persons_context(
    request: HttpRequest,
    draft: dict[str, Any],
    newcomers: list[NewcomerForm] | None = None,
    subjects_error: str = "",
    notice: str = "",
    **extra: Any,
) -> dict[str, Any]:
    event = draft["event"]
    context: dict[str, Any] = {
        "search_form": SearchForm(),
        "members_shown": _members_shown(draft),
        "newcomers_shown": _newcomers_shown(draft)
        and (event == "move_in" or bool(draft["household"])),
        "subject_legend": SUBJECT_LEGEND.get(event, ""),
        "subjects_error": subjects_error,
        "notice": notice,
        "single_subject": event == "death",
        "is_birth": event == "birth",
        **extra,
    }
    forms_ = newcomers if newcomers is not None else _newcomer_forms(draft)
    context["newcomers"] = forms_
    context["max_newcomers"] = MAX_NEWCOMERS
    errors = _summary([(f"{i + 1}人目", form) for i, form in enumerate(forms_)])
    if subjects_error:
        errors.insert(0, {"where": "対象者", "text": subjects_error, "href": "#intake-subjects"})
    context["errors"] = errors + extra.get("more_errors", [])
    return context


def _question_forms(
    request: HttpRequest, draft: dict[str, Any], data: Any = None
) -> dict[str, Any]:
    """Step 3's forms: one per person, the household's answers, the event's own."""
    event = draft["event"]
    catalogue = catalogue_effective().catalogue
    fields, answer_keys = relevant_questions(catalogue, event)
    questions = set(fields)
    if event in ("marriage", "divorce"):
        questions.add("name_changes")
    if event == "divorce":
        questions.add("custodial_parent")
    persons = []
    for person in _people(draft):
        key = person["key"]
        saved = draft["person_answers"].get(key)
        member = person["member"]
        if saved is not None:
            initial = dict(saved)
        elif member is not None:
            initial = {
                "insurance": member["insurance"],
                "pension": member["pension"],
                "child_allowance_recipient": member["child_allowance"],
            }
        else:
            initial = {}
        form = PersonQuestionsForm(
            data,
            prefix=f"q-{key}",
            initial=initial,
            questions=questions,
            name_fields=event in ("marriage", "divorce") and person["subject"],
            relationship=event == "household_change",
        )
        persons.append({"form": form, "person": person, "prefilled": member is not None})
    municipality = request.municipality
    result: dict[str, Any] = {
        "persons": persons,
        "answers_form": AnswersForm(
            data, prefix="answers", keys=answer_keys, initial=draft["answers"]
        ),
        "address_form": None,
        "move_out_form": None,
        "household_form": None,
    }
    if event in ("move_in", "move_within"):
        initial = dict(draft["address"]) or {
            "prefecture": municipality.prefecture,
            "city": municipality.name,
        }
        initial.update(previous_address=draft["previous_address"], from_abroad=draft["from_abroad"])
        result["address_form"] = AddressForm(
            data, prefix="address", initial=initial, move_in=event == "move_in"
        )
    if event == "move_out":
        result["move_out_form"] = MoveOutForm(
            data,
            initial={
                "destination": draft["destination"],
                "to_abroad": draft["to_abroad"],
                "destination_lg_code": draft.get("destination_lg_code", ""),
                "consent": draft.get("consent", False),
            },
        )
    if event == "household_change":
        result["household_form"] = HouseholdChangeForm(
            data, initial={"household_number": draft["household_number"]}
        )
    return result


def _questions_context(
    request: HttpRequest,
    draft: dict[str, Any],
    bundle: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    bundle = bundle or _question_forms(request, draft)
    labelled: list[tuple[str, forms.Form]] = [
        (p["person"]["label"], p["form"]) for p in bundle["persons"]
    ]
    for key, label in (
        ("answers_form", "世帯"),
        ("address_form", "新しい住所"),
        ("move_out_form", ""),
        ("household_form", ""),
    ):
        if bundle[key] is not None:
            labelled.append((label, bundle[key]))
    return {**bundle, "errors": _summary(labelled), **extra}


def _due_text(value: str | None) -> str:
    if not value:
        return ""
    day = datetime.date.fromisoformat(value)
    return f"{format_wareki(day)}（{day.isoformat()}）"


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
                     "due_text": _due_text(procedure["due"])}
                )  # fmt: skip
            count = len(procedures)
    people = _people(draft)
    date_text = ""
    try:
        parsed = parse_date(draft["date"])
        if parsed.approx:
            date_text = f"{format_wareki(parsed.approx)}（{parsed.approx.isoformat()}）"
    except DateParseError:
        date_text = draft["date"]
    return {
        "groups": groups,
        "count": count,
        "problems": _problems(draft, problems, _base(request)),
        "errors": [],
        "people": people,
        "date_text": date_text,
        **extra,
    }


# --- views ------------------------------------------------------------------------------------


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
    return {
        "event": _post_event,
        "persons": _post_persons,
        "questions": _post_questions,
        "preview": lambda r, d: _render(r, d, "preview"),
    }[step](request, draft)


def _post_event(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    form = EventForm(request.POST)
    if not form.is_valid():
        return _render(request, draft, "event", form=form)
    data = form.cleaned_data
    event, date = data["event"], data["date"]
    preapplication_input = None
    code = data.get("preapplication", "").strip()
    if code:
        found = selectors.preapplication_get(code=code)
        if found is None:
            form.add_error(
                "preapplication", _("この番号の事前申請はありません（有効期限切れを含む）。")
            )
            return _render(request, draft, "event", form=form)
        preapplication_input = found.navigator_input
        event = event or preapplication_input["event"]["type"]
        date = date or preapplication_input["event"]["date"]
        code = found.code
    if event != draft["event"] or code != draft["preapplication"]:
        fresh = _new_draft(ticket=draft.get("ticket"))
        if event == draft["event"]:  # keep the household and the newcomers already entered
            for key in ("household", "members", "subjects", "newcomers"):
                fresh[key] = draft[key]
        draft = fresh
    draft.update(event=event, date=date, preapplication=code)
    draft["preapplication_input"] = preapplication_input
    if preapplication_input is not None:
        _load_preapplication(draft, preapplication_input)
    _mark_done(draft, "event")
    ticket = _ticket(draft)
    if ticket is not None and ticket.status == TicketStatus.CALLED:
        with contextlib.suppress(services.TicketError):  # shown as it is on the page
            services.ticket_start(ticket=ticket, actor=request.user, terminal=_terminal(request))
    _save(request, draft)
    notice = _("事前申請 %(code)s の回答を読み込みました。") % {"code": code} if code else ""
    return _render(request, draft, "persons", notice=notice)


_BOOLEANS = tuple(PERSON_QUESTIONS)


def _answers_of(person: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "insurance": person.get("insurance") or "",
        "pension": person.get("pension") or "",
    }
    answers.update({name: bool(person.get(name)) for name in _BOOLEANS})
    return answers


def _load_preapplication(draft: dict[str, Any], navigator_input: dict[str, Any]) -> None:
    """The pre-application's answers into the draft: the household's answers and
    abroad flags now; the persons' answers for newcomers now (転入: one block per
    subject), for residents when the household is chosen (matched by birth date)."""
    event = navigator_input["event"]
    draft["answers"] = {k: bool(v) for k, v in navigator_input.get("answers", {}).items()}
    draft["from_abroad"] = bool(event.get("from_abroad"))
    draft["to_abroad"] = bool(event.get("to_abroad"))
    persons = navigator_input["persons"]
    subjects = set(event.get("subjects", []))
    if draft["event"] == "move_in":
        draft["newcomers"] = []
        for person in persons:
            if person["id"] not in subjects:
                continue
            index = len(draft["newcomers"])
            draft["newcomers"].append(
                {"birth_date": person["birth_date"],
                 "nationality": "JP" if person.get("nationality") in ("JP", "") else "other",
                 "relationship": "世帯主" if person.get("householder") else "",
                 "name": "", "kana": "", "sex": "", "nationality_name": ""}
            )  # fmt: skip
            draft["person_answers"][f"n{index}"] = _answers_of(person)
    elif draft["event"] == "birth":
        newborn = next((p for p in persons if p["id"] in subjects), None)
        if newborn is not None:
            draft["newcomers"] = [
                {"birth_date": newborn["birth_date"], "relationship": "子", "nationality": "JP",
                 "name": "", "kana": "", "sex": "", "nationality_name": ""}
            ]  # fmt: skip
            draft["person_answers"]["n0"] = _answers_of(newborn)


def _match_preapplication(draft: dict[str, Any]) -> None:
    """Residents of the chosen household ← the pre-application's persons, by birth date."""
    navigator_input = draft.get("preapplication_input")
    if not navigator_input:
        return
    subjects = set(navigator_input["event"].get("subjects", []))
    unmatched = [p for p in navigator_input["persons"]
                 if not (draft["event"] == "birth" and p["id"] in subjects)]  # fmt: skip
    chosen = []
    for member in draft["members"]:
        person = next((p for p in unmatched if p["birth_date"] == member["birth_iso"]), None)
        if person is None:
            continue
        unmatched.remove(person)
        draft["person_answers"][member["atena_number"]] = _answers_of(person)
        if person["id"] in subjects:
            chosen.append(member["atena_number"])
    if draft["event"] != "birth":
        draft["subjects"] = chosen


def _post_persons(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    action = request.POST.get("action", "next")
    more_errors: list[dict[str, str]] = []
    newcomer_forms: list[NewcomerForm] | None = None
    if _newcomers_shown(draft) and (draft["event"] == "move_in" or draft["household"]):
        count = _count(request.POST)
        if draft["event"] == "birth":
            count = 1
        raw = [
            {
                name: request.POST.get(f"n{i}-{name}", "").strip()
                for name in NewcomerForm.base_fields
            }
            for i in range(count)
        ]
        if action == "add" and count < MAX_NEWCOMERS:
            raw.append({"nationality": "JP", "relationship": ""})
        elif action.startswith("remove-") and action[7:].isdigit() and len(raw) > 1:
            raw.pop(int(action[7:]))
        if action != "next":
            # re-shown without errors, keeping what was typed; the answers follow the blocks
            old = draft["person_answers"]
            if action.startswith("remove-") and action[7:].isdigit():
                gone = int(action[7:])
                keys = [f"n{i}" for i in range(count) if i != gone]
                moved = {f"n{j}": old[k] for j, k in enumerate(keys) if k in old}
                draft["person_answers"] = {
                    k: v for k, v in old.items() if not k.startswith("n")
                } | moved
            draft["newcomers"] = raw
            draft["done"] = ["event"]
            _save(request, draft)
            forms_ = [NewcomerForm(prefix=f"n{i}", initial=r) for i, r in enumerate(raw)]
            focus = f"id_n{len(raw) - 1}-name" if action == "add" else ""
            return _render(request, draft, "persons", newcomers=forms_, focus=focus)
        data = request.POST.copy()
        data["count"] = str(count)
        newcomer_forms = [NewcomerForm(data, prefix=f"n{i}") for i in range(count)]
        draft["newcomers"] = raw
    subjects_error = ""
    if _members_shown(draft):
        if not draft["household"]:
            subjects_error = _("世帯を検索して選んでください。")
        elif draft["event"] != "birth":
            known = {m["atena_number"] for m in draft["members"]}
            chosen = [s for s in request.POST.getlist("subjects") if s in known]
            draft["subjects"] = chosen
            if not chosen:
                subjects_error = _("届出の対象になる人を選んでください。")
            elif draft["event"] == "death" and len(chosen) != 1:
                subjects_error = _("亡くなった人を1人だけ選んでください。")
    valid = not subjects_error and all(f.is_valid() for f in newcomer_forms or [])
    if not valid:
        draft["done"] = ["event"]
        _save(request, draft)
        return _render(
            request, draft, "persons", newcomers=newcomer_forms, subjects_error=subjects_error,
            more_errors=more_errors,
        )  # fmt: skip
    if newcomer_forms is not None:
        draft["newcomers"] = [
            {name: str(form.cleaned_data.get(name) or "") for name in NewcomerForm.base_fields}
            for form in newcomer_forms
        ]
    _mark_done(draft, "persons")
    _save(request, draft)
    return _render(request, draft, "questions")


def _post_questions(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    bundle = _question_forms(request, draft, request.POST)
    forms_ = [p["form"] for p in bundle["persons"]] + [
        bundle[k]
        for k in ("answers_form", "address_form", "move_out_form", "household_form")
        if bundle[k] is not None
    ]
    if not all([form.is_valid() for form in forms_]):
        draft["done"] = ["event", "persons"]
        _save(request, draft)
        return _render(request, draft, "questions", bundle=bundle)
    for entry in bundle["persons"]:
        draft["person_answers"][entry["person"]["key"]] = {
            name: value for name, value in entry["form"].cleaned_data.items()
        }
    draft["answers"] = dict(bundle["answers_form"].cleaned_data)
    if (form := bundle["address_form"]) is not None:
        draft["address"] = form.address()
        draft["previous_address"] = form.cleaned_data.get("previous_address", "").strip()
        draft["from_abroad"] = bool(form.cleaned_data.get("from_abroad"))
    if (form := bundle["move_out_form"]) is not None:
        draft["destination"] = form.cleaned_data["destination"].strip()
        draft["to_abroad"] = form.cleaned_data["to_abroad"]
        draft["destination_lg_code"] = form.cleaned_data["destination_lg_code"]
        draft["consent"] = form.cleaned_data["consent"]
    if (form := bundle["household_form"]) is not None:
        draft["household_number"] = form.cleaned_data["household_number"].strip()
    _mark_done(draft, "questions")
    _save(request, draft)
    return _render(request, draft, "preview")


@require_GET
@never_cache
@intake_role_required
def intake_search(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The live registry search of step 2 (residents only); one audit entry per search."""
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "searched": False, "hits": []}
    if form.is_bound and form.is_valid():
        q, birth = form.cleaned_data["q"].strip(), form.cleaned_data["birth"].strip()
        if q or birth:
            try:
                result = registry.resident_search(
                    query=q, birth=birth, statuses=(Status.RESIDENT,), limit=SEARCH_LIMIT
                )
            except registry.SearchError as error:
                context["error"] = str(error)
            else:
                registry.search_audit(
                    actor=request.user,
                    terminal=_terminal(request),
                    function="counter:intake",
                    terms={"q": q, "birth": birth},
                    hits=result.total,
                )
                context.update(searched=True, result=result, hits=result.hits)
    return render(request, "counter/intake_results.html", context)


@require_POST
@never_cache
@intake_role_required
def intake_household(request: HttpRequest, lg_code: str) -> HttpResponse:
    """「この世帯を選ぶ」: the household's residents into the draft (an audited read)."""
    draft = _draft(request)
    if not _reachable(draft, "persons") or not _members_shown(draft):
        return _render(request, draft, "event")
    household = registry.household_get(
        household_number=request.POST.get("household", "").strip(),
        actor=request.user,
        terminal=_terminal(request),
        function="counter:intake",
    )
    if household is None:
        raise Http404(_("該当する世帯はありません。"))
    members = [
        m for m in registry.household_members(household=household) if m.status == Status.RESIDENT
    ]
    draft["household"] = household.household_number
    draft["members"] = [_snapshot(m) for m in members]
    draft["subjects"] = []
    draft["person_answers"] = {
        k: v for k, v in draft["person_answers"].items() if k.startswith("n")
    }
    draft["done"] = ["event"]
    if len(members) == 1 and draft["event"] != "birth":
        draft["subjects"] = [members[0].atena_number]
    _match_preapplication(draft)
    _save(request, draft)
    return _render(request, draft, "persons", focus="intake-subjects-first")


def _snapshot(resident: Any) -> dict[str, Any]:
    born = resident.birth_date
    return {
        "atena_number": resident.atena_number,
        "name": resident.name,
        "kana": resident.kana,
        "birth": born.text,
        "birth_iso": born.approx.isoformat() if born.approx else "",
        "sex": resident.get_sex_display(),
        "relationship": resident.relationship,
        "address": resident.address,
        "insurance": "kouki" if resident.kouki else "kokuho" if resident.kokuho else "",
        "pension": resident.pension_category or "",
        "child_allowance": resident.child_allowance,
    }


@require_POST
@never_cache
@intake_role_required
def intake_postal(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The postal-code button of step 3: the address block again, filled in."""
    draft = _draft(request)
    if draft["event"] not in ("move_in", "move_within"):
        raise Http404
    data = request.POST.copy()
    message, ok = "", False
    code = data.get("address-postal_code", "")
    try:
        found = postal_lookup(code)
    except PostalCodeError:
        message = _("郵便番号は7桁の数字で入力してください。")
    else:
        if found is None:
            message = _("郵便番号 %(code)s の住所は見つかりません。") % {"code": code}
        else:
            data["address-postal_code"] = f"{found.postal_code[:3]}-{found.postal_code[3:]}"
            data["address-prefecture"] = found.prefecture
            data["address-city"] = found.city
            data["address-machiaza"] = found.town
            message, ok = (
                _("%(address)s を入れました。番地を入力してください。") % {"address": str(found)},
                True,
            )
    form = AddressForm(prefix="address", move_in=draft["event"] == "move_in")
    form.initial = {
        name: data.get(form.add_prefix(name), "")
        for name in form.fields
        if form.add_prefix(name) in data
    }
    form.initial["from_abroad"] = data.get("address-from_abroad") in ("on", "true", "1")
    # the button is replaced: the focus goes on to what the clerk types next
    form.fields["banchi" if ok else "postal_code"].widget.attrs["autofocus"] = True
    context = {"address_form": form, "postal_message": message, "postal_ok": ok}
    if not _partial(request):
        return redirect(f"{_base(request)}?step=questions")
    return render(request, "counter/intake_address.html", context)


@require_POST
@never_cache
@intake_role_required
def intake_confirm(request: HttpRequest, lg_code: str) -> HttpResponse:
    """確定: the registry change, the visit, the tasks and the events in one transaction."""
    draft = _draft(request)
    if not _reachable(draft, "preview"):
        return _render(request, draft, "event")
    ticket = _ticket(draft)
    try:
        result = life_event_confirm(
            data=intake_data(draft),
            actor=request.user,
            terminal=_terminal(request),
            ticket=ticket,
        )
    except (IntakeError, NavigatorInputError) as error:
        response = _render(request, draft, "preview", problems=list(error.errors), failed=True)
        if not _partial(request):
            response.status_code = 400
        return response
    if draft.get("preapplication"):
        found = selectors.preapplication_get(code=draft["preapplication"])
        if found is not None:
            # expired in the meantime: the intake itself is recorded
            with contextlib.suppress(services.PreApplicationError):
                services.preapplication_mark_used(
                    preapplication=found, actor=request.user, terminal=_terminal(request)
                )
    request.session.pop(SESSION_KEY, None)
    url = reverse("counter:intake_done", args=[lg_code, result.visit.public_code])
    if _partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@never_cache
@intake_role_required
def intake_cancel(request: HttpRequest, lg_code: str) -> HttpResponse:
    """中止: the draft is dropped (nothing was written)."""
    draft = _draft(request)
    request.session.pop(SESSION_KEY, None)
    url = reverse("counter:call", args=[lg_code]) if draft.get("ticket") else _base(request)
    if _partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
@never_cache
@intake_role_required
def intake_done(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    """The result: the visit code, the status page, the tasks; printable."""
    visit = selectors.visit_by_public_code(code=code)
    if visit is None:
        raise Http404(_("受付番号が見つかりません。"))
    tasks = list(visit.tasks.order_by("id"))
    names = selectors.task_resident_names(
        atena_numbers=[t.person_atena for t in tasks],
        actor=request.user,
        terminal=_terminal(request),
        function="counter:intake",
    )
    groups: list[dict[str, Any]] = []
    for task in tasks:
        if not groups or groups[-1]["code"] != task.department:
            groups.append(
                {"code": task.department, "name": task.department_name or task.department,
                 "tasks": []}
            )  # fmt: skip
        groups[-1]["tasks"].append(
            {"task": task, "person": names.get(task.person_atena, "世帯"),
             "due_text": _due_text(task.due.isoformat()) if task.due else ""}
        )  # fmt: skip
    documents_url = ""
    for name in ("counter:visit_documents", "counter:documents"):
        try:
            documents_url = reverse(name, args=[lg_code, visit.public_code])
        except NoReverseMatch:
            continue
        break
    ticket = visit.ticket
    return render(
        request,
        "counter/intake_done.html",
        {
            "visit": visit,
            "event_label": EVENT_LABELS.get(visit.event_type, visit.event_type),
            "event_date_text": f"{format_wareki(visit.event_date)}（{visit.event_date}）",
            "groups": groups,
            "task_count": len(tasks),
            "status_url": reverse("counter:visit_status", args=[lg_code, visit.public_code]),
            "documents_url": documents_url,
            "ticket": ticket,
            "ticket_serving": ticket is not None and ticket.status == TicketStatus.SERVING,
        },
    )

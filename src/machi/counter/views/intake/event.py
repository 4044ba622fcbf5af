"""Step 1, 届出: the event, its date and optionally a resident's pre-application code
(its answers are loaded into the draft)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from machi.counter import selectors, services
from machi.counter.forms_intake import PERSON_QUESTIONS, EventForm
from machi.counter.models.tickets import TicketStatus
from machi.counter.views.intake._shared import (
    _focus,
    _mark_done,
    _new_draft,
    _render,
    _save,
    _summary,
    _terminal,
    _ticket,
    register_step,
)
from machi.japanese import DateParseError, format_date, parse_date


def _event_context(
    request: HttpRequest, draft: dict[str, Any], form: EventForm | None = None, **extra: Any
) -> dict[str, Any]:
    if form is None:
        form = EventForm(
            initial={"event": draft["event"], "date": draft["date"],
                     "preapplication": draft["preapplication"]}
        )  # fmt: skip
    errors = _summary([("", form)])
    if not errors:
        _focus(form, "event")
    return {"form": form, "errors": errors, **extra}


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
        date = date or shown_date(preapplication_input["event"]["date"])
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


def shown_date(text: str) -> str:
    """A date the page fills in for the clerk (the newborn's birth date from step 1's
    date, a pre-application's ISO dates) in the one display form, 令和8年12月1日, not as
    it was typed elsewhere (R8.12.1) or sent (2026-12-01); text that is no date is kept
    for the form to refuse."""
    try:
        return format_date(parse_date(text)) if text else ""
    except DateParseError:
        return text


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
                {"birth_date": shown_date(person["birth_date"]),
                 "nationality": "JP" if person.get("nationality") in ("JP", "") else "other",
                 "relationship": "世帯主" if person.get("householder") else "",
                 "name": "", "kana": "", "sex": "", "nationality_name": ""}
            )  # fmt: skip
            draft["person_answers"][f"n{index}"] = _answers_of(person)
    elif draft["event"] == "birth":
        newborn = next((p for p in persons if p["id"] in subjects), None)
        if newborn is not None:
            draft["newcomers"] = [
                {"birth_date": shown_date(newborn["birth_date"]), "relationship": "子",
                 "nationality": "JP", "name": "", "kana": "", "sex": "", "nationality_name": ""}
            ]  # fmt: skip
            draft["person_answers"]["n0"] = _answers_of(newborn)


register_step("event", context=_event_context, post=_post_event)

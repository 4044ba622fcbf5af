"""Step 2, 人: the household from a live registry search (events on residents;
「この世帯を選ぶ」 loads the residents, checkboxes say whom the event is about) and/or the
newcomers (転入: repeatable blocks; 出生: the newborn)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from machi.counter.forms_intake import NewcomerForm, SearchForm
from machi.counter.views.intake._shared import (
    _draft,
    _focus,
    _mark_done,
    _members_shown,
    _newcomers_shown,
    _reachable,
    _render,
    _save,
    _summary,
    _terminal,
    intake_role_required,
    register_step,
)
from machi.counter.views.intake.event import _answers_of, shown_date
from machi.registry import selectors as registry
from machi.registry.models import Status

MAX_NEWCOMERS = 10
SEARCH_LIMIT = 20
SUBJECT_LEGEND = {
    "move_out": gettext_lazy("転出する人"),
    "move_within": gettext_lazy("転居する人"),
    "death": gettext_lazy("亡くなった人"),
    "marriage": gettext_lazy("婚姻する人"),
    "divorce": gettext_lazy("離婚する人"),
    "household_change": gettext_lazy("世帯が変わる人"),
}


def _newcomer_forms(draft: dict[str, Any], data: Any = None) -> list[NewcomerForm]:
    if data is not None:
        count = _count(data)
        return [NewcomerForm(data, prefix=f"n{i}") for i in range(count)]
    newcomers = draft["newcomers"] or [_newcomer_initial(draft)]
    return [NewcomerForm(prefix=f"n{i}", initial=n) for i, n in enumerate(newcomers)]


def _newcomer_initial(draft: dict[str, Any]) -> dict[str, str]:
    if draft["event"] == "birth":
        return {"birth_date": shown_date(draft["date"]), "relationship": "子", "nationality": "JP"}
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
    _persons_autofocus(context, draft)
    return context


def _persons_autofocus(context: dict[str, Any], draft: dict[str, Any]) -> None:
    """Keyboard first: the step's first control takes the focus (the error summary does
    when there are errors)."""
    if context["errors"]:
        return
    newcomers = context["newcomers"] if context["newcomers_shown"] else []
    if context["is_birth"] and newcomers:
        _focus(newcomers[0], "name")
    elif context["members_shown"] and draft["household"]:
        if not context.get("focus") and not newcomers:
            context["focus"] = "intake-subjects-first"
        elif newcomers and context.get("focus") != "intake-subjects-first":
            _focus(newcomers[0], "name")
    elif context["members_shown"]:
        _focus(context["search_form"], "q")
    elif newcomers:
        added = str(context.get("focus", "")).startswith("id_n")
        _focus(newcomers[-1] if added else newcomers[0], "name")


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
        "born": born.to_dict(),  # shown with |jdate, like every date
        "birth_iso": born.approx.isoformat() if born.approx else "",
        "sex": resident.get_sex_display(),
        "relationship": resident.relationship,
        # the navigator's nationality (step 3 asks what the rules could read of it)
        "nationality": "JP" if resident.resident_type == "1" else (resident.nationality or "XX"),
        "address": resident.address,
        "insurance": "kouki" if resident.kouki else "kokuho" if resident.kokuho else "",
        "pension": resident.pension_category or "",
        "child_allowance": resident.child_allowance,
    }


register_step("persons", context=_persons_context, post=_post_persons)

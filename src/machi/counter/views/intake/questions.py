"""Step 3, 確認事項: only the questions that could still change the procedures, per
person and for the household (issue 12: ``question_relevance`` on the catalogue in
force, with what the registry and the page already know), the 届出人, the new address
(postal-code lookup), 転出先…

Which questions are shown depends on the answers on the page (国保 makes 葬祭費 and its
喪主 count; 国外から転入 drops the マイナンバーカード question): each control that can
change them re-renders the questions block on change (htmx, ``?refresh=1``). Without
JavaScript the answer arrives with 「次へ」: when it made a question appear that the page
did not show, the page comes back with it instead of going on. Answers to questions
that no longer matter are dropped, never stored nor sent to the navigator.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from machi.counter.forms_intake import (
    INSURANCE_CHOICES,
    PENSION_CHOICES,
    AddressForm,
    AnswersForm,
    HouseholdChangeForm,
    MoveOutForm,
    NotifierForm,
    PersonQuestionsForm,
)
from machi.counter.selectors.preapplications import relevant_questions
from machi.counter.views.intake._shared import (
    _base,
    _draft,
    _focus,
    _mark_done,
    _notifier_choices,
    _partial,
    _people,
    _render,
    _save,
    _summary,
    intake_role_required,
    register_step,
)
from machi.japanese import DateParseError, JapaneseDate, PostalCodeError, parse_date, postal_lookup
from machi.procedures.engine import QUESTION_FIELDS, NavigatorInputError, question_relevance
from machi.procedures.engine.catalogue import Catalogue
from machi.procedures.selectors import catalogue_effective
from machi.registry.relationships import HOUSEHOLDER

#: Step 3's forms besides the persons' (those of the event only when it has them).
FORMS = ("notifier_form", "answers_form", "address_form", "move_out_form", "household_form")
#: The query parameter of the re-render on change (nothing is stored then).
REFRESH = "refresh"
#: The hidden input listing the questions a block showed (``q-<key>-asked``,
#: ``answers-asked``): what the clerk saw, so an answer that makes a new question
#: matter brings the page back instead of taking the unseen question as "no".
ASKED = "asked"
_INSURANCE = frozenset(code for code, _label in INSURANCE_CHOICES if code)
_PENSION = {code: code or None for code, _label in PENSION_CHOICES}
_CHECKED = frozenset({"on", "true", "1", "True"})
#: Sent for a resident whose insurance no rule reads (not asked) and the registry does
#: not know: the navigator needs a value and every value gives the same procedures; it
#: is the stand-in ``question_relevance`` itself uses for an unknown insurance.
UNASKED_INSURANCE = "none"


# --- what is known ---------------------------------------------------------------------------


def _day(text: str) -> str | None:
    """The ISO date of a typed or registry date, or None when it has no full date."""
    try:
        date = parse_date(text)
    except DateParseError:
        return None
    return date.approx.isoformat() if date.approx is not None else None


def _birth(person: dict[str, Any]) -> Any:
    """The person's date of birth as a date value (for ``|jdate``), or None."""
    if born := (person["member"] or {}).get("born"):
        return JapaneseDate.from_dict(born)
    text = (person["newcomer"] or {}).get("birth_date")
    try:
        return parse_date(text) if text else None
    except DateParseError:
        return None


def _registry_known(person: dict[str, Any]) -> dict[str, Any]:
    """What the registry knows of a resident: 国保 or 後期 (not the other insurances), the
    pension category when recorded, and the 児童手当 the municipality pays."""
    member = person["member"]
    if member is None:
        return {}
    known: dict[str, Any] = {"child_allowance_recipient": bool(member.get("child_allowance"))}
    if member.get("insurance"):
        known["insurance"] = member["insurance"]
    if member.get("pension"):
        known["pension"] = member["pension"]
    return known


def _saved_known(draft: dict[str, Any], key: str) -> dict[str, Any]:
    """The answers stored for the person by an earlier pass of this step, or loaded from
    a pre-application (there only what the resident chose or said yes to counts: a "no"
    may be a question the public form did not ask)."""
    saved = draft["person_answers"].get(key)
    if not saved:
        return {}
    asked = draft.get("questions_asked", {}).get(key)
    if asked is None:
        return {
            name: (_PENSION.get(value) if name == "pension" else value)
            for name, value in saved.items()
            if name in QUESTION_FIELDS and value
        }
    known = {name: saved[name] for name in asked if name in saved}
    if "pension" in known:
        known["pension"] = _PENSION.get(known["pension"] or "")
    if not known.get("insurance"):
        known.pop("insurance", None)
    return known


def _asked(data: QueryDict, prefix: str, names: Any) -> tuple[list[str], bool]:
    """The questions a block showed, and whether the page said so. A post without the
    list (a client of its own) counts as having shown what it answers."""
    listed = data.get(f"{prefix}-{ASKED}")
    if listed is None:
        return [n for n in names if f"{prefix}-{n}" in data], False
    return [n for n in listed.split(",") if n], True


def _posted_known(data: QueryDict, prefix: str, asked: list[str]) -> dict[str, Any]:
    """The answers of the questions a person's block showed, as posted (a value the
    form will refuse is left unknown)."""
    known: dict[str, Any] = {}
    for name in asked:
        value = data.get(f"{prefix}-{name}")
        if name == "insurance":
            if value in _INSURANCE:
                known[name] = value
        elif name == "pension":
            if (value or "") in _PENSION:
                known[name] = _PENSION[value or ""]
        elif name in QUESTION_FIELDS:
            known[name] = value in _CHECKED
    return known


def _posted_answers(data: QueryDict, catalogue: Catalogue, pids: dict[str, str]) -> dict[str, Any]:
    """The household answers the page showed, as posted; a person answer as the
    person's navigator id (None: nobody of the household)."""
    known: dict[str, Any] = {}
    for key in _asked(data, "answers", sorted(catalogue.answer_keys))[0]:
        value = data.get(f"answers-{key}")
        if key in catalogue.person_answer_keys:
            if value == "":
                known[key] = None
            elif value in pids:
                known[key] = pids[value]
        elif key in catalogue.answer_keys:
            known[key] = value in _CHECKED
    return known


def _saved_answers(
    draft: dict[str, Any], catalogue: Catalogue, pids: dict[str, str]
) -> dict[str, Any]:
    """The household answers stored by an earlier pass (or a pre-application) that the
    catalogue still knows; a person answer as the person's navigator id."""
    known: dict[str, Any] = {}
    for key, value in draft["answers"].items():
        if key in catalogue.person_answer_keys:
            if value is None or value in pids:
                known[key] = pids.get(value) if value is not None else None
        elif key in catalogue.answer_keys and isinstance(value, bool):
            known[key] = value
    return known


def _saved_initial(draft: dict[str, Any], key: str) -> dict[str, Any]:
    """A person's stored answers to show again: those of questions the clerk saw (not
    the stand-in for an insurance that was not asked)."""
    saved = draft["person_answers"].get(key, {})
    asked = draft.get("questions_asked", {}).get(key)
    if asked is None:
        return dict(saved)
    return {n: v for n, v in saved.items() if n not in QUESTION_FIELDS or n in asked}


# --- which questions ---------------------------------------------------------------------


def _relevant(
    draft: dict[str, Any],
    catalogue: Catalogue,
    people: list[dict[str, Any]],
    known: dict[str, dict[str, Any]],
    answers: dict[str, Any],
    abroad: bool,
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """(person key → the questions that matter, the household answers that matter)."""
    event = draft["event"]
    pids = {person["key"]: f"p{index}" for index, person in enumerate(people, start=1)}
    persons = []
    for person in people:
        data = person["member"] or person["newcomer"] or {}
        birth = data.get("birth_iso") or _day(data.get("birth") or data.get("birth_date") or "")
        persons.append(
            {
                "id": pids[person["key"]],
                "birth_date": birth,
                "householder": data.get("relationship") == HOUSEHOLDER,
                "nationality": data.get("nationality") or "JP",
                **known.get(person["key"], {}),
            }
        )
    navigator_input = {
        "event": {
            "type": event,
            "date": _day(draft["date"]),
            "subjects": [pids[p["key"]] for p in people if p["subject"]],
            "from_abroad": abroad and event == "move_in",
            "to_abroad": abroad and event == "move_out",
        },
        "persons": persons,
        "answers": answers,
    }
    try:
        relevance = question_relevance(navigator_input, catalogue)
    except NavigatorInputError:
        # the preview (step 4) names the problem; until then ask every question the
        # event's rules read: asking too much is safe, too little is not
        fields, keys = relevant_questions(catalogue, event)
        every = tuple(name for name in QUESTION_FIELDS if name in fields)
        return {key: every for key in pids}, tuple(keys)
    by_key = {key: relevance.persons.get(pid, ()) for key, pid in pids.items()}
    return by_key, relevance.answers


def _questions_of(
    draft: dict[str, Any], person: dict[str, Any], relevant: tuple[str, ...]
) -> tuple[str, ...]:
    """What the person's block asks: the relevant questions, and what the event records
    in the registry whatever the rules read: a newcomer's insurance (国保・後期 on the new
    record) and, for the persons of a marriage or divorce, whether the name changes."""
    extra = set()
    if person["newcomer"] is not None:
        extra.add("insurance")
    if draft["event"] in ("marriage", "divorce") and person["subject"]:
        extra.add("name_changes")
    return tuple(name for name in QUESTION_FIELDS if name in relevant or name in extra)


# --- the forms -----------------------------------------------------------------------------


def _refresh_attrs(request: HttpRequest) -> dict[str, str]:
    """htmx on a control whose answer can change the questions: re-render the block."""
    url = reverse("counter:intake_step", args=[request.municipality.lg_code, "questions"])
    return {
        "hx-post": f"{url}?{REFRESH}=1",
        "hx-trigger": "change",
        "hx-target": "#intake-questions",
        "hx-select": "#intake-questions",
        "hx-swap": "outerHTML",
        "hx-sync": "closest form:replace",
    }


def _typed(data: QueryDict, form: forms.Form, names: Any) -> dict[str, Any]:
    """What the page holds for ``names`` of ``form`` (to show it again unbound)."""
    return {
        name: form.fields[name].widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name in names
        if name in form.fields
    }


def _question_forms(
    request: HttpRequest, draft: dict[str, Any], data: QueryDict | None = None, *,
    bind: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Step 3's forms: one per person, the household's answers, the event's own.

    ``data`` (a POST) is what the page holds: it says what is known and which questions
    it showed. ``bind``: validate it (「次へ」); otherwise the forms show it unbound (a
    re-render on change). ``new_questions`` tells whether the relevant questions include
    one the page did not show."""
    event = draft["event"]
    catalogue = catalogue_effective().catalogue
    people = _people(draft)
    pids = {person["key"]: f"p{index}" for index, person in enumerate(people, start=1)}
    refresh = _refresh_attrs(request)
    known: dict[str, dict[str, Any]] = {}
    shown: dict[str, list[str]] = {}
    listed: set[str] = set()  # the blocks whose page listed what they showed
    for person in people:
        key = person["key"]
        base = {**_registry_known(person), **_saved_known(draft, key)}
        if data is not None:
            shown[key], said = _asked(data, f"q-{key}", QUESTION_FIELDS)
            if said:
                listed.add(key)
            base = {**_registry_known(person), **_posted_known(data, f"q-{key}", shown[key])}
        known[key] = base
    if data is not None:
        answers = _posted_answers(data, catalogue, pids)
        shown_answers, said = _asked(data, "answers", sorted(catalogue.answer_keys))
        if said:
            listed.add("answers")
        abroad = (data.get("address-from_abroad") if event == "move_in"
                  else data.get("to_abroad")) in _CHECKED  # fmt: skip
    else:
        answers = _saved_answers(draft, catalogue, pids)
        shown_answers = []
        abroad = bool(draft["from_abroad"] if event == "move_in" else draft["to_abroad"])
    relevant, answer_keys = _relevant(draft, catalogue, people, known, answers, abroad)

    new_questions = False
    bound = data if data is not None and bind else None
    persons = []
    for person in people:
        key = person["key"]
        member = person["member"]
        questions = _questions_of(draft, person, relevant[key])
        if key in listed and set(questions) - set(shown[key]):
            new_questions = True
        saved = _saved_initial(draft, key)
        initial = {**_registry_known(person), **saved}
        if member is not None and not saved.get("insurance"):
            initial["insurance"] = member.get("insurance") or ""
        form = PersonQuestionsForm(
            bound,
            prefix=f"q-{key}",
            initial=initial,
            questions=questions,
            name_fields=event in ("marriage", "divorce") and person["subject"],
            relationship=event == "household_change",
            refresh=refresh,
        )
        if data is not None and bound is None:
            seen = [n for n in form.fields if n not in QUESTION_FIELDS or n in shown[key]]
            form.initial.update(_typed(data, form, seen))
        persons.append(
            {
                "form": form,
                "person": person,
                "birth": _birth(person),
                "prefilled": member is not None,
                "asked": ",".join(questions),
            }
        )
    if "answers" in listed and set(answer_keys) - set(shown_answers):
        new_questions = True
    people_choices = _notifier_choices(draft)
    answers_form = AnswersForm(
        bound,
        prefix="answers",
        keys=answer_keys,
        person_keys=catalogue.person_answer_keys,
        people=people_choices,
        initial={
            k: ("" if v is None else v) if k in catalogue.person_answer_keys else v
            for k, v in draft["answers"].items()
        },
        refresh=refresh,
    )
    if data is not None and bound is None:
        answers_form.initial.update(
            _typed(data, answers_form, [k for k in answer_keys if k in shown_answers])
        )
    municipality = request.municipality
    result: dict[str, Any] = {
        "persons": persons,
        "answers_form": answers_form,
        "answers_asked": ",".join(answer_keys),
        "address_form": None,
        "move_out_form": None,
        "household_form": None,
        "notifier_form": NotifierForm(
            bound,
            prefix="notifier",
            people=people_choices,
            initial=draft.get("notifier") or {},
        ),
        "new_questions": new_questions,
    }
    if event in ("move_in", "move_within"):
        initial = dict(draft["address"]) or {
            "prefecture": municipality.prefecture,
            "city": municipality.name,
        }
        initial.update(previous_address=draft["previous_address"], from_abroad=draft["from_abroad"])
        result["address_form"] = AddressForm(
            bound, prefix="address", initial=initial, move_in=event == "move_in", refresh=refresh
        )
    if event == "move_out":
        result["move_out_form"] = MoveOutForm(
            bound,
            initial={
                "destination": draft["destination"],
                "to_abroad": draft["to_abroad"],
                "destination_lg_code": draft.get("destination_lg_code", ""),
                "consent": draft.get("consent", False),
            },
            refresh=refresh,
        )
    if event == "household_change":
        result["household_form"] = HouseholdChangeForm(
            bound, initial={"household_number": draft["household_number"]}
        )
    if data is not None and bound is None:
        for name in FORMS:
            if name != "answers_form" and (form := result[name]) is not None:
                form.initial.update(_typed(data, form, form.fields))
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
        ("notifier_form", ""),
        ("answers_form", "世帯"),
        ("address_form", "新しい住所"),
        ("move_out_form", ""),
        ("household_form", ""),
    ):
        if bundle[key] is not None:
            labelled.append((label, bundle[key]))
    errors = _summary(labelled)
    if not errors and not extra.get("refreshed"):
        first = next((p["form"] for p in bundle["persons"] if p["form"].fields), None)
        if first is not None:
            _focus(first, next(iter(first.fields)))
    return {**bundle, "errors": errors, **extra}


def _post_questions(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    if request.GET.get(REFRESH):
        bundle = _question_forms(request, draft, request.POST, bind=False)
        return _render(request, draft, "questions", bundle=bundle, refreshed=True)
    bundle = _question_forms(request, draft, request.POST)
    if bundle["new_questions"]:
        # an answer made a question matter that the page did not show: show it
        bundle = _question_forms(request, draft, request.POST, bind=False)
        notice = _(
            "回答に合わせて確認事項が増えました。確認して、もう一度「次へ」を押してください。"
        )
        return _render(request, draft, "questions", bundle=bundle, notice=notice)
    forms_ = [p["form"] for p in bundle["persons"]] + [
        bundle[k] for k in FORMS if bundle[k] is not None
    ]
    if not all([form.is_valid() for form in forms_]):
        draft["done"] = ["event", "persons"]
        _save(request, draft)
        return _render(request, draft, "questions", bundle=bundle)
    asked: dict[str, list[str]] = {}
    for entry in bundle["persons"]:
        person, form = entry["person"], entry["form"]
        answers = dict(form.cleaned_data)
        asked[person["key"]] = [n for n in form.fields if n in QUESTION_FIELDS]
        if "insurance" not in answers and not (person["member"] or {}).get("insurance"):
            answers["insurance"] = UNASKED_INSURANCE
        draft["person_answers"][person["key"]] = answers
    draft["questions_asked"] = asked
    draft["answers"] = dict(bundle["answers_form"].cleaned_data)
    draft["notifier"] = dict(bundle["notifier_form"].cleaned_data)
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
    form = AddressForm(
        prefix="address", move_in=draft["event"] == "move_in", refresh=_refresh_attrs(request)
    )
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


register_step("questions", context=_questions_context, post=_post_questions)

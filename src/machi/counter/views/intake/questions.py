"""Step 3, 確認事項: what the registry cannot know (insurance, pension and the yes/no
questions the catalogue reads, prefilled from the registry where it knows), the
household's answers, the new address (postal-code lookup), 転出先…"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from machi.counter.forms_intake import (
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
from machi.japanese import PostalCodeError, postal_lookup
from machi.procedures.selectors import catalogue_effective

#: Step 3's forms besides the persons' (those of the event only when it has them).
FORMS = ("notifier_form", "answers_form", "address_form", "move_out_form", "household_form")


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
        "notifier_form": NotifierForm(
            data,
            prefix="notifier",
            people=_notifier_choices(draft),
            initial=draft.get("notifier") or {},
        ),
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
        ("notifier_form", ""),
        ("answers_form", "世帯"),
        ("address_form", "新しい住所"),
        ("move_out_form", ""),
        ("household_form", ""),
    ):
        if bundle[key] is not None:
            labelled.append((label, bundle[key]))
    errors = _summary(labelled)
    if not errors and bundle["persons"]:
        _focus(bundle["persons"][0]["form"], "insurance")
    return {**bundle, "errors": errors, **extra}


def _post_questions(request: HttpRequest, draft: dict[str, Any]) -> HttpResponse:
    bundle = _question_forms(request, draft, request.POST)
    forms_ = [p["form"] for p in bundle["persons"]] + [
        bundle[k] for k in FORMS if bundle[k] is not None
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


register_step("questions", context=_questions_context, post=_post_questions)

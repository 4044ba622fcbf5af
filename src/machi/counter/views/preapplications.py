"""Residents' pre-application (事前申請): "which procedures do I need?", without login.

``/<lg>/preapply/`` (public) in three steps, each a plain HTML form (no script needed):

1. the event and its date, and how many people the household has (GET);
2. the household, one block per person without names (「1人目」…): the questions the
   municipality's catalogue reads for that event (:func:`relevant_questions`) and the
   household's answers; 「人数を変更」 re-renders the blocks keeping what was entered
   (POST ``action=resize``);
3. the navigator's procedures by department with reasons and deadlines; 「窓口で使う
   番号を発行」 (POST ``action=issue``) saves the input (``preapplication_create``) and
   redirects to ``/<lg>/preapply/<code>/`` (public): the code, its QR code (the page's
   URL) and the result again, printable.

A bad answer is shown on the person's block and field, with the navigator's message
(``persons[1].birth_date: …`` → 「2人目」's 生年月日). The page is Japanese only for now
(its messages are not in the English catalogue yet), so it is rendered in Japanese
whatever the browser asks for.

Abuse: the input is bounded by the form (≤ 10 persons, fixed choices, dates of at most
20 characters) and again by the service; one IP address may take at most
:data:`~machi.counter.services.preapplications.ISSUE_LIMIT` codes in any hour, counted
in the municipality's database by ``preapplication_create`` (so across every web worker
and process). Behind the reverse proxy the address is the one the proxy saw
(``MACHI_PROXY_COUNT``, :mod:`machi.web.middleware`).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import segno
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from machi.counter.selectors.preapplications import (
    person_label,
    preapplication_code_normalise,
    preapplication_get,
    procedures_by_department,
    relevant_questions,
)
from machi.counter.services.preapplications import (
    MAX_PERSONS,
    PreApplicationError,
    PreApplicationRateLimited,
    preapplication_canonical,
    preapplication_create,
)
from machi.japanese import age
from machi.procedures.engine import (
    EVENT_LABELS,
    Catalogue,
    NavigatorInputError,
    RuleEvaluationError,
    navigate,
)
from machi.procedures.engine.navigator import PERSON_BOOLEANS
from machi.procedures.selectors import catalogue_effective
from machi.web.decorators import public_view
from machi.web.language import language_switch, shown_in_japanese

EVENTS = ("move_in", "move_out", "move_within", "birth", "death", "marriage", "divorce",
          "household_change")  # fmt: skip
EVENT_HELP = {
    "move_in": "ほかの市区町村や海外から引っ越してきた",
    "move_out": "ほかの市区町村や海外へ引っ越す",
    "move_within": "同じ市区町村の中で引っ越した",
    "birth": "子どもが生まれた",
    "death": "家族が亡くなった",
    "marriage": "結婚した（婚姻届を出した・出す）",
    "divorce": "離婚した（離婚届を出した・出す）",
    "household_change": "世帯主が変わる、世帯を分ける・いっしょにする",
}
DATE_LABEL = {
    "move_in": "引っ越した日（予定日）",
    "move_out": "引っ越す日（予定日）",
    "move_within": "引っ越した日（予定日）",
    "birth": "生まれた日",
    "death": "亡くなった日",
    "marriage": "婚姻届を出した日（予定日）",
    "divorce": "離婚届を出した日（予定日）",
    "household_change": "世帯が変わる日（予定日）",
}
HOUSEHOLD_HELP = {
    "move_in": "引っ越してきた後の世帯の全員を入力してください。",
    "move_out": "引っ越す前の世帯の全員を入力してください。",
    "move_within": "引っ越した後の世帯の全員を入力してください。",
    "birth": "生まれたお子さんを含めて、世帯の全員を入力してください。",
    "death": "亡くなった方を含めて、亡くなる前の世帯の全員を入力してください。",
    "marriage": "婚姻後の世帯の全員を入力してください。",
    "divorce": "離婚後の世帯の全員を入力してください。",
    "household_change": "変更後の世帯の全員を入力してください。",
}
SUBJECT_QUESTION = {
    "move_in": "この方も引っ越してきましたか",
    "move_out": "この方も引っ越しますか",
    "move_within": "この方も引っ越しましたか",
    "birth": "生まれたお子さんですか",
    "death": "亡くなった方ですか",
    "marriage": "婚姻する方ですか",
    "divorce": "離婚する方ですか",
    "household_change": "世帯が変わる方ですか",
}
SUBJECT_DEFAULT_YES = frozenset({"move_in", "move_out", "move_within", "household_change"})
INSURANCE_LABEL_BEFORE = frozenset({"move_out", "death"})
INSURANCE_CHOICES = [
    ("kokuho", "国民健康保険（国保）"),
    ("employee", "会社や役所の健康保険（社会保険・共済組合）"),
    ("kouki", "後期高齢者医療制度（75歳以上など）"),
    ("welfare", "生活保護（医療扶助）"),
    ("none", "加入していない"),
]
PENSION_CHOICES = [
    ("1", "第1号（自営業・学生・無職など）"),
    ("2", "第2号（会社員・公務員）"),
    ("3", "第3号（第2号の方に扶養されている配偶者）"),
    ("", "加入していない・わからない"),
]
NATIONALITY_CHOICES = [("JP", "日本"), ("other", "日本以外")]
QUESTIONS = {
    "householder": "世帯主ですか",
    "receives_pension": "年金を受け取っていますか",
    "civil_servant": "公務員ですか",
    "my_number_card": "マイナンバーカードを持っていますか",
    "seal_registered": "印鑑登録をしていますか",
    "care_certified": "要介護・要支援の認定を受けていますか",
    "disability_certificate": "障害者手帳を持っていますか",
    "child_allowance_recipient": "児童手当を受け取っていますか",
    "name_changes": "この届出で氏名（名字）が変わりますか",
    "custodial_parent": "離婚後、お子さんと暮らして養育しますか（親権者・監護者）",
}
ANSWER_QUESTIONS = {
    "has_dog": "犬を飼っていますか",
    "wants_seal_registration": "印鑑登録をしたい方はいますか（15歳以上の方）",
    "owns_real_estate": "亡くなった方は土地や建物を持っていましたか",
}
YES_NO = [("1", "はい"), ("0", "いいえ")]
FIELD_LABELS = {
    "birth_date": "生年月日",
    "subject": "出来事の対象",
    "insurance": "健康保険",
    "pension": "国民年金",
    "nationality": "国籍",
    **QUESTIONS,
}
_ERROR = re.compile(
    r"^(?P<where>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>\w+))?: (?P<text>.*)$", re.S
)


def _yes_no(label: str, *, initial: str | None = "0", required: bool = False) -> forms.Field:
    """はい / いいえ; an unanswered optional question counts as いいえ."""
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        widget=forms.RadioSelect,
        initial=initial,
        required=required,
        error_messages={"required": "「はい」か「いいえ」を選んでください。"},
    )


def _mark_errors(form: forms.Form) -> None:
    """Point each control with an error at its message (aria-describedby)."""
    for name, field in form.fields.items():
        bound = form[name]
        if name in form.errors:
            described = [f"{bound.auto_id}_feedback"]
            if field.help_text:
                described.append(f"{bound.auto_id}_helptext")
            field.widget.attrs["aria-describedby"] = " ".join(described)
            field.widget.attrs["aria-invalid"] = "true"


# --- forms --------------------------------------------------------------------------------


class EventForm(forms.Form):
    event = forms.ChoiceField(
        label="出来事",
        choices=[(code, EVENT_LABELS[code]) for code in EVENTS],
        widget=forms.RadioSelect,
        error_messages={"required": "出来事を選んでください。"},
    )
    date = forms.DateField(
        label="出来事の日",
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        widget=forms.DateInput(attrs={"type": "date", "min": "1900-01-01", "max": "2099-12-31"}),
        error_messages={
            "required": "日付を入力してください。",
            "invalid": "日付を 2026-04-03 の形で入力してください。",
        },
    )
    count = forms.TypedChoiceField(
        label="世帯の人数",
        choices=[(str(n), f"{n}人") for n in range(1, MAX_PERSONS + 1)],
        coerce=int,
        initial="1",
        help_text=f"{MAX_PERSONS}人まで入力できます。",
    )
    from_abroad = _yes_no("海外から引っ越してきましたか")
    to_abroad = _yes_no("海外へ引っ越しますか")

    def __init__(self, *args: Any, event: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if event is not None:
            self.fields["date"].label = DATE_LABEL[event]
        if event != "move_in":
            del self.fields["from_abroad"]
        if event != "move_out":
            del self.fields["to_abroad"]

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data["date"]
        if not 1900 <= day.year <= 2099:
            raise forms.ValidationError("日付は1900年から2099年の間で入力してください。")
        return day


class PersonForm(forms.Form):
    subject = _yes_no("", initial=None, required=True)
    birth_date = forms.CharField(
        label="生年月日",
        max_length=20,
        help_text="例: 1980-05-10、昭和55年5月10日、S55.5.10",
        error_messages={
            "required": "生年月日を入力してください。",
            "max_length": "生年月日は20文字以内で入力してください。",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 16}),
    )
    nationality = forms.ChoiceField(
        label="国籍", choices=NATIONALITY_CHOICES, widget=forms.RadioSelect, initial="JP"
    )
    insurance = forms.ChoiceField(
        label="",
        choices=INSURANCE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "健康保険を選んでください。"},
    )
    pension = forms.ChoiceField(
        label="国民年金の種別",
        choices=PENSION_CHOICES,
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )

    def __init__(
        self, *args: Any, event: str, number: int, questions: frozenset[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.number = number
        self.label = f"{number}人目"
        subject = self.fields["subject"]
        subject.label = SUBJECT_QUESTION[event]
        if event in SUBJECT_DEFAULT_YES:
            subject.initial = "1"
        self.fields["insurance"].label = (
            "加入していた健康保険" if event in INSURANCE_LABEL_BEFORE else "出来事の後の健康保険"
        )
        for name in PERSON_BOOLEANS:
            if name in questions:
                initial = "1" if name == "householder" and number == 1 else "0"
                self.fields[name] = _yes_no(QUESTIONS[name], initial=initial)
        if "pension" not in questions:
            del self.fields["pension"]

    def person(self, pid: str) -> dict[str, Any]:
        data = self.cleaned_data
        person: dict[str, Any] = {
            "id": pid,
            "birth_date": data.get("birth_date", ""),
            "nationality": data.get("nationality") or "JP",
            "insurance": data.get("insurance") or None,
            "pension": data.get("pension") or None,
        }
        for name in PERSON_BOOLEANS:
            if name in self.fields:
                person[name] = data.get(name) == "1"
        return person


class AnswersForm(forms.Form):
    def __init__(self, *args: Any, keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in keys:
            label = ANSWER_QUESTIONS.get(key, f"{key}（この自治体の追加の質問）")
            self.fields[key] = _yes_no(label)

    def answers(self) -> dict[str, bool]:
        return {key: self.cleaned_data.get(key) == "1" for key in self.fields}


# --- building the page ---------------------------------------------------------------------


class Household:
    """Step 2's forms: the event form, one form per person, the household's answers."""

    def __init__(
        self, catalogue: Catalogue, event: str, count: int, data: Any, *, bound: bool
    ) -> None:
        self.event = event
        questions, answer_keys = relevant_questions(catalogue, event)

        def make(cls: type[forms.Form], prefix: str, **kwargs: Any) -> forms.Form:
            if bound:
                return cls(data, prefix=prefix, **kwargs)
            form = cls(prefix=prefix, **kwargs)
            # Re-shown without errors (人数を変更, 回答を修正): keep what was entered.
            form.initial = {
                name: data[form.add_prefix(name)]
                for name in form.fields
                if form.add_prefix(name) in data
            }
            return form

        self.event_form = make(EventForm, "e", event=event)
        self.persons = [
            make(PersonForm, f"p{n}", event=event, number=n, questions=questions)
            for n in range(1, count + 1)
        ]
        self.answers_form = make(AnswersForm, "a", keys=answer_keys)
        self.general_errors: list[str] = []

    @property
    def forms(self) -> list[forms.Form]:
        return [self.event_form, *self.persons, self.answers_form]

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self.forms])  # every form: all errors
        if valid and not any(p.cleaned_data.get("subject") == "1" for p in self.persons):
            self.event_form.add_error(
                None,
                f"「{SUBJECT_QUESTION[self.event]}」に「はい」と答えた方が1人以上必要です。",
            )
            valid = False
        return valid

    def navigator_input(self) -> dict[str, Any]:
        event = self.event_form.cleaned_data
        persons = [form.person(f"p{form.number}") for form in self.persons]
        subjects = [
            f"p{form.number}" for form in self.persons if form.cleaned_data["subject"] == "1"
        ]
        return {
            "event": {
                "type": self.event,
                "date": event["date"].isoformat(),
                "subjects": subjects,
                "from_abroad": event.get("from_abroad") == "1",
                "to_abroad": event.get("to_abroad") == "1",
            },
            "persons": persons,
            "answers": self.answers_form.answers(),
        }

    def add_navigator_errors(self, error: NavigatorInputError) -> None:
        """``persons[1].birth_date: …`` → 「2人目」's 生年月日, and so on."""
        for message in error.errors:
            match = _ERROR.match(message)
            if match is None:
                self.general_errors.append(message)
                continue
            where, index, name, text = match["where"], match["index"], match["field"], match["text"]
            form: forms.Form | None = None
            if where == "persons" and index is not None and int(index) < len(self.persons):
                form = self.persons[int(index)]
            elif where == "event":
                form = self.event_form
            elif where == "answers":
                form = self.answers_form
            if form is None:
                self.general_errors.append(message)
            else:
                form.add_error(name if name in form.fields else None, text)

    def carried(self) -> list[tuple[str, str]]:
        """Every answer as (name, value), for the hidden fields of step 3."""
        pairs = [("e-event", self.event), ("e-count", str(len(self.persons)))]
        for form in self.forms:
            for name in form.fields:
                key = form.add_prefix(name)
                if key not in ("e-event", "e-count") and key in form.data:
                    pairs.append((key, str(form.data[key])[:20]))
        return pairs

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(where, message, anchor) for the summary at the top of the page."""
        summary: list[tuple[str, str, str]] = [("", e, "") for e in self.general_errors]
        for form in self.forms:
            if not form.is_bound:
                continue
            label = getattr(form, "label", "")
            for name, errors in form.errors.items():
                field = FIELD_LABELS.get(name) or (
                    form.fields[name].label if name in form.fields else ""
                )
                where = " ".join(part for part in (label, field) if part)
                anchor = form[name].auto_id if name in form.fields else ""
                if anchor and isinstance(form.fields[name].widget, forms.RadioSelect):
                    anchor += "_0"
                summary.extend((where, str(text), anchor) for text in errors)
        return summary


def _event_and_count(data: Any) -> tuple[str | None, int]:
    event = data.get("e-event")
    try:
        count = int(data.get("e-count", "1"))
    except (TypeError, ValueError):
        count = 1
    return (event if event in EVENTS else None), min(max(count, 1), MAX_PERSONS)


def _step1(request: HttpRequest, form: EventForm, status: int = 200) -> HttpResponse:
    if form.is_bound:
        _mark_errors(form)
    events = list(zip(form["event"], [EVENT_HELP[code] for code in EVENTS], strict=True))
    return render(
        request, "counter/preapply.html", {"step": 1, "form": form, "events": events}, status=status
    )


def _step2(
    request: HttpRequest, household: Household, status: int = 200, notice: str = ""
) -> HttpResponse:
    for form in household.forms:
        if form.is_bound:
            _mark_errors(form)
    event_form = household.event_form
    return render(
        request,
        "counter/preapply.html",
        {
            "step": 2,
            "household": household,
            "event_label": EVENT_LABELS[household.event],
            "household_help": HOUSEHOLD_HELP[household.event],
            "date_value": (
                event_form.data.get("e-date", "")
                if event_form.is_bound
                else event_form.initial.get("date", "")
            ),
            "errors": household.error_summary(),
            "count_choices": EventForm.base_fields["count"].choices,
            "notice": notice,
        },
        status=status,
    )


def _result_context(navigator_input: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    result = navigate(navigator_input, catalogue)
    event = navigator_input["event"]
    day = datetime.date.fromisoformat(event["date"])
    order = {p["id"]: i for i, p in enumerate(navigator_input["persons"])}
    groups = procedures_by_department(result, navigator_input, catalogue)
    persons = [
        {
            "label": person_label(p["id"], order),
            "birth_date": datetime.date.fromisoformat(p["birth_date"]),
            "age": age(datetime.date.fromisoformat(p["birth_date"]), day),
            "subject": p["id"] in event["subjects"],
        }
        for p in navigator_input["persons"]
    ]
    return {
        "event_label": EVENT_LABELS[event["type"]],
        "event_date": day,
        "persons": persons,
        "groups": groups,
        "count": len(result["procedures"]),
        "kinds": sum(len(group.procedures) for group in groups),
    }


# --- views -------------------------------------------------------------------------------------


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def preapply(request: HttpRequest, lg_code: str) -> HttpResponse:
    if request.method == "GET" and (switch := language_switch(request)) is not None:
        return switch
    shown_in_japanese(request)
    with translation.override("ja"):
        return _preapply(request, lg_code)


def _preapply(request: HttpRequest, lg_code: str) -> HttpResponse:
    catalogue = catalogue_effective().catalogue
    if request.method == "GET":
        if "e-event" not in request.GET:
            return _step1(request, EventForm(prefix="e"))
        if "change" in request.GET:  # 「出来事を選び直す」: step 1 with the earlier values
            initial = {name: request.GET.get(f"e-{name}") for name in ("event", "date", "count")}
            return _step1(request, EventForm(prefix="e", initial=initial))
        form = EventForm(request.GET, prefix="e")
        if not form.is_valid():
            return _step1(request, form, status=400)
        event, count = form.cleaned_data["event"], form.cleaned_data["count"]
        initial = {"e-date": form.cleaned_data["date"].isoformat()}
        return _step2(request, Household(catalogue, event, count, initial, bound=False))

    event, count = _event_and_count(request.POST)
    if event is None:
        return _step1(request, EventForm(request.POST, prefix="e"), status=400)
    action = request.POST.get("action", "check")
    shown = request.POST.get("e-shown")
    if action == "check" and shown not in (None, str(count)):
        # the number was changed without 「人数を変更」: show the blocks first
        household = Household(catalogue, event, count, request.POST, bound=False)
        return _step2(request, household, notice=f"世帯の人数を{count}人にしました。")
    if action in ("resize", "edit"):
        return _step2(request, Household(catalogue, event, count, request.POST, bound=False))
    household = Household(catalogue, event, count, request.POST, bound=True)
    if not household.is_valid():
        return _step2(request, household, status=400)
    try:
        canonical = preapplication_canonical(household.navigator_input())
    except NavigatorInputError as error:
        household.add_navigator_errors(error)
        return _step2(request, household, status=400)
    except RuleEvaluationError:
        household.general_errors.append(
            "この自治体の手続き目録に問題があり、判定できませんでした。窓口でおたずねください。"
        )
        return _step2(request, household, status=500)
    context = {
        "step": 3,
        "carried": household.carried(),
        **_result_context(canonical, catalogue),
    }
    if action == "issue":
        try:
            preapplication = preapplication_create(
                navigator_input=canonical, client_address=request.META.get("REMOTE_ADDR", "")
            )
        except PreApplicationRateLimited:
            context["issue_error"] = (
                "短い時間に多くの番号が発行されました。しばらくしてからもう一度お試しください。"
            )
            return render(request, "counter/preapply.html", context, status=429)
        except (NavigatorInputError, PreApplicationError) as error:
            context["issue_error"] = " ".join(getattr(error, "messages", [str(error)]))
            return render(request, "counter/preapply.html", context, status=400)
        return redirect("counter:preapply_show", lg_code=lg_code, code=preapplication.code)
    return render(request, "counter/preapply.html", context)


@public_view
@require_GET
@never_cache
def preapply_show(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    """The saved result under its code, with the code large and its QR code (printable)."""
    if (switch := language_switch(request)) is not None:
        return switch
    shown_in_japanese(request)
    normalised = preapplication_code_normalise(code)
    if normalised is not None and normalised != code:
        return redirect("counter:preapply_show", lg_code=lg_code, code=normalised)
    preapplication = preapplication_get(code=code)
    with translation.override("ja"):
        if preapplication is None:
            return render(request, "counter/preapply_show.html", {"step": 4}, status=404)
        url = request.build_absolute_uri(
            reverse("counter:preapply_show", args=[lg_code, preapplication.code])
        )
        qr_svg = (
            segno.make(url, error="m")
            .svg_inline(
                omitsize=True, title=f"事前申請番号 {preapplication.display_code} のQRコード"
            )
            .replace("<svg ", '<svg role="img" ', 1)
        )
        context: dict[str, Any] = {
            "step": 4,
            "preapplication": preapplication,
            "qr_svg": qr_svg,
            "show_url": url,
        }
        try:
            context.update(
                _result_context(preapplication.navigator_input, catalogue_effective().catalogue)
            )
        except (NavigatorInputError, RuleEvaluationError):
            # the catalogue changed since: the counter will look at it again
            context["result_error"] = (
                "手続き目録が変わったため、この番号の手続き一覧を表示できません。"
                "番号は窓口でお使いいただけます。"
            )
        return render(request, "counter/preapply_show.html", context)

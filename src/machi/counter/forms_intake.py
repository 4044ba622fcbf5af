"""Forms of the life-event intake screen (``views/intake/``), one per step.

Dates are typed as written (和暦 or 西暦) and checked with ``machi.japanese.parse_date``;
the service checks everything again when the intake is confirmed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.easyja.english import term_lazy
from machi.japanese import DateParseError, parse_date
from machi.japanese.postal import PostalCodeError, normalize_postal_code
from machi.procedures.engine import EVENT_LABELS
from machi.registry.relationships import relationship_problem

EVENTS = ("move_in", "move_out", "move_within", "birth", "death", "marriage", "divorce",
          "household_change")  # fmt: skip
#: Events about residents already in the registry (the household is searched for).
ON_RESIDENTS = frozenset({"move_out", "move_within", "death", "marriage", "divorce",
                          "household_change", "birth"})  # fmt: skip
DATE_HELP = _("和暦・西暦のどちらでも（例: 令和8年4月3日、R8.4.3、2026-04-03）")
INSURANCE_CHOICES = [
    ("", _("（選んでください）")),
    ("kokuho", _("国民健康保険")),
    ("employee", _("被用者保険（社会保険・共済）")),
    ("kouki", _("後期高齢者医療")),
    ("welfare", _("生活保護（医療扶助）")),
    ("none", _("加入なし")),
]
PENSION_CHOICES = [
    ("", _("なし・不明")),
    ("1", _("第1号")),
    ("2", _("第2号")),
    ("3", _("第3号")),
]
SEX_CHOICES = [("", _("（選んでください）")), ("1", _("男")), ("2", _("女"))]
NATIONALITY_CHOICES = [("JP", _("日本")), ("other", _("日本以外"))]
RELATIONSHIP_SUGGESTIONS = ("世帯主", "妻", "夫", "子", "父", "母", "子の妻", "孫", "縁故者",
                            "同居人")  # fmt: skip
PERSON_QUESTIONS = {
    "my_number_card": _("マイナンバーカードあり"),
    "seal_registered": _("印鑑登録あり"),
    "care_certified": _("要介護・要支援の認定あり"),
    "disability_certificate": _("障害者手帳あり"),
    "child_allowance_recipient": _("児童手当の受給者"),
    "civil_servant": _("公務員"),
    "receives_pension": _("年金を受給"),
    "custodial_parent": _("子の親権者・監護者（離婚後に子と暮らす）"),
    "name_changes": _("この届出で氏名が変わる"),
}
ANSWER_QUESTIONS = {
    "has_dog": _("犬を飼っている"),
    "wants_seal_registration": _("印鑑登録を希望する方がいる（15歳以上）"),
    "owns_real_estate": _("亡くなった方が土地・建物を所有していた"),
    "funeral_host": _("葬儀を行った方（喪主・葬祭費を受け取る方）"),
    "heir_representative": _("相続人の代表者（固定資産税の届出をする方）"),
}


def _text(label: Any, *, required: bool = False, max_length: int = 100, **attrs: Any) -> Any:
    attrs.setdefault("autocomplete", "off")
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
    )


def clean_calendar_date(text: str, *, label: str) -> str:
    """A complete calendar date as typed (和暦 or 西暦); the text is kept as written.

    Errors name the field (*label*) and say why, so a message read away from
    its field (the error summary) still makes sense.
    """
    try:
        date = parse_date(text)
    except DateParseError as error:
        raise forms.ValidationError(
            "%(label)s: %(reason)s", code="date", params={"label": label, "reason": error.message}
        ) from error
    if date.non_calendar and date.approx is not None:
        raise forms.ValidationError(
            _("%(label)s: %(year)s年%(month)s月は%(last)s日までです（%(text)s）"),
            code="date",
            params={
                "label": label,
                "year": date.approx.year,
                "month": date.approx.month,
                "last": date.approx.day,
                "text": text,
            },
        )
    if date.unknown or date.approx is None or date.circa:
        raise forms.ValidationError(
            _("%(label)s: 「%(text)s」は年月日のそろった日付で入力してください。"),
            code="date",
            params={"label": label, "text": text},
        )
    return text


class EventForm(forms.Form):
    """Step 1: the event, its date and (optionally) the resident's pre-application code."""

    event = forms.ChoiceField(
        label=_("届出の種類"),
        choices=[(code, term_lazy(EVENT_LABELS[code])) for code in EVENTS],
        widget=forms.RadioSelect,
        required=False,
    )
    date = _text(_("異動日"), max_length=40)
    preapplication = _text(
        _("事前申請の番号（あれば）"),
        max_length=80,
        autocapitalize="characters",
        spellcheck="false",
    )

    def __init__(self, *args: Any, with_preapplication: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].help_text = DATE_HELP
        self.fields["preapplication"].help_text = _(
            "住民が事前に調べた番号（例: ACEF-GH34）。入力すると回答を読み込みます。"
        )
        if not with_preapplication:
            del self.fields["preapplication"]

    def clean_date(self) -> str:
        text = self.cleaned_data["date"].strip()
        return clean_calendar_date(text, label=str(self.fields["date"].label)) if text else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("preapplication", "").strip():
            return data  # the event and date may come from the pre-application
        if not data.get("event") and "event" not in self.errors:
            self.add_error("event", _("届出の種類を選んでください。"))
        if not data.get("date") and "date" not in self.errors:
            self.add_error("date", _("異動日を入力してください。"))
        return data


class SearchForm(forms.Form):
    q = _text(_("氏名・フリガナ"), type="search")
    birth = _text(_("生年月日"), max_length=40)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = _("漢字（異体字も可）・フリガナ・ひらがな・英字で探せます。")
        self.fields["birth"].help_text = _("和暦・西暦、年だけ・年月だけも可")


class NewcomerForm(forms.Form):
    """One newcomer (転入) or the newborn (出生)."""

    name = _text(_("氏名"), required=True)
    kana = _text(_("フリガナ"), max_length=200)
    sex = forms.ChoiceField(label=_("性別"), choices=SEX_CHOICES)
    birth_date = _text(_("生年月日"), required=True, max_length=40)
    relationship = _text(_("続柄"), required=True, max_length=50, list="intake-relationships")
    nationality = forms.ChoiceField(
        label=_("国籍"), choices=NATIONALITY_CHOICES, initial="JP", required=False
    )
    nationality_name = _text(_("国籍・地域（日本以外）"), max_length=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].help_text = _("和暦・西暦（例: 昭和60年6月15日）")
        for name in ("name", "sex", "birth_date", "relationship"):
            self.fields[name].error_messages["required"] = _("入力してください。")

    def clean_birth_date(self) -> str:
        text = self.cleaned_data["birth_date"].strip()
        label = str(self.fields["birth_date"].label)
        try:
            date = parse_date(text)
        except DateParseError as error:
            raise forms.ValidationError(
                "%(label)s: %(reason)s",
                code="date",
                params={"label": label, "reason": error.message},
            ) from error
        if date.approx is None:  # the API's words (procedures.engine.schema.parse_birth_date)
            raise forms.ValidationError(
                _("%(label)s: 年が不詳の生年月日では判定できません（%(text)s）"),
                code="date",
                params={"label": label, "text": text},
            )
        return text

    def clean_relationship(self) -> str:
        value = self.cleaned_data["relationship"].strip()
        if problem := relationship_problem(value):
            raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("nationality") == "other" and not data.get("nationality_name", "").strip():
            self.add_error("nationality_name", _("日本以外の国籍・地域を入力してください。"))
        return data


#: Widget attributes of a step-3 control whose answer can change which questions are
#: asked: on change, htmx re-renders the questions (see ``views/intake/questions.py``).
Refresh = dict[str, str]


def _refreshing(field: forms.Field, refresh: Refresh | None) -> forms.Field:
    if refresh:
        field.widget.attrs.update(refresh)
    return field


class PersonQuestionsForm(forms.Form):
    """Step 3 for one person: the questions that could still change the procedures
    (``questions``, names of ``QUESTION_FIELDS``: insurance, pension, yes/no), in the
    order given, and what the event records besides (new name, relationship)."""

    def __init__(
        self,
        *args: Any,
        questions: tuple[str, ...] | list[str],
        name_fields: bool = False,
        relationship: bool = False,
        refresh: Refresh | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for key in questions:
            if key == "insurance":
                field: forms.Field = forms.ChoiceField(
                    label=_("健康保険"), choices=INSURANCE_CHOICES, required=False
                )
            elif key == "pension":
                field = forms.ChoiceField(
                    label=_("国民年金"), choices=PENSION_CHOICES, required=False
                )
            elif key in PERSON_QUESTIONS:
                field = forms.BooleanField(label=PERSON_QUESTIONS[key], required=False)
            else:
                continue
            self.fields[key] = _refreshing(field, refresh)
        if name_fields:
            self.fields["new_name"] = _text(_("新しい氏名"))
            self.fields["new_kana"] = _text(_("新しいフリガナ"), max_length=200)
            self.fields["former_surname"] = _text(_("旧氏（記載を希望するとき）"), max_length=50)
        if relationship:
            self.fields["relationship"] = _text(
                _("変更後の続柄"), max_length=50, list="intake-relationships"
            )

    def clean_insurance(self) -> str:
        value = self.cleaned_data["insurance"]
        if not value:
            raise forms.ValidationError(_("健康保険を選んでください。"))
        return value

    def clean_relationship(self) -> str:
        value = self.cleaned_data["relationship"].strip()
        if value and (problem := relationship_problem(value)):
            raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("name_changes") and "new_name" in self.fields and not data.get("new_name"):
            self.add_error("new_name", _("氏名が変わるときは新しい氏名を入力してください。"))
        return data


#: The choice of a person answer (``answers.funeral_host``) meaning "nobody of the
#: household, or not known yet": the navigator's ``null``.
NOBODY = ""


class AnswersForm(forms.Form):
    """Step 3: the household's answers (the catalogue's ``answers.*``) that matter: a
    yes/no, or for an answer that names a person (``person_keys``: 喪主…) a choice among
    ``people`` (key, label); its cleaned value is the person's key, or ``None``."""

    def __init__(
        self,
        *args: Any,
        keys: tuple[str, ...] | list[str],
        person_keys: frozenset[str] = frozenset(),
        people: list[tuple[str, str]] | None = None,
        refresh: Refresh | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.person_keys = person_keys
        for key in keys:
            label = ANSWER_QUESTIONS.get(key) or _("%(key)s（この自治体の質問）") % {"key": key}
            if key in person_keys:
                field: forms.Field = forms.ChoiceField(
                    label=label,
                    choices=[*(people or []), (NOBODY, _("世帯以外の方・まだ決まっていない"))],
                    widget=forms.RadioSelect,
                    required=False,
                    error_messages={"invalid_choice": _("世帯の方の中から選んでください。")},
                )
            else:
                field = forms.BooleanField(label=label, required=False)
            self.fields[key] = _refreshing(field, refresh)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for key in self.person_keys:
            if key in data:
                data[key] = data[key] or None
        return data


class AddressForm(forms.Form):
    """Step 3 for a move in or within: the new address (and where they came from)."""

    postal_code = _text(_("郵便番号"), max_length=10, inputmode="numeric")
    prefecture = _text(_("都道府県"), required=True, max_length=10)
    city = _text(_("市区町村"), required=True, max_length=50)
    machiaza = _text(_("町字"), required=True)
    banchi = _text(_("番地"))
    katagaki = _text(_("方書（建物名・部屋番号）"), max_length=200)

    def __init__(
        self, *args: Any, move_in: bool = False, refresh: Refresh | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for name in ("prefecture", "city", "machiaza"):
            self.fields[name].error_messages["required"] = _("入力してください。")
        if move_in:
            self.fields["previous_address"] = _text(_("前住所"), max_length=300)
            # from abroad changes the questions (no マイナンバーカード 継続利用, 国民年金…)
            self.fields["from_abroad"] = _refreshing(
                forms.BooleanField(label=_("国外から転入"), required=False), refresh
            )

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        if not value:
            return ""
        try:
            return normalize_postal_code(value)
        except PostalCodeError as error:
            raise forms.ValidationError(_("郵便番号は7桁の数字で入力してください。")) from error

    def address(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name].strip()
            for name in ("postal_code", "prefecture", "city", "machiaza", "banchi", "katagaki")
            if self.cleaned_data.get(name, "").strip()
        }


class MoveOutForm(forms.Form):
    destination = _text(_("転出先"), required=True, max_length=300)
    to_abroad = forms.BooleanField(label=_("国外へ転出"), required=False)
    # 引越しワンストップ (machi.moves): a destination on the platform, with consent
    destination_lg_code = forms.ChoiceField(
        label=_("転出先の自治体（この基盤の自治体なら引越しワンストップ）"), required=False
    )
    consent = forms.BooleanField(
        label=_("転出先の自治体へ転入予約として情報を送ることに本人が同意した"), required=False
    )

    def __init__(self, *args: Any, refresh: Refresh | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destination"].error_messages["required"] = _("転出先を入力してください。")
        _refreshing(self.fields["to_abroad"], refresh)  # abroad changes the questions
        from machi.moves.selectors import destination_choices

        self.fields["destination_lg_code"].choices = [
            ("", _("基盤にない自治体（転出証明書）")),
            *destination_choices(),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("destination_lg_code") and data.get("to_abroad"):
            self.add_error("destination_lg_code", _("国外への転出では自治体を選べません。"))
        elif data.get("destination_lg_code") and not data.get("consent"):
            self.add_error(
                "consent", _("転出先の自治体へ転入予約を送るには、本人の同意を確認してください。")
            )
        return data


class HouseholdChangeForm(forms.Form):
    household_number = _text(
        _("移る先の世帯番号（新しい世帯をつくるときは空欄）"), max_length=20, inputmode="numeric"
    )


#: ``NotifierForm``'s choice for someone from outside the household.
NOTIFIER_AGENT = "agent"
AGENT_RELATIONSHIP_SUGGESTIONS = ("親族", "法定代理人", "任意代理人", "知人", "葬儀社",
                                  "施設の職員")  # fmt: skip


class NotifierForm(forms.Form):
    """Step 3: the 届出人 — who came to the counter: one of the persons concerned, or an
    agent (代理人) with the relationship. Printed on the forms' 届出人 boxes."""

    who = forms.ChoiceField(label=_("届出人（窓口に来た方）"), widget=forms.RadioSelect)
    agent_name = _text(_("代理人の氏名"))
    agent_kana = _text(_("代理人のフリガナ"))
    agent_relationship = _text(
        _("届出の対象の方との関係"), max_length=40, list="intake-agent-relationships"
    )
    agent_address = _text(_("代理人の住所"), max_length=200)

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        """``people``: (key, label) of the persons who may be the notifier."""
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [*people, (NOTIFIER_AGENT, _("代理人（世帯以外の方）"))]
        self.fields["who"].error_messages["required"] = _("届出人を選んでください。")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("who") != NOTIFIER_AGENT:
            for name in ("agent_name", "agent_kana", "agent_relationship", "agent_address"):
                data[name] = ""
            return data
        for name, message in (
            ("agent_name", _("代理人の氏名を入力してください。")),
            ("agent_relationship", _("関係を入力してください（例: 親族、知人）。")),
        ):
            if not data.get(name, "").strip() and name not in self.errors:
                self.add_error(name, message)
        return data

"""Forms of the registry staff screens: the search and the change filings.

Dates are typed in any usual form (和暦 or 西暦) and parsed with ``machi.japanese.parse_date``;
its message, naming the field, is shown next to it. A date cleans to its canonical form
(:func:`machi.japanese.dates.canonical_date`): the record keeps the date, not the keystrokes.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from machi.japanese import DateParseError, JapaneseDate, parse_date
from machi.japanese.dates import canonical_date
from machi.registry.selectors import SearchError, birth_range

DATE_HELP = _("和暦・西暦のどちらでも（例: 令和8年4月1日、R8.4.1、2026-04-01）")
_POSTAL = re.compile(r"^\d{7}$")
_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,20}$")


def _text(label: Any, *, required: bool = False, max_length: int = 100, **attrs: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
    )


class JapaneseDateFormField(forms.CharField):
    """A date as written; cleans to a ``JapaneseDate``. Change dates must be real
    calendar days; ``allow_unknown`` admits the 不詳 forms (e.g. a death date)."""

    def __init__(self, *args: Any, allow_unknown: bool = False, **kwargs: Any) -> None:
        self.allow_unknown = allow_unknown
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", DATE_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> JapaneseDate | None:
        text = super().clean(value)
        if not text:
            return None
        # The message names the field: the error summary shows it away from its field.
        label = str(self.label or "")
        try:
            date = parse_date(text)
        except DateParseError as error:
            raise forms.ValidationError(
                "%(label)s: %(reason)s",
                code="date",
                params={"label": label, "reason": error.message},
            ) from error
        if date.non_calendar:
            assert date.approx is not None
            raise forms.ValidationError(
                _(
                    "%(label)s: 「%(text)s」は暦にない日付です"
                    "（%(year)s年%(month)s月は%(last)s日まで）。"
                ),
                code="date",
                params={
                    "label": label,
                    "text": text,
                    "year": date.approx.year,
                    "month": date.approx.month,
                    "last": date.approx.day,
                },
            )
        if date.unknown and not self.allow_unknown:
            raise forms.ValidationError(
                _("%(label)s: 「%(text)s」は年月日がそろっていません。"),
                code="date",
                params={"label": label, "text": text},
            )
        # Stored as the office writes it (R8.4.1 → 令和8年4月1日), not as keyed in.
        return canonical_date(date)


class CalendarDateFormField(JapaneseDateFormField):
    """A complete calendar date (届出日), typed in 和暦 or 西暦; cleans to ``datetime.date``."""

    def clean(self, value: Any) -> datetime.date | None:  # type: ignore[override]
        date = super().clean(value)
        if date is None:
            return None
        if date.approx is None or date.approx > timezone.localdate():
            raise forms.ValidationError(_("届出日に未来の日付は指定できません。"), code="future")
        return date.approx


def _today() -> str:
    return timezone.localdate().isoformat()


# --- search -----------------------------------------------------------------------------

STATUS_RESIDENT = "resident"
STATUS_ALL = "all"


class ResidentSearchForm(forms.Form):
    q = _text(
        _("氏名・フリガナ"),
        max_length=100,
        autofocus=True,
        autocomplete="off",
        type="search",
    )
    birth = forms.CharField(
        label=_("生年月日"),
        required=False,
        max_length=40,
        help_text=_("西暦・和暦、年だけ・年月だけも可（例: 昭和60年6月15日、1985-06）"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    postal_code = _text(_("郵便番号"), max_length=8, autocomplete="off", inputmode="numeric")
    machiaza = _text(_("町字"), autocomplete="off")
    banchi = _text(_("番地"), autocomplete="off")
    number = _text(
        _("宛名番号・世帯番号・住民票コード"),
        max_length=20,
        autocomplete="off",
        inputmode="numeric",
    )
    status = forms.ChoiceField(
        label=_("状態"),
        required=False,
        choices=[
            (STATUS_RESIDENT, _("住民のみ")),
            (STATUS_ALL, _("すべて（転出・死亡・消除を含む）")),
        ],
        initial=STATUS_RESIDENT,
    )

    TERMS = ("q", "birth", "postal_code", "machiaza", "banchi", "number")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The live search swaps each field's message in (registry/_results.html): the
        # inputs point at its container whether or not it holds an error yet.
        for bound in self:
            ids = [f"{bound.auto_id}_helptext"] if bound.help_text else []
            bound.field.widget.attrs["aria-describedby"] = " ".join(
                [*ids, f"{bound.auto_id}_feedback"]
            )

    def clean_birth(self) -> str:
        text = self.cleaned_data["birth"].strip()
        if text:
            try:
                birth_range(text)
            except SearchError as error:
                raise forms.ValidationError(str(error), code="date") from error
        return text

    def clean_postal_code(self) -> str:
        text = unicodedata.normalize("NFKC", self.cleaned_data["postal_code"]).strip()
        text = text.replace("-", "").replace("〒", "")
        if text and not _POSTAL.match(text):
            raise forms.ValidationError(_("郵便番号は7桁の数字です（例: 100-0001）。"))
        return text

    def clean_number(self) -> str:
        text = unicodedata.normalize("NFKC", self.cleaned_data["number"]).strip()
        if text and not _NUMBER.match(text):
            raise forms.ValidationError(_("番号は半角の数字で入力してください。"))
        return text

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or STATUS_RESIDENT

    def has_terms(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.TERMS)


# --- My Number ----------------------------------------------------------------------------


class RevealForm(forms.Form):
    purpose = forms.CharField(
        label=_("利用目的"),
        max_length=300,
        help_text=_("個人番号を表示する理由（例: 国民健康保険の資格取得届の確認）。記録されます。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("個人番号を表示する目的を入力してください。")},
    )


# --- changes --------------------------------------------------------------------------


class _FilingForm(forms.Form):
    filed_on = CalendarDateFormField(label=_("届出日"), initial=_today)


class MoveWithinForm(_FilingForm):
    postal_code = _text(_("郵便番号"), max_length=8, inputmode="numeric", autocomplete="off")
    prefecture = _text(_("都道府県"), required=True, max_length=10)
    city = _text(_("市区町村"), required=True, max_length=50)
    machiaza = _text(_("町字"), required=True)
    banchi = _text(_("番地"))
    katagaki = _text(_("方書"), max_length=200)
    effective_on = JapaneseDateFormField(label=_("異動日"))
    together = forms.BooleanField(label=_("同じ世帯の住民も一緒に転居する"), required=False)

    field_order = [
        "postal_code", "prefecture", "city", "machiaza", "banchi", "katagaki",
        "effective_on", "filed_on", "together",
    ]  # fmt: skip

    def clean_postal_code(self) -> str:
        text = unicodedata.normalize("NFKC", self.cleaned_data["postal_code"]).strip()
        text = text.replace("-", "").replace("〒", "")
        if text and not _POSTAL.match(text):
            raise forms.ValidationError(_("郵便番号は7桁の数字です（例: 100-0001）。"))
        return text


class MoveOutForm(_FilingForm):
    destination = _text(_("転出先"), required=True, max_length=250)
    to_abroad = forms.BooleanField(label=_("国外への転出"), required=False)
    destination_lg_code = forms.ChoiceField(
        label=_("転出先の自治体（この基盤の自治体なら引越しワンストップ）"),
        required=False,
        help_text=_(
            "選ぶと、本人の同意のうえで転出先へ転入予約を送ります。"
            "ない場合は「基盤にない自治体」のまま（転出証明書）。"
        ),
    )
    consent = forms.BooleanField(
        label=_("転出先の自治体へ転入予約として情報を送ることに本人が同意した"),
        required=False,
    )
    effective_on = JapaneseDateFormField(label=_("異動日（予定日）"))
    together = forms.BooleanField(label=_("同じ世帯の住民も一緒に転出する"), required=False)

    field_order = [
        "destination", "to_abroad", "destination_lg_code", "consent", "effective_on",
        "filed_on", "together",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from machi.moves.selectors import destination_choices

        self.fields["destination_lg_code"].choices = [
            ("", _("基盤にない自治体（転出証明書）")),
            *destination_choices(),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("destination_lg_code"):
            if data.get("to_abroad"):
                self.add_error("destination_lg_code", _("国外への転出では自治体を選べません。"))
            elif not data.get("consent"):
                self.add_error(
                    "consent",
                    _("転出先の自治体へ転入予約を送るには、本人の同意を確認してください。"),
                )
        return data


class DeathForm(_FilingForm):
    effective_on = JapaneseDateFormField(label=_("死亡日"), allow_unknown=True)

    field_order = ["effective_on", "filed_on"]


class NameChangeForm(_FilingForm):
    reason = forms.ChoiceField(
        label=_("理由"),
        choices=[("marriage", _("婚姻")), ("divorce", _("離婚"))],
    )
    name = _text(_("新しい氏名"), required=True)
    kana = _text(_("フリガナ"), max_length=200)
    former_surname = _text(_("旧氏"), max_length=50)
    former_surname_kana = _text(_("旧氏フリガナ"), max_length=100)
    effective_on = JapaneseDateFormField(label=_("異動日"))

    field_order = [
        "reason", "name", "kana", "former_surname", "former_surname_kana",
        "effective_on", "filed_on",
    ]  # fmt: skip

"""The event form, shared by residents' groups (with their name and mail address) and
staff (official events). Field checks are the services' (event_data_errors), so a form
and a direct service call refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.localevents.models import Category, Report
from machi.localevents.services import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    EventData,
    event_data_errors,
)
from machi.requests.forms import mark_errors, plain

__all__ = ["EventForm", "ReportForm", "SubmitForm", "mark_errors"]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class EventForm(forms.Form):
    title_ja = forms.CharField(
        label=_("イベント名（日本語）"), max_length=MAX_TITLE, required=False
    )
    title_ja_easy = forms.CharField(
        label=_("イベント名（やさしい日本語）"), max_length=MAX_TITLE, required=False
    )
    title_en = forms.CharField(label=_("イベント名（英語）"), max_length=MAX_TITLE, required=False)
    title_kana = forms.CharField(
        label=_("イベント名（カタカナ）"), max_length=200, required=False,
        help_text=_("オープンデータに載ります。例: ナツマツリ"),
    )  # fmt: skip
    description_ja = forms.CharField(
        label=_("説明（日本語）"), max_length=MAX_DESCRIPTION, required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )  # fmt: skip
    description_ja_easy = forms.CharField(
        label=_("説明（やさしい日本語）"), max_length=MAX_DESCRIPTION, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    description_en = forms.CharField(
        label=_("説明（英語）"), max_length=MAX_DESCRIPTION, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    category = forms.ChoiceField(label=_("分類"))
    starts_on = forms.DateField(
        label=_("開始日"), widget=DATE,
        error_messages={"required": _("開始日を入力してください。"),
                        "invalid": _("日付の形が正しくありません（例: 2026-08-01）。")},
    )  # fmt: skip
    ends_on = forms.DateField(
        label=_("終了日"), widget=DATE,
        error_messages={"required": _("終了日を入力してください。"),
                        "invalid": _("日付の形が正しくありません（例: 2026-08-01）。")},
    )  # fmt: skip
    all_day = forms.BooleanField(label=_("終日"), required=False)
    start_time = forms.TimeField(
        label=_("開始時間"), required=False, widget=TIME,
        error_messages={"invalid": _("時刻の形が正しくありません（例: 10:00）。")},
    )  # fmt: skip
    end_time = forms.TimeField(
        label=_("終了時間"), required=False, widget=TIME,
        error_messages={"invalid": _("時刻の形が正しくありません（例: 16:00）。")},
    )  # fmt: skip
    place_name = forms.CharField(label=_("場所の名前"), max_length=100, required=False)
    address = forms.CharField(label=_("住所"), max_length=200, required=False)
    lat = forms.DecimalField(
        label=_("緯度"), required=False, max_digits=12, decimal_places=8,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"invalid": _("緯度は数値で入力してください（例: 35.6895）。")},
    )  # fmt: skip
    long = forms.DecimalField(
        label=_("経度"), required=False, max_digits=12, decimal_places=8,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"invalid": _("経度は数値で入力してください（例: 139.6917）。")},
    )  # fmt: skip
    fee_yen = forms.IntegerField(
        label=_("料金（円）"), required=False, initial=0,
        help_text=_("無料の場合は 0 にしてください。"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
        error_messages={"invalid": _("料金は円の整数で入力してください（無料は 0）。")},
    )  # fmt: skip
    fee_note = forms.CharField(label=_("料金の詳細"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("連絡先の名前"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("連絡先の電話番号"), max_length=30, required=False)
    contact_public = forms.BooleanField(
        label=_("連絡先をイベントのページに載せる"), required=False,
        help_text=_("チェックしない場合、連絡先は担当者だけが見ます。"),
    )  # fmt: skip
    url = forms.URLField(
        label=_("URL"), required=False, max_length=200, assume_scheme="https",
        error_messages={"invalid": _("URL の形が正しくありません（例: https://example.jp/）。")},
    )  # fmt: skip

    TEXT_FIELDS = ("title_kana", "place_name", "address", "fee_note", "contact_name",
                   "contact_phone")  # fmt: skip

    def __init__(self, *args: Any, categories: list[Category], language: str = "ja", **kw):
        super().__init__(*args, **kw)
        self.categories = {c.code: c for c in categories}
        self.fields["category"].choices = [
            ("", _("選んでください")), *((c.code, c.name_in(language)) for c in categories)
        ]  # fmt: skip

    @classmethod
    def initial_for(cls, event) -> dict[str, Any]:
        initial = {
            name: getattr(event, name)
            for name in ("starts_on", "ends_on", "start_time", "end_time", "lat", "long",
                         "fee_yen", "contact_public", "url", *cls.TEXT_FIELDS)
        }  # fmt: skip
        for lang in ("ja", "ja-easy", "en"):
            key = lang.replace("-", "_")
            initial[f"title_{key}"] = event.title.get(lang, "")
            initial[f"description_{key}"] = event.description.get(lang, "")
        initial["category"] = event.category.code
        initial["all_day"] = event.all_day
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str):
                data[name] = plain(value)
        category = self.categories.get(data.get("category", ""))
        if category is None or not data.get("starts_on") or not data.get("ends_on"):
            return data
        if data.get("all_day"):
            data["start_time"] = data["end_time"] = None
        elif data.get("start_time") is None and data.get("end_time") is None:
            if "start_time" not in self.errors:
                self.add_error("start_time", _("時間を入力するか、「終日」を選んでください。"))
            return data
        if "lat" in self.errors or "long" in self.errors or "fee_yen" in self.errors:
            return data
        event_data = self.event_data(data, category)
        for name, message in event_data_errors(event_data).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        return data

    def event_data(self, data: dict[str, Any] | None = None, category=None) -> EventData:
        data = data if data is not None else self.cleaned_data
        category = category or self.categories[data["category"]]

        def per_language(prefix: str) -> dict[str, str]:
            return {lang: data.get(f"{prefix}_{lang.replace('-', '_')}", "")
                    for lang in ("ja", "ja-easy", "en")}  # fmt: skip

        return EventData(
            title=per_language("title"), description=per_language("description"),
            starts_on=data["starts_on"], ends_on=data["ends_on"],
            start_time=data.get("start_time"), end_time=data.get("end_time"),
            place_name=data.get("place_name", ""), category=category,
            title_kana=data.get("title_kana", ""), address=data.get("address", ""),
            lat=data.get("lat"), long=data.get("long"),
            fee_yen=data.get("fee_yen") if data.get("fee_yen") is not None else 0,
            fee_note=data.get("fee_note", ""), contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
            contact_public=bool(data.get("contact_public")), url=data.get("url", ""),
        )  # fmt: skip


class SubmitForm(EventForm):
    organiser_name = forms.CharField(
        label=_("団体名"), max_length=100, required=False,
        help_text=_("主催者としてイベントのページに載ります。"),
    )  # fmt: skip
    email = forms.EmailField(
        label=_("メールアドレス"), max_length=254, required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("確認のメールが届きます。公開はされません。"),
        error_messages={
            "invalid": _("メールアドレスの形が正しくありません（例: taro@example.jp）。")
        },
    )  # fmt: skip
    # The honeypot: hidden from people (and assistive technology), filled by bots.
    website = forms.CharField(
        required=False, label=_("この欄には何も入力しないでください"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )  # fmt: skip

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("理由"), choices=Report.Reason.choices, widget=forms.RadioSelect,
        error_messages={"required": _("通報の理由を選んでください。")},
    )  # fmt: skip
    text = forms.CharField(
        label=_("詳しく（任意）"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

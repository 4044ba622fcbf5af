"""The resident's filing form: the category's typed questions become fields."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from machi.requests import abuse, photos
from machi.requests.models import AttributeType, Category
from machi.requests.services import MAX_DESCRIPTION

ATTR_PREFIX = "attr_"


def plain(value: str) -> str:
    """Plain text: control characters but line breaks and tabs dropped (escaped on output)."""
    return "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()


def mark_errors(form: forms.Form) -> None:
    """Point each control with an error at its message (aria-describedby)."""
    for name, field in form.fields.items():
        described = []
        if name in form.errors:
            described.append(f"{form[name].auto_id}_error")
            field.widget.attrs["aria-invalid"] = "true"
        if field.help_text:
            described.append(f"{form[name].auto_id}_help")
        if described:
            field.widget.attrs["aria-describedby"] = " ".join(described)


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class RequestForm(forms.Form):
    category = forms.ChoiceField(label=_("分類"), error_messages={
        "required": _("分類を選んでください。"),
        "invalid_choice": _("この分類は選べません。"),
    })  # fmt: skip
    description = forms.CharField(
        label=_("内容"), required=False, max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("どこで何が起きているかを書いてください。名前や電話番号は書かないでください。"),
        error_messages={"max_length": _("内容は %(limit_value)d 文字以内で入力してください。")},
    )  # fmt: skip
    lat = forms.DecimalField(
        label=_("緯度"), required=False, min_value=-90, max_value=90, decimal_places=6,
        max_digits=9, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"invalid": _("緯度は数値で入力してください（例: 35.6895）。")},
    )  # fmt: skip
    long = forms.DecimalField(
        label=_("経度"), required=False, min_value=-180, max_value=180, decimal_places=6,
        max_digits=9, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={"invalid": _("経度は数値で入力してください（例: 139.6917）。")},
    )  # fmt: skip
    address = forms.CharField(
        label=_("場所（住所・目印）"), required=False, max_length=200,
        help_text=_("地図で位置を選ばない場合は、住所か目印を書いてください。"),
        error_messages={"max_length": _("場所は %(limit_value)d 文字以内で入力してください。")},
    )  # fmt: skip
    # A plain Field: the uploads are checked one by one in clean_photos.
    photos = forms.Field(
        label=_("写真（3枚まで）"), required=False,
        widget=MultiFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        help_text=_("1枚8MBまで。位置情報や機種などの情報は消してから保存します。"),
    )  # fmt: skip
    email = forms.EmailField(
        label=_("メールアドレス（任意）"), required=False, max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("対応の状況をメールで受け取れます。確認のメールが届きます。公開はされません。"),
        error_messages={
            "invalid": _("メールアドレスの形が正しくありません（例: taro@example.jp）。")
        },
    )  # fmt: skip
    # The honeypot: hidden from people (and assistive technology), filled by bots.
    website = forms.CharField(
        required=False, label=_("この欄には何も入力しないでください"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )  # fmt: skip

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {c.code: c for c in categories}
        self.fields["category"].choices = [
            ("", _("選んでください")),
            *((c.code, c.name) for c in categories),
        ]
        for category in categories:
            for attribute in category.attributes.all():
                self.fields[self.attr_name(category, attribute)] = self._attr_field(attribute)

    @staticmethod
    def attr_name(category: Category, attribute: Any) -> str:
        return f"{ATTR_PREFIX}{category.code}__{attribute.code}"

    @staticmethod
    def _attr_field(attribute: Any) -> forms.Field:
        label = attribute.description
        choices = [(v["key"], v["name"]) for v in attribute.values]
        common = {"label": label, "required": False}
        kind = attribute.datatype
        if kind == AttributeType.TEXT:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        if kind == AttributeType.NUMBER:
            return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
        if kind == AttributeType.DATE:
            return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        if kind == AttributeType.SINGLE:
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        if kind == AttributeType.MULTIPLE:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        return forms.CharField(**common)

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))

    @property
    def category_obj(self) -> Category | None:
        return self.categories.get(self.cleaned_data.get("category", ""))

    def attribute_values(self) -> dict[str, Any]:
        category = self.category_obj
        if category is None:
            return {}
        return {
            a.code: self.cleaned_data.get(self.attr_name(category, a))
            for a in category.attributes.all()
        }

    def attribute_field_for(self, code: str) -> str:
        category = self.category_obj
        return f"{ATTR_PREFIX}{category.code}__{code}" if category else "category"

    def clean_description(self) -> str:
        text = plain(self.cleaned_data["description"])
        if problem := abuse.text_problem(text):
            raise forms.ValidationError(problem)
        return text

    def clean_address(self) -> str:
        text = plain(self.cleaned_data["address"])
        if "\n" in text:
            raise forms.ValidationError(_("場所は1行で入力してください。"))
        if problem := abuse.text_problem(text):
            raise forms.ValidationError(problem)
        return text

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if abuse.is_blocked(email):
            raise forms.ValidationError(_("このメールアドレスからは受け付けられません。"))
        return email

    def clean_photos(self) -> list[photos.Photo]:
        uploads = self.files.getlist(self.add_prefix("photos")) if self.files else []
        uploads = [u for u in uploads if u.size]
        if len(uploads) > photos.MAX_PHOTOS:
            raise forms.ValidationError(_("写真は3枚までです。"))
        cleaned = []
        for upload in uploads:
            try:
                cleaned.append(photos.clean(upload))
            except photos.PhotoError as error:
                raise forms.ValidationError(f"{upload.name[:80]}: {error}") from error
        return cleaned

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lat, long = data.get("lat"), data.get("long")
        if (lat is None) != (long is None) and "lat" not in self.errors:
            self.add_error("lat", _("緯度と経度は両方入力してください。"))
        elif lat is None and not data.get("address") and "address" not in self.errors:
            self.add_error("address", _("場所を地図で選ぶか、住所・目印を入力してください。"))
        return data
